// The artifacts for other platforms, on a Linux x64 machine (CI's): run under emulators where one
// runs them, and read from the binary where not. Needs Debian's qemu-user-static,
// libc6-arm64-cross, libstdc++6-arm64-cross and wine64 (.ci/run installs them).
//
// - linux-arm64: the executable under qemu-user, as the engine runs it.
// - windows-amd64: the shipped executable embeds Node.js 24, whose V8 does not start under Debian
//   12's Wine 8 ("Fatal process out of memory: SegmentedTable::InitializeTable"), so it is read
//   instead: PE32+ for AMD64, a console program, its entry point in an executable section, the SEA
//   resource holding the bundle, the fuse set, no (broken) Authenticode signature. The same recipe
//   with Node.js 22 (scripts/release-build.mjs --node 22.23.3) runs under Wine as the engine runs it,
//   and so does the universal tarball's .cmd launcher with Windows' node.exe. The release workflow
//   runs the shipped one on a Windows runner.
// - The universal tarball's POSIX launcher on a Node.js too old (18) and on the pinned one (24).
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../../emulator";
import { PACKAGE } from "../../provider/native/schema";
import { API_KEY, expectNoSecretPart } from "../support/fixtures";
import { artifacts, deploymentThrough, executableIn, installLikeEngine, REPO, VERSION } from "./engine";

