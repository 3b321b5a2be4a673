// Issues 18 and 24: the packaged plugin, started exactly as the engine starts a plugin. The tarballs
// are built by `scripts/build-plugin.mjs` (what `npm run build:plugin` runs, with this Node.js),
// unpacked as `pulumi plugin install --file` unpacks them (tests/platforms/engine.ts), and started
// from another working directory with an empty environment (the universal one: PATH to a Node.js
// only), the engine's address as their argument; the port they print is read and GetPluginInfo,
// GetSchema, CheckConfig, Configure, the CRUD cycle, an import-style Read and Invoke are driven
// against the emulator. The same for the source path: `PulumiPlugin.yaml`'s folder run by the
// Node.js language host's `run-plugin`. Every platform's artifacts, with the pinned Node.js: `npm run
// test:platforms` (tests/platforms/).
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../emulator";
import { PACKAGE, RESOURCE_TOKEN } from "../provider/native/schema";
import {
  artifacts,
  deploymentThrough,
  drive,
  executableIn,
  installLikeEngine,
  REPO,
  VERSION,
} from "./platforms/engine";
import { startPlugin } from "./support/engine.cjs";
import { API_KEY } from "./support/fixtures";

const req = createRequire(join(REPO, "package.json"));
const TARBALL = `pulumi-resource-${PACKAGE}-v${VERSION}-linux-${process.arch === "arm64" ? "arm64" : "amd64"}.tar.gz`;
const UNIVERSAL = `pulumi-resource-${PACKAGE}-v${VERSION}-universal.tar.gz`;
/** What this build puts in the schema (the release build takes it from package.json's repository). */
const DOWNLOAD_URL = "github://api.github.com/example-owner";
const NODE_MAJOR = Number(/\d+/.exec(JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")).engines.node)![0]);

let emulator: Emulator;
let work: string;
let build: string;
let executable: string;
let universal: string;
let buildOutput: { status: number | null; stdout: string; stderr: string };

beforeAll(async () => {
  emulator = await startEmulator({ apiKeys: [API_KEY] });
  work = mkdtempSync(join(tmpdir(), "plugin-"));
  build = join(work, "build");
  buildOutput = spawnSync(
    process.execPath,
    [join(REPO, "scripts/build-plugin.mjs"), "--out", build, "--plugin-download-url", DOWNLOAD_URL],
    { encoding: "utf8" },
  );
  if (buildOutput.status !== 0) throw new Error(`build-plugin failed:\n${buildOutput.stdout}${buildOutput.stderr}`);
  executable = executableIn(await installLikeEngine(join(build, TARBALL), join(work, "plugins")), false);
  universal = executableIn(await installLikeEngine(join(build, UNIVERSAL), join(work, "plugins-universal")), false);
  mkdirSync(join(work, "program"));
}, 120_000);
afterAll(async () => {
  await emulator?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("the build", () => {
  it("prints what it wrote and nothing else: no warning (postject's LIEF notes among them)", () => {
    expect(buildOutput.stderr).toBe("");
    expect(buildOutput.stdout.split("\n").filter(Boolean)).toEqual([
      `${join(build, UNIVERSAL)} (${(statSync(join(build, UNIVERSAL)).size / 1e6).toFixed(1)} MB)`,
      `${join(build, TARBALL)} (${(statSync(join(build, TARBALL)).size / 1e6).toFixed(1)} MB)`,
      expect.stringMatching(new RegExp(`^${join(build, "bin", `pulumi-resource-${PACKAGE}`)} in \\d+\\.\\d s$`)),
    ]);
  });
});

describe("the executable tarball", () => {
  it("holds the executable, the licences and the README, named as Pulumi names plugin tarballs", async () => {
    expect(readdirSync(build).sort()).toEqual(["SHA256SUMS", "bin", TARBALL, UNIVERSAL].sort());
    const entries = await (await artifacts()).untarGz(readFileSync(join(build, TARBALL)));
    expect([...entries.keys()]).toEqual(["LICENSE", "README.md", "THIRD-PARTY-NOTICES", `pulumi-resource-${PACKAGE}`]);
    expect(entries.get(`pulumi-resource-${PACKAGE}`)!.header.mode).toBe(0o755);
    expect(statSync(executable).mode & 0o111).not.toBe(0);
    // The bundled packages' licences, the Apache-2.0 gRPC among them.
    expect(String(entries.get("THIRD-PARTY-NOTICES")!.data)).toMatch(/^@grpc\/grpc-js@[\d.]+ \(Apache-2\.0\)$/m);
  });

  it("runs as the engine runs it: another directory, empty environment, engine address argument", async () => {
    await deploymentThrough(
      emulator,
      { command: executable, args: ["127.0.0.1:1"], cwd: join(work, "program"), env: {} },
      { downloadURL: DOWNLOAD_URL },
    );
  }, 60_000);

  it("without an engine address it says how it is run, and exits 1", () => {
    const run = spawnSync(executable, [], { cwd: join(work, "program"), env: {}, encoding: "utf8" });
    expect({ status: run.status, stderr: run.stderr }).toEqual({
      status: 1,
      stderr: `usage: pulumi-resource-${PACKAGE} <engine address> (the Pulumi engine starts this plugin)\n`,
    });
  });
});

describe("the universal tarball (any OS and architecture with Node.js)", () => {
  it("holds the bundle, the Node.js check and both launchers, the POSIX one executable", async () => {
    const entries = await (await artifacts()).untarGz(readFileSync(join(build, UNIVERSAL)));
    expect([...entries.keys()]).toEqual([
      "LICENSE",
      "README.md",
      "THIRD-PARTY-NOTICES",
      "plugin.cjs",
      `pulumi-resource-${PACKAGE}`,
      `pulumi-resource-${PACKAGE}.cjs`,
      `pulumi-resource-${PACKAGE}.cmd`,
    ]);
    expect(entries.get(`pulumi-resource-${PACKAGE}`)!.header.mode).toBe(0o755);
    expect(statSync(join(build, UNIVERSAL)).size).toBeLessThan(5e6);
  });

  it("runs through the POSIX launcher on the Node.js on PATH, from another directory, with only PATH set", async () => {
    await deploymentThrough(
      emulator,
      {
        command: universal,
        args: ["127.0.0.1:1"],
        cwd: join(work, "program"),
        env: { PATH: dirname(process.execPath) },
      },
      { downloadURL: DOWNLOAD_URL },
    );
  }, 60_000);

  it("without Node.js on PATH, the launcher says in one line which Node.js it needs, and exits 1", () => {
    const run = spawnSync(universal, ["127.0.0.1:1"], {
      cwd: join(work, "program"),
      env: { PATH: join(work, "program") },
      encoding: "utf8",
    });
    expect({ status: run.status, stdout: run.stdout, stderr: run.stderr }).toEqual({
      status: 1,
      stdout: "",
      stderr: `pulumi-resource-${PACKAGE}: needs Node.js ${NODE_MAJOR} or newer on PATH, and finds no node\n`,
    });
  });

  it("also when it is run through a symlink elsewhere (a plugin put on PATH)", async () => {
    const link = join(work, "program", `pulumi-resource-${PACKAGE}`);
    execFileSync("ln", ["-s", universal, link]);
    try {
      const plugin = await startPlugin({
        command: link,
        args: ["127.0.0.1:1"],
        cwd: join(work, "program"),
        env: { PATH: `${dirname(process.execPath)}:/usr/bin:/bin` },
        bareEnv: true,
        req,
        type: RESOURCE_TOKEN,
      });
      try {
        expect(await plugin.getPluginInfo()).toEqual({ version: VERSION });
      } finally {
        await plugin.stop();
      }
    } finally {
      rmSync(link);
    }
  }, 60_000);
});

describe("the plugin from source (PulumiPlugin.yaml)", () => {
  it("declares the Node.js runtime", () => {
    expect(readFileSync(join(REPO, "plugin/PulumiPlugin.yaml"), "utf8")).toMatch(/^runtime: nodejs$/m);
  });

  it("runs under the Node.js language host's run-plugin, from the program's directory", async () => {
    const runPlugin = req.resolve("@pulumi/pulumi/cmd/run-plugin");
    const plugin = await startPlugin({
      command: process.execPath,
      args: [runPlugin, join(REPO, "plugin"), "127.0.0.1:1"],
      cwd: join(work, "program"),
      req,
      type: RESOURCE_TOKEN,
    });
    try {
      await drive(plugin, emulator);
    } finally {
      await plugin.stop();
    }
  }, 60_000);
});
