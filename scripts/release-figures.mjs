#!/usr/bin/env node
// npm run release:figures: builds the release (npm run release:build, timed), then measures each
// artifact that runs on this machine: its tarball's size, its unpacked size, and its start time (from
// spawning it, as the engine does, to the port it prints on stdout; median of 5, with the range).
// linux-arm64 runs under qemu-user; windows-amd64's Node.js 24 does not start under Debian 12's Wine
// 8, so the same recipe with Node.js 22 and the universal .cmd stand for it there. Writes
// docs/release-figures.md. Needs Linux x64 with qemu-user-static, the arm64 C libraries and wine64
// (as .ci/run installs them).
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import {
  executableName,
  nodeBinary,
  packageInfo,
  pinnedNodeVersion,
  ROOT,
  tarballName,
  untarGz,
} from "./release/artifacts.mjs";

const RUNS = 5;
const WINE = "/usr/lib/wine/wine64";
const WINE_NODE = "22.23.3";
const { version } = packageInfo();
const work = mkdtempSync(join(tmpdir(), "release-figures-"));
const release = join(work, "release");

/** Seconds of a command, and its output. */
function timed(command, args, options = {}) {
  const started = process.hrtime.bigint();
  const out = execFileSync(command, args, { encoding: "utf8", ...options });
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, out };
}

/** Milliseconds from spawn to the port on stdout; the process (and `cleanup`'s) ended after. */
function startTime(command, args, env, cleanup = () => {}) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { cwd: work, env, stdio: ["ignore", "pipe", "ignore"] });
    let out = "";
    /** @type {number | undefined} */
    let ms;
    child.stdout.on("data", (d) => {
      out += d;
      if (ms === undefined && /^\d+\s*$/m.test(out)) {
        ms = Number(process.hrtime.bigint() - started) / 1e6;
        child.kill("SIGTERM");
      }
    });
    child.once("error", reject);
    child.once("exit", (code) => {
      cleanup();
      if (ms === undefined) reject(new Error(`${command} exited (${code}) before printing a port`));
      else resolve(ms);
    });
  });
}

async function median(label, start) {
  const times = [];
  for (let i = 0; i < RUNS; i++) times.push(await start());
  times.sort((a, b) => a - b);
  const ms = (t) => `${Math.round(t)} ms`;
  console.log(`${label}: ${times.map(ms).join(", ")}`);
  return `${ms(times[Math.floor(RUNS / 2)])} (${ms(times[0])} to ${ms(times.at(-1))})`;
}

const install = async (tarball, name) => {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  let unpacked = 0;
  for (const [file, { header, data }] of await untarGz(readFileSync(tarball))) {
    writeFileSync(join(dir, file), data, { mode: header.mode });
    unpacked += data.length;
  }
  return { dir, unpacked };
};
const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;

