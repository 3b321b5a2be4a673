#!/usr/bin/env node
// `npm start` / `npm run destroy`: deploy the root program offline with the real Pulumi CLI against
// the bundled emulator. It starts the emulator on loopback (its integrations kept in a state file,
// so runs converge), uses a local file backend and the committed `emulator` stack (demo values,
// fixed demo passphrase: no prompt), runs `pulumi up --yes` (or `destroy --yes`), prints the
// integration ids, and always stops the emulator. Everything it writes is under .pulumi-local/.
//
// Which Pulumi CLI: the one pinned as the devDependency `pulumi` (Pulumi's official npm package,
// whose launcher installs that exact version into $PULUMI_HOME/versions/<version> on first use and
// runs it from there), so every contributor runs the same CLI; where it cannot be had (offline),
// a `pulumi` on PATH; else it says what is missing. Either must be 3.139 or newer.
// LOCAL_STACK_DOWNLOAD=0 never downloads (the pinned CLI is used only when already cached).
import { spawn, spawnSync } from "node:child_process";
import { accessSync, constants, mkdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const STACK = "emulator";
const PASSPHRASE = "emulator-demo"; // unlocks Pulumi.emulator.yaml's encryptionsalt; it protects no secret
const API_KEY = "SG.emulator-demo"; // the stack file's sendgrid:apiKey
// Where the backend and the emulator's state live (LOCAL_STACK_DIR: for tests).
const LOCAL = resolve(process.env.LOCAL_STACK_DIR ?? join(REPO, ".pulumi-local"));

const COMMAND = `npm ${process.argv[2] === "destroy" ? "run destroy" : "start"}`;
const MIN_VERSION = [3, 139, 0];
const INSTALL = `Install it, then run this again:
  curl -fsSL https://get.pulumi.com | sh          # Linux, macOS
  brew install pulumi/tap/pulumi                  # macOS with Homebrew
  choco install pulumi                            # Windows
  (all options: https://www.pulumi.com/docs/iac/download-install/)
`;

const isExecutable = (file) => {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).size > 0;
  } catch {
    return false;
  }
};

