// Issue 18: the packaged plugin, started exactly as the engine starts a plugin. The tarball is
// built by `scripts/build-plugin.mjs` (what `npm run build:plugin` runs), unpacked as
// `pulumi plugin install --file` unpacks it, and the executable started from another working
// directory with an empty environment (no Node.js on PATH), the engine's address as its argument;
// the port it prints is read and GetPluginInfo, GetSchema, CheckConfig, Configure, the CRUD cycle,
// an import-style Read and Invoke are driven against the emulator. The same for the source path:
// `PulumiPlugin.yaml`'s folder run by the Node.js language host's `run-plugin`.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../emulator";
import { LIST_TOKEN, PACKAGE, RESOURCE_TOKEN } from "../provider/native/schema";
import { reveal, secret } from "../provider/native/secrets";
import { type ProviderServer, startPlugin } from "./support/engine.cjs";
import { SimEngine } from "./support/engine-sim";
import { API_KEY, expectNoSecretPart, WRITE_KEY } from "./support/fixtures";

const REPO = join(__dirname, "..");
const req = createRequire(join(REPO, "package.json"));
const VERSION = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")).version as string;
const ARCH = process.arch === "arm64" ? "arm64" : "amd64";
const TARBALL = `pulumi-resource-${PACKAGE}-v${VERSION}-linux-${ARCH}.tar.gz`;

let emulator: Emulator;
let work: string;
let executable: string;

const args = (extra: Record<string, unknown> = {}) => ({
  label: "From the executable",
  filters: { emailEvents: ["delivered", "open"] },
  properties: secret({ writeKey: WRITE_KEY, destinationRegion: "US" }),
  ...extra,
});

beforeAll(async () => {
  emulator = await startEmulator({ apiKeys: [API_KEY] });
  work = mkdtempSync(join(tmpdir(), "plugin-"));
  execFileSync(process.execPath, [join(REPO, "scripts/build-plugin.mjs"), "--out", join(work, "build")], {
    stdio: "pipe",
  });
  // Where `pulumi plugin install resource sendgrid-segment <v> --file <tarball>` puts it.
  const installed = join(work, "plugins", `resource-${PACKAGE}-v${VERSION}`);
  execFileSync("mkdir", ["-p", installed]);
  execFileSync("tar", ["-xzf", join(work, "build", TARBALL), "-C", installed]);
  executable = join(installed, `pulumi-resource-${PACKAGE}`);
  execFileSync("mkdir", ["-p", join(work, "program")]);
}, 120_000);
afterAll(async () => {
  await emulator?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Starts a plugin as the engine does, drives it through a deployment and an import, and stops it. */
async function deploymentThrough(start: Omit<Parameters<typeof startPlugin>[0], "req" | "type">) {
  const plugin = await startPlugin({ ...start, req, type: RESOURCE_TOKEN });
  try {
    await drive(plugin);
  } finally {
    await plugin.stop();
  }
}

/** The engine's calls, the way a deployment and an import make them. */
async function drive(plugin: ProviderServer) {
  expect(await plugin.getPluginInfo()).toEqual({ version: VERSION });
  const schema = await plugin.getSchema();
  expect(schema.name).toBe(PACKAGE);
  expect(schema.version).toBe(VERSION);
  expect(Object.keys(schema.resources)).toEqual([RESOURCE_TOKEN]);

  const config = { apiKey: secret(API_KEY), apiBaseUrl: emulator.url, requestTimeoutMs: "2000", version: VERSION };
  expect((await plugin.checkConfig({}, { ...config, region: "moon" })).failures.map((f) => f.property)).toEqual([
    "region",
  ]);
  expect((await plugin.checkConfig({}, config)).failures).toEqual([]);
  expect(await plugin.configureArgs(config)).toEqual({
    acceptSecrets: true,
    supportsPreview: true,
    acceptResources: false,
    acceptOutputs: false,
  });

  const engine = new SimEngine(plugin);
  expect(await engine.up("events", args())).toBe("create");
  const { id } = engine.state.get("events")!;
  expect(emulator.integrations().map((i) => i.integration_id)).toContain(id);
  expect(await engine.up("events", args({ label: "Renamed" }))).toBe("update");
  expect(await engine.refresh("events")).toBe("refreshed");

  const imported = await plugin.read("imported", id);
  expect(imported.id).toBe(id);
  expect(reveal(imported.inputs!).plain).toMatchObject({ label: "Renamed", properties: { writeKey: WRITE_KEY } });

  const listed = await plugin.invoke(LIST_TOKEN, {});
  expect((listed.return!.integrations as { integrationId: string }[]).map((i) => i.integrationId)).toContain(id);

  await engine.destroy("events");
  expect(emulator.integrations().map((i) => i.integration_id)).not.toContain(id);
  expectNoSecretPart(plugin.stderr);
}

describe("the plugin tarball", () => {
  it("holds the executable (and its licence), named as Pulumi names plugin tarballs", () => {
    expect(readdirSync(join(work, "build"))).toContain(TARBALL);
    const listing = execFileSync("tar", ["-tzf", join(work, "build", TARBALL)], { encoding: "utf8" });
    expect(listing.split("\n").filter(Boolean).sort()).toEqual(
      ["./", "./LICENSE", "./README.md", `./pulumi-resource-${PACKAGE}`].sort(),
    );
    expect(statSync(executable).mode & 0o111).not.toBe(0);
  });

  it("runs as the engine runs it: another directory, empty environment, engine address argument", async () => {
    await deploymentThrough({ command: executable, args: ["127.0.0.1:1"], cwd: join(work, "program"), bareEnv: true });
  }, 60_000);

  it("without an engine address it says how it is run, and exits 1", () => {
    let failure: { status?: number; stderr?: Buffer } = {};
    try {
      execFileSync(executable, [], { cwd: join(work, "program"), env: {}, stdio: "pipe" });
    } catch (error) {
      failure = error as typeof failure;
    }
    expect(failure.status).toBe(1);
    expect(String(failure.stderr)).toBe(
      `usage: pulumi-resource-${PACKAGE} <engine address> (the Pulumi engine starts this plugin)\n`,
    );
  });
});

describe("the plugin from source (PulumiPlugin.yaml)", () => {
  it("declares the Node.js runtime", () => {
    expect(readFileSync(join(REPO, "plugin/PulumiPlugin.yaml"), "utf8")).toMatch(/^runtime: nodejs$/m);
  });

  it("runs under the Node.js language host's run-plugin, from the program's directory", async () => {
    const runPlugin = req.resolve("@pulumi/pulumi/cmd/run-plugin");
    await deploymentThrough({
      command: process.execPath,
      args: [runPlugin, join(REPO, "plugin"), "127.0.0.1:1"],
      cwd: join(work, "program"),
    });
  }, 60_000);
});
