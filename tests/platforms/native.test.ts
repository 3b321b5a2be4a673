// The release artifacts for the machine this runs on, as the Pulumi engine runs them: this OS and
// architecture's self-contained executable (embedding the pinned Node.js) and the universal tarball
// on this machine's Node.js, through the launcher this OS's engine picks (`.cmd` on Windows, the
// POSIX one elsewhere: plugins.go `getCandidateExtensions`). Each is installed as `pulumi plugin
// install --file` installs it, started from another folder with an empty environment (Windows:
// SystemRoot, which Winsock needs; the universal one: PATH to a Node.js), and driven through a
// deployment against the emulator. The release workflow runs this file on each native runner
// (ubuntu x64 and arm64, macOS arm64 and x64, Windows) over the artifacts its build jobs made.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../../emulator";
import { PACKAGE } from "../../provider/native/schema";
import { API_KEY } from "../support/fixtures";
import { artifacts, deploymentThrough, executableIn, installLikeEngine, REPO, VERSION } from "./engine";

const RELEASE = resolve(process.env.RELEASE_DIR ?? join(REPO, "dist/release"));
const WINDOWS = process.platform === "win32";
const NODE_MAJOR = Number(/\d+/.exec(JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")).engines.node)![0]);

let emulator: Emulator;
let work: string;
let program: string;
let target: string;
let executable: string;
let universalDir: string;

/** What the environment must hold on this OS, beyond the test's own variables. */
const baseEnv = (): Record<string, string> => (WINDOWS ? { SystemRoot: process.env.SystemRoot ?? "C:\\Windows" } : {});
/** The engine kills a plugin's process tree (cmdutil.KillChildren); a `.cmd` leaves node.exe behind otherwise. */
const killTree = (plugin: { pid: number }) => {
  if (WINDOWS) spawnSync("taskkill", ["/pid", String(plugin.pid), "/T", "/F"], { stdio: "ignore" });
};
/** How the engine starts the universal plugin here: the launcher directly, or a `.cmd` through cmd.exe (as Windows does). */
const universalCommand = (addr: string[]) =>
  WINDOWS
    ? {
        command: process.env.ComSpec ?? "cmd.exe",
        args: ["/d", "/c", executableIn(universalDir, true, ".cmd"), ...addr],
      }
    : { command: executableIn(universalDir, false), args: addr };

beforeAll(async () => {
  const { hostTarget, tarballName } = await artifacts();
  target = hostTarget()!;
  for (const name of ["SHA256SUMS", tarballName(VERSION, target), tarballName(VERSION, "universal")]) {
    if (!existsSync(join(RELEASE, name))) {
      throw new Error(`${join(RELEASE, name)} is missing: run npm run release:build (or set RELEASE_DIR)`);
    }
  }
  emulator = await startEmulator({ apiKeys: [API_KEY] });
  work = mkdtempSync(join(tmpdir(), "platform-"));
  program = join(work, "program");
  mkdirSync(program);
  executable = executableIn(
    await installLikeEngine(join(RELEASE, tarballName(VERSION, target)), join(work, "a")),
    WINDOWS,
  );
  universalDir = dirname(
    executableIn(await installLikeEngine(join(RELEASE, tarballName(VERSION, "universal")), join(work, "b")), WINDOWS),
  );
}, 120_000);
afterAll(async () => {
  await emulator?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("the release folder", () => {
  it("SHA256SUMS holds each tarball's checksum, in sha256sum's format", () => {
    const lines = readFileSync(join(RELEASE, "SHA256SUMS"), "utf8").trimEnd().split("\n");
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) {
      const [, sum, name] = /^([0-9a-f]{64}) {2}(\S+\.tar\.gz)$/.exec(line) ?? [];
      expect(name, line).toBeDefined();
      expect(
        createHash("sha256")
          .update(readFileSync(join(RELEASE, name!)))
          .digest("hex"),
        name,
      ).toBe(sum);
    }
  });
});

describe(`this machine's executable (${process.platform}-${process.arch})`, () => {
  it("runs as the engine runs it: another directory, empty environment, engine address argument", async () => {
    await deploymentThrough(emulator, { command: executable, args: ["127.0.0.1:1"], cwd: program, env: baseEnv() });
  });
});

describe(`the universal tarball on this machine's Node.js (${process.version})`, () => {
  it(`runs through the ${WINDOWS ? ".cmd" : "POSIX"} launcher with only PATH (to Node.js) set`, async () => {
    await deploymentThrough(
      emulator,
      { ...universalCommand(["127.0.0.1:1"]), cwd: program, env: { ...baseEnv(), PATH: dirname(process.execPath) } },
      { beforeStop: killTree },
    );
  });

  it("without Node.js on PATH, says in one line which Node.js it needs, and exits 1", () => {
    const { command, args } = universalCommand(["127.0.0.1:1"]);
    const run = spawnSync(command, args, {
      cwd: program,
      env: { ...baseEnv(), PATH: program },
      encoding: "utf8",
    });
    expect({ status: run.status, stdout: run.stdout, stderr: run.stderr }).toEqual({
      status: 1,
      stdout: "",
      stderr: WINDOWS
        ? `pulumi-resource-${PACKAGE}: needs Node.js ${NODE_MAJOR} or newer on PATH, and finds no node.exe\r\n`
        : `pulumi-resource-${PACKAGE}: needs Node.js ${NODE_MAJOR} or newer on PATH, and finds no node\n`,
    });
  });
});