/** A `pulumi` on PATH, other than this repository's own launcher (npm puts node_modules/.bin first). */
function onPath(command) {
  const ours = join(REPO, "node_modules", ".bin");
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (resolve(dir) === ours) continue;
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The pinned CLI: its version, its launcher, and where the launcher caches that version. */
function pinned() {
  try {
    const pkg = createRequire(join(REPO, "package.json")).resolve("pulumi/package.json");
    const { version } = JSON.parse(readFileSync(pkg, "utf8"));
    const home = process.env.PULUMI_HOME || join(homedir(), ".pulumi");
    return {
      version,
      launcher: join(dirname(pkg), "run.js"),
      cached: join(home, "versions", version, "bin", "pulumi"),
    };
  } catch {
    return undefined;
  }
}

/**
 * The CLI to run, as a command and the arguments that come before pulumi's own, or what is
 * missing. The pinned one from its cache; else installed by its launcher (first use, needs the
 * internet); else a \`pulumi\` on PATH.
 */
function findCli() {
  const missing = [];
  const pin = pinned();
  if (!pin) missing.push("the pinned Pulumi CLI (devDependency `pulumi`) is not installed: run `npm ci`");
  else {
    const viaLauncher = {
      command: process.execPath,
      prefix: [pin.launcher],
      what: `the pinned Pulumi CLI ${pin.version}`,
    };
    if (isExecutable(pin.cached)) return viaLauncher;
    if (process.env.LOCAL_STACK_DOWNLOAD === "0") {
      missing.push(
        `the pinned Pulumi CLI ${pin.version} is not in ${dirname(dirname(pin.cached))}, and LOCAL_STACK_DOWNLOAD=0`,
      );
    } else {
      process.stderr.write(`installing the pinned Pulumi CLI ${pin.version} (first use) ...\n`);
      const install = spawnSync(process.execPath, [pin.launcher, "version"], { encoding: "utf8" });
      if (install.status === 0 && isExecutable(pin.cached)) return viaLauncher;
      const why = (install.stderr || install.error?.message || "").trim().split("\n").at(-1);
      missing.push(`the pinned Pulumi CLI ${pin.version} could not be installed (${why || `exit ${install.status}`})`);
    }
  }
  const path = onPath("pulumi");
  if (path) return { command: path, prefix: [], what: `pulumi on PATH (${path})` };
  missing.push("there is no `pulumi` on PATH");
  return { missing };
}

/** The CLI's version as [major, minor, patch], or undefined when it does not say. */
function versionOf(cli) {
  const r = spawnSync(cli.command, [...cli.prefix, "version"], { encoding: "utf8" });
  const m = /v?(\d+)\.(\d+)\.(\d+)/.exec(r.stdout ?? "");
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

const atLeast = (v, min) => (v[0] !== min[0] ? v[0] > min[0] : v[1] !== min[1] ? v[1] > min[1] : v[2] >= min[2]);

/** Start the emulator; resolves with its URL and a stop function. */
function startEmulator() {
  const child = spawn(
    process.execPath,
    [
      join(REPO, "dist/emulator/cli.js"),
      "--port",
      "0",
      "--state-file",
      join(LOCAL, "emulator-state.json"),
      "--api-key",
      API_KEY,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const exited = new Promise((r) => child.once("exit", r));
  const stop = async () => {
    if (child.exitCode === null) child.kill("SIGTERM");
    await exited;
  };
  return new Promise((resolveUrl, reject) => {
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolveUrl({ url: m[1], stop });
    });
    child.once("exit", (code) => reject(new Error(`the emulator exited (${code}) before it listened`)));
  });
}

function pulumi(cli, args, env) {
  process.stderr.write(`$ pulumi ${args.join(" ")}\n`);
  const result = spawnSync(cli.command, [...cli.prefix, ...args], {
    cwd: REPO,
    env,
    stdio: ["inherit", "inherit", "inherit"],
  });
  if (result.status !== 0) throw Object.assign(new Error(`pulumi ${args[0]} failed`), { exitCode: result.status ?? 1 });
}

async function main() {
  const mode = process.argv[2] ?? "up";
  if (mode !== "up" && mode !== "destroy") {
    process.stderr.write("usage: node scripts/local-stack.mjs [up|destroy]\n");
    return 2;
  }
  const cli = findCli();
  if (cli.missing) {
    process.stderr.write(
      `${COMMAND} needs the Pulumi CLI (3.139 or newer), and none could be had:\n` +
        cli.missing.map((m) => `  - ${m}\n`).join("") +
        INSTALL,
    );
    return 1;
  }
  const version = versionOf(cli);
  if (!version || !atLeast(version, MIN_VERSION)) {
    process.stderr.write(
      `${COMMAND} needs the Pulumi CLI 3.139 or newer (dynamic providers get stack config from 3.139 on); ` +
        `${cli.what} is ${version ? version.join(".") : "of an unknown version"}.\n${INSTALL}`,
    );
    return 1;
  }
  mkdirSync(join(LOCAL, "backend"), { recursive: true });
  const emulator = await startEmulator();
  const stopOnSignal = () => void emulator.stop().then(() => process.exit(130));
  process.once("SIGINT", stopOnSignal);
  process.once("SIGTERM", stopOnSignal);
  try {
    /** @type {NodeJS.ProcessEnv} */
    const env = {
      ...process.env,
      PULUMI_BACKEND_URL: `file://${join(LOCAL, "backend")}`,
      PULUMI_CONFIG_PASSPHRASE: PASSPHRASE,
      PULUMI_SKIP_UPDATE_CHECK: "true",
      SENDGRID_API_BASE_URL: emulator.url, // the stack file sets no apiBaseUrl: the port is new each run
    };
    delete env.PULUMI_CONFIG_PASSPHRASE_FILE;
    process.stderr.write(`emulator on ${emulator.url}; state in ${LOCAL}\n`);
    pulumi(cli, ["stack", "select", STACK, "--create"], env);
    if (mode === "destroy") {
      pulumi(cli, ["destroy", "--yes", "--stack", STACK], env);
      process.stdout.write("Destroyed: the emulator stack holds no integrations now.\n");
      return 0;
    }
    pulumi(cli, ["up", "--yes", "--stack", STACK], env);
    const ids = spawnSync(
      cli.command,
      [...cli.prefix, "stack", "output", "integrationIds", "--json", "--stack", STACK],
      {
        cwd: REPO,
        env,
        encoding: "utf8",
      },
    );
    if (ids.status !== 0) throw Object.assign(new Error("pulumi stack output failed"), { exitCode: ids.status ?? 1 });
    process.stdout.write(`Integration ids (live in the emulator, kept across runs):\n${ids.stdout.trim()}\n`);
    return 0;
  } catch (caught) {
    const error = /** @type {Error & { exitCode?: number }} */ (caught);
    process.stderr.write(`${error.message}\n`);
    return error.exitCode ?? 1;
  } finally {
    await emulator.stop();
  }
}

process.exitCode = await main();