const RELEASE = resolve(process.env.RELEASE_DIR ?? join(REPO, "dist/release"));
const QEMU = "/usr/bin/qemu-aarch64-static";
const ARM64_LIBS = "/usr/aarch64-linux-gnu";
const WINE = "/usr/lib/wine/wine64";
const WINE_NODE = "22.23.3";
const OLD_NODE = "18.20.8";
const NODE_MAJOR = Number(/\d+/.exec(JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")).engines.node)![0]);
const ADDR = ["127.0.0.1:1"];

let emulator: Emulator;
let work: string;
let program: string;
let prefix: string;
let bundle: Buffer;
let windowsBuildErrors: string;
const installed: Record<string, string> = {};

/** Wine's name for a Linux path (drive Z: is /). */
const winPath = (path: string) => `Z:${path.replaceAll("/", "\\")}`;
/** The environment Wine needs: its prefix, and quiet. */
const wineEnv = (extra: Record<string, string> = {}) => ({ WINEPREFIX: prefix, WINEDEBUG: "-all", ...extra });
/**
 * Runs a Windows command under Wine as the engine would run it, but for stderr: Node.js's stderr
 * stream fails on a Wine pipe ("open EBADF", as stdout's does; on Windows both are pipes), so it
 * goes to `errors`, a file. The port still arrives through the stdout pipe the test reads.
 */
const underWine = (errors: string, args: string[]) => ({
  command: "/bin/sh",
  args: ["-c", 'exec "$@" 2>>"$0"', errors, WINE, ...args],
});
/** Ends every Windows process of the test's Wine prefix (the engine kills a plugin's tree). */
const endWine = () => spawnSync("/usr/lib/wine/wineserver", ["-k"], { env: wineEnv(), stdio: "ignore" });

beforeAll(async () => {
  if (process.platform !== "linux" || process.arch !== "x64") throw new Error("cross.test.ts runs on Linux x64");
  const { nodeBinary, pinnedNodeVersion, tarballName, untarGz, BUNDLE } = await artifacts();
  emulator = await startEmulator({ apiKeys: [API_KEY] });
  work = mkdtempSync(join(tmpdir(), "cross-"));
  program = join(work, "program");
  mkdirSync(program);
  for (const target of ["linux-arm64", "windows-amd64", "universal"]) {
    installed[target] = await installLikeEngine(join(RELEASE, tarballName(VERSION, target)), join(work, target));
  }
  bundle = (await untarGz(readFileSync(join(RELEASE, tarballName(VERSION, "universal"))))).get(BUNDLE)!.data;
  // The Windows recipe with a Node.js that starts under Wine, built as the release builds.
  const windowsBuild = spawnSync(
    process.execPath,
    [
      join(REPO, "scripts/release-build.mjs"),
      ...["--out", join(work, "node22"), "--targets", "windows-amd64", "--node", WINE_NODE, "--no-universal"],
    ],
    { encoding: "utf8" },
  );
  if (windowsBuild.status !== 0)
    throw new Error(`the Windows build failed:\n${windowsBuild.stdout}${windowsBuild.stderr}`);
  // Quiet: LIEF's "The signature seems corrupted!" is gone with the signature, and nothing else is said.
  windowsBuildErrors = windowsBuild.stderr;
  installed.windows22 = await installLikeEngine(
    join(work, "node22", tarballName(VERSION, "windows-amd64")),
    join(work, "windows22"),
  );
  for (const [name, target, version] of [
    ["win22", "windows-amd64", WINE_NODE],
    ["old", "linux-amd64", OLD_NODE],
    ["pinned", "linux-amd64", pinnedNodeVersion()],
  ] as const) {
    installed[name] = dirname((await nodeBinary(target, version)).path);
  }
  // A Wine prefix of the test's own, reporting Windows 10 (what Node.js requires).
  prefix = join(work, "wine");
  execFileSync(WINE, ["wineboot", "-i"], { env: wineEnv(), stdio: "ignore" });
  execFileSync(WINE, ["winecfg", "-v", "win10"], { env: wineEnv(), stdio: "ignore" });
}, 300_000);
afterAll(async () => {
  if (prefix) endWine();
  await emulator?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** e_machine and e_entry of a 64-bit little-endian ELF file. */
function elf(file: Buffer) {
  expect(file.subarray(0, 6)).toEqual(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1]));
  return { machine: file.readUInt16LE(18), entry: file.readBigUInt64LE(24) };
}

/** The COFF and optional headers of a PE file, its sections and its data directories (Microsoft's PE format). */
function pe(file: Buffer) {
  expect(file.toString("latin1", 0, 2)).toBe("MZ");
  const at = file.readUInt32LE(0x3c);
  expect(file.toString("latin1", at, at + 4)).toBe("PE\0\0");
  const coff = at + 4;
  const optional = coff + 20;
  const sections = Array.from({ length: file.readUInt16LE(coff + 2) }, (_, i) => {
    const s = optional + file.readUInt16LE(coff + 16) + i * 40;
    return {
      name: file.toString("latin1", s, s + 8).replace(/\0+$/, ""),
      address: file.readUInt32LE(s + 12),
      size: file.readUInt32LE(s + 8),
      executable: (file.readUInt32LE(s + 36) & 0x20000000) !== 0,
    };
  });
  return {
    machine: file.readUInt16LE(coff),
    magic: file.readUInt16LE(optional),
    entry: file.readUInt32LE(optional + 16),
    subsystem: file.readUInt16LE(optional + 68),
    directory: (i: number) => [
      file.readUInt32LE(optional + 112 + 8 * i),
      file.readUInt32LE(optional + 112 + 8 * i + 4),
    ],
    sections,
  };
}

/** The single executable application's marks: the fuse set by postject, the bundle inside. */
function expectSea(file: Buffer) {
  expect(file.includes("NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2:1")).toBe(true);
  // The bundle is in the blob as text; a stretch from its middle stands for it.
  const middle = bundle.subarray(bundle.length / 2, bundle.length / 2 + 4096);
  expect(file.includes(middle)).toBe(true);
}

describe("linux-arm64", () => {
  it("is an AArch64 ELF executable with the bundle injected", () => {
    const file = readFileSync(executableIn(installed["linux-arm64"]!, false));
    const { machine, entry } = elf(file);
    expect(machine).toBe(183); // EM_AARCH64
    expect(entry).toBeGreaterThan(0n);
    expectSea(file);
  });

  it("runs under qemu-user as the engine runs it: another directory, empty environment, engine address", async () => {
    await deploymentThrough(emulator, {
      command: QEMU,
      args: ["-L", ARM64_LIBS, executableIn(installed["linux-arm64"]!, false), ...ADDR],
      cwd: program,
      env: {},
    });
  });
});

describe("windows-amd64", () => {
  it("is a PE32+ console program for AMD64, its entry point in an executable section, the bundle injected, unsigned", () => {
    const file = readFileSync(executableIn(installed["windows-amd64"]!, true));
    const headers = pe(file);
    expect(headers.machine).toBe(0x8664); // IMAGE_FILE_MACHINE_AMD64
    expect(headers.magic).toBe(0x20b); // PE32+
    expect(headers.subsystem).toBe(3); // IMAGE_SUBSYSTEM_WINDOWS_CUI
    const home = headers.sections.find((s) => headers.entry >= s.address && headers.entry < s.address + s.size);
    expect(home?.executable).toBe(true);
    expect(headers.directory(4)).toEqual([0, 0]); // no certificate table: the signature was removed, not broken
    expect(file.includes(Buffer.from("NODE_SEA_BLOB", "utf16le"))).toBe(true); // the resource's name
    expectSea(file);
  });

  it("builds without a word on stderr (LIEF warns of a corrupted signature while node.exe keeps one)", () => {
    expect(windowsBuildErrors).toBe("");
  });

  it(`the same recipe with Node.js ${WINE_NODE} runs under Wine as the engine runs it`, async () => {
    const errors = join(work, "windows22.stderr");
    await deploymentThrough(
      emulator,
      { ...underWine(errors, [executableIn(installed.windows22!, true), ...ADDR]), cwd: program, env: wineEnv() },
      { beforeStop: endWine },
    );
    expectNoSecretPart(readFileSync(errors, "utf8"));
  });
});

describe("the universal tarball's launchers", () => {
  it(`the .cmd under Wine, with Windows' node.exe ${WINE_NODE} on PATH, as the engine runs it (through cmd.exe)`, async () => {
    const cmd = winPath(executableIn(installed.universal!, true, ".cmd"));
    const errors = join(work, "universal-cmd.stderr");
    await deploymentThrough(
      emulator,
      {
        // stderr through cmd.exe's own redirection, which node.exe inherits as a Windows file handle.
        command: WINE,
        args: ["cmd", "/c", cmd, ...ADDR, `2>${winPath(errors)}`],
        cwd: program,
        env: wineEnv({ WINEPATH: winPath(installed.win22!) }),
      },
      { beforeStop: endWine },
    );
    expectNoSecretPart(readFileSync(errors, "utf8"));
  });

  it("the .cmd under Wine without node.exe says in one line which Node.js it needs, and exits 1", () => {
    const cmd = winPath(executableIn(installed.universal!, true, ".cmd"));
    const run = spawnSync(WINE, ["cmd", "/c", cmd, ...ADDR], { cwd: program, env: wineEnv(), encoding: "utf8" });
    expect({ status: run.status, stdout: run.stdout, stderr: run.stderr }).toEqual({
      status: 1,
      stdout: "",
      stderr: `pulumi-resource-${PACKAGE}: needs Node.js ${NODE_MAJOR} or newer on PATH, and finds no node.exe\r\n`,
    });
  });

  it("the POSIX launcher on the pinned Node.js (the one the executables embed), as the engine runs it", async () => {
    await deploymentThrough(emulator, {
      command: executableIn(installed.universal!, false),
      args: ADDR,
      cwd: program,
      env: { PATH: installed.pinned! },
    });
  });

  it(`the POSIX launcher on Node.js ${OLD_NODE} names the Node.js it needs and the one it found, and exits 1`, () => {
    const run = spawnSync(executableIn(installed.universal!, false), ADDR, {
      cwd: program,
      env: { PATH: installed.old! },
      encoding: "utf8",
    });
    expect({ status: run.status, stdout: run.stdout, stderr: run.stderr }).toEqual({
      status: 1,
      stdout: "",
      stderr: `pulumi-resource-${PACKAGE}: needs Node.js ${NODE_MAJOR} or newer; ${join(installed.old!, "node")} is v${OLD_NODE}\n`,
    });
  });
});