try {
  const build = timed(process.execPath, [join(ROOT, "scripts/release-build.mjs"), "--out", release], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  console.log(build.out.trim());
  execFileSync(
    process.execPath,
    [
      join(ROOT, "scripts/release-build.mjs"),
      ...["--out", join(work, "node22"), "--targets", "windows-amd64", "--node", WINE_NODE, "--no-universal"],
    ],
    { stdio: "ignore" },
  );
  const prefix = join(work, "wine");
  const wineEnv = { WINEPREFIX: prefix, WINEDEBUG: "-all" };
  execFileSync(WINE, ["wineboot", "-i"], { env: wineEnv, stdio: "ignore" });
  execFileSync(WINE, ["winecfg", "-v", "win10"], { env: wineEnv, stdio: "ignore" });
  const endWine = () => spawnSync("/usr/lib/wine/wineserver", ["-k"], { env: wineEnv, stdio: "ignore" });
  const winPath = (path) => `Z:${path.replaceAll("/", "\\")}`;
  const node22 = dirname((await nodeBinary("windows-amd64", WINE_NODE)).path);
  const addr = "127.0.0.1:1";

  const rows = [];
  const row = async (what, tarball, name, runsAs, start) => {
    const { dir, unpacked } = await install(tarball, name);
    rows.push([what, mb(statSync(tarball).size), mb(unpacked), await median(what, () => start(dir)), runsAs]);
  };
  const file = (target) => join(release, tarballName(version, target));
  await row(
    "universal",
    file("universal"),
    "universal",
    `POSIX launcher, this machine's Node.js ${process.version}`,
    (dir) => startTime(join(dir, "pulumi-resource-sendgrid-segment"), [addr], { PATH: dirname(process.execPath) }),
  );
  await row("linux-amd64", file("linux-amd64"), "linux-amd64", "natively", (dir) =>
    startTime(join(dir, executableName("linux-amd64")), [addr], {}),
  );
  await row(
    "linux-arm64",
    file("linux-arm64"),
    "linux-arm64",
    "under qemu-user (emulated: slower than on arm64)",
    (dir) =>
      startTime(
        "/usr/bin/qemu-aarch64-static",
        ["-L", "/usr/aarch64-linux-gnu", join(dir, executableName("linux-arm64")), addr],
        {},
      ),
  );
  await row(
    `windows-amd64, Node.js ${WINE_NODE} recipe`,
    join(work, "node22", tarballName(version, "windows-amd64")),
    "windows22",
    "under Wine 8 (the shipped Node.js 24 one does not start there)",
    (dir) =>
      startTime(
        "/bin/sh",
        ["-c", 'exec "$@" 2>/dev/null', "sh", WINE, join(dir, executableName("windows-amd64")), addr],
        wineEnv,
        endWine,
      ),
  );
  await row(
    "universal, .cmd launcher",
    file("universal"),
    "universal-cmd",
    `under Wine 8, with Windows' node.exe ${WINE_NODE}`,
    (dir) =>
      startTime(
        WINE,
        ["cmd", "/c", winPath(join(dir, "pulumi-resource-sendgrid-segment.cmd")), addr, "2>NUL"],
        { ...wineEnv, WINEPATH: winPath(node22) },
        endWine,
      ),
  );
  const windows = file("windows-amd64");
  rows.push([
    "windows-amd64 (shipped)",
    mb(statSync(windows).size),
    mb((await install(windows, "windows")).unpacked),
    "not run here",
    "read from its headers (tests/platforms/cross.test.ts); run on windows-2025 by the release workflow",
  ]);
  endWine();

  const cpu = cpus()[0]?.model ?? "unknown CPU";
  const text = `# Release figures

Written by \`npm run release:figures\` (scripts/release-figures.mjs) on ${new Date().toISOString().slice(0, 10)}:
${cpus().length} cores (${cpu}), Node.js ${process.version} running the build, executables embedding
Node.js ${pinnedNodeVersion()}. Sizes are the tarball's and its files' unpacked; the start time runs
from spawning the plugin (another folder, an empty environment, the engine's address) to the port
on its stdout, the median of ${RUNS} starts and their range. The machine is shared (load average
${loadavg()
  .map((l) => l.toFixed(1))
  .join(", ")} at the end of the run), so figures vary between runs by tens of percent.

\`npm run release:build\` (the universal tarball, linux-amd64, linux-arm64, windows-amd64 and
SHA256SUMS, Node.js binaries already in the cache): **${build.seconds.toFixed(1)} s**.

| artifact | tarball | unpacked | start to port | run |
| --- | --- | --- | --- | --- |
${rows.map((r) => `| ${r.join(" | ")} |`).join("\n")}

darwin-arm64 and darwin-amd64 are built and started on macOS runners by the release workflow,
not here.
`;
  writeFileSync(join(ROOT, "docs/release-figures.md"), text);
  console.log(`wrote ${join(ROOT, "docs/release-figures.md")}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
