#!/usr/bin/env node
// `npm start` / `npm run destroy`: deploy the root program offline with the real Pulumi CLI against
// the bundled emulator. It starts the emulator on loopback (its integrations kept in a state file,
// so runs converge), uses a local file backend and the committed `emulator` stack (demo values,
// fixed demo passphrase: no prompt), runs `pulumi up --yes` (or `destroy --yes`), prints the
// integration ids, and always stops the emulator. Everything it writes is under .pulumi-local/ (0700).
//
// Sealed off from SendGrid: the CLI's environment carries no SENDGRID_* variable from the user's
// shell; the default account and every account the demo stack names get the emulator's address and
// the key made for this run, and a stack or project file that sets an account's key, host or region
// itself (stack config wins over the environment) is refused. Secrets reach the children through
// the environment, never a command line (`ps` shows those to every user): the emulator's key in
// SENDGRID_EMULATOR_API_KEY, the demo passphrase in PULUMI_CONFIG_PASSPHRASE.
//
// Ctrl-C: the terminal sends SIGINT to the foreground process group, this script and the CLI. The
// emulator runs in a process group of its own, so it keeps answering while the CLI finishes its
// in-flight operations; it is stopped once the CLI has exited (and stops by itself if this script
// dies: it watches the IPC channel to it).
//
// Which Pulumi CLI: the one pinned as the devDependency `pulumi` (Pulumi's official npm package,
// whose launcher installs that exact version into $PULUMI_HOME/versions/<version> on first use and
// runs it from there), so every contributor runs the same CLI; where it cannot be had (offline),
// a `pulumi` on PATH; else it says what is missing. Either must be 3.139 or newer.
// LOCAL_STACK_DOWNLOAD=0 never downloads (the pinned CLI is used only when already cached).
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { accessSync, chmodSync, constants, existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const STACK = "emulator";
const PASSPHRASE = "emulator-demo"; // unlocks Pulumi.emulator.yaml's encryptionsalt; it protects no secret
// Where the backend and the emulator's state live (LOCAL_STACK_DIR), and the project the CLI runs
// in (LOCAL_STACK_PROJECT): for tests.
const LOCAL = resolve(process.env.LOCAL_STACK_DIR ?? join(REPO, ".pulumi-local"));
const PROJECT = resolve(process.env.LOCAL_STACK_PROJECT ?? REPO);
/** Text from outside (the CLI's output, file names) is shown escaped: the package's own rule. */
const { shown, jsonText } = createRequire(import.meta.url)(join(REPO, "dist/cli/terminal.js"));
/** The settings that decide where an account's requests go and with which key. */
const ROUTING = ["apiKey", "apiBaseUrl", "region"];
/** The config namespaces of the dynamic provider and of the plugin. */
const NAMESPACES = ["sendgrid", "sendgrid-segment"];

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

/**
 * The config of the demo stack and its project, each as `{ key: value }`, and the named accounts the
 * integrations use; or the reason it cannot be run sealed off (a setting that would route requests
 * elsewhere, since stack config wins over the environment).
 */
function demoConfig() {
  const read = (file) => {
    const path = join(PROJECT, file);
    if (!existsSync(path)) return {};
    const doc = parse(readFileSync(path, "utf8")) ?? {};
    const config = doc.config ?? {};
    // Pulumi.yaml holds `key: { value: ... }` (or a declaration); a stack file `key: value`.
    return Object.fromEntries(
      Object.entries(config).map(([key, value]) => [
        key,
        file === "Pulumi.yaml" && value && typeof value === "object" && "value" in value ? value.value : value,
      ]),
    );
  };
  const problems = [];
  const accounts = new Set();
  for (const file of ["Pulumi.yaml", `Pulumi.${STACK}.yaml`]) {
    const config = read(file);
    for (const namespace of NAMESPACES) {
      for (const setting of [...ROUTING, "accounts"]) {
        if (config[`${namespace}:${setting}`] !== undefined) problems.push(`${file} sets ${namespace}:${setting}`);
      }
    }
    const integrations = config["sendgrid-integrations:integrations"];
    if (Array.isArray(integrations)) {
      for (const item of integrations) if (typeof item?.account === "string") accounts.add(item.account);
    }
  }
  return { problems, accounts: [...accounts] };
}

/** The variables' prefix of a named account, as the provider reads them (provider/config.ts, accountEnvPrefix). */
const accountPrefix = (account) => `SENDGRID_ACCOUNT_${account.toUpperCase().replace(/-/g, "_")}_`;

/**
 * The environment for the Pulumi CLI: the user's, less every SENDGRID_* variable and the Pulumi
 * credentials and passphrase file it must not use, plus the local backend, the demo passphrase, and
 * for the default account and each named one the emulator's address and this run's key.
 */
export function childEnvironment(parent, emulatorUrl, apiKey, accounts) {
  /** @type {Record<string, string>} */
  const env = {};
  for (const [name, value] of Object.entries(parent)) {
    if (value === undefined || name.startsWith("SENDGRID_")) continue;
    if (name === "PULUMI_ACCESS_TOKEN" || name === "PULUMI_CONFIG_PASSPHRASE_FILE") continue;
    env[name] = value;
  }
  Object.assign(env, {
    PULUMI_BACKEND_URL: `file://${join(LOCAL, "backend")}`,
    PULUMI_CONFIG_PASSPHRASE: PASSPHRASE,
    PULUMI_SKIP_UPDATE_CHECK: "true",
    SENDGRID_API_KEY: apiKey,
    SENDGRID_API_BASE_URL: emulatorUrl, // the stack file sets no apiBaseUrl: the port is new each run
  });
  for (const account of accounts) {
    env[`${accountPrefix(account)}API_KEY`] = apiKey;
    env[`${accountPrefix(account)}API_BASE_URL`] = emulatorUrl;
  }
  return env;
}

/** Start the emulator; resolves with its URL and a stop function. */
function startEmulator(apiKey) {
  const child = spawn(
    process.execPath,
    [join(REPO, "dist/emulator/cli.js"), "--port", "0", "--state-file", join(LOCAL, "emulator-state.json")],
    {
      // Its key through the environment; nothing else of the user's.
      env: { PATH: process.env.PATH ?? "", SENDGRID_EMULATOR_API_KEY: apiKey },
      stdio: ["ignore", "pipe", "inherit", "ipc"],
      // A process group of its own: the terminal's Ctrl-C reaches the CLI, not the emulator (on
      // Windows, a console of its own, kept hidden).
      detached: true,
      windowsHide: true,
    },
  );
  const exited = new Promise((r) => child.once("exit", r));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
  };
  return new Promise((resolveUrl, reject) => {
    let out = "";
    child.stdout?.on("data", (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolveUrl({ url: m[1], stop });
    });
    child.once("exit", (code) => reject(new Error(`the emulator exited (${code}) before it listened`)));
  });
}

/** Signals that arrived while the CLI ran (the CLI gets them too: see `pulumi`). */
const interrupted = { signal: undefined };

/** Runs the CLI to its end, whatever arrives meanwhile; resolves with its stdout when captured. */
async function pulumi(cli, args, env, capture = false) {
  if (interrupted.signal) throw Object.assign(new Error(`interrupted (${interrupted.signal})`), { exitCode: 130 });
  if (!capture) process.stderr.write(`$ pulumi ${args.join(" ")}\n`);
  const child = spawn(cli.command, [...cli.prefix, ...args], {
    cwd: PROJECT,
    env,
    stdio: ["inherit", capture ? "pipe" : "inherit", "inherit"],
  });
  // A SIGTERM or SIGHUP sent to this script alone is passed on, so the CLI can finish cleanly. A
  // SIGINT is not: the terminal's Ctrl-C reached the CLI already, and a second one would make it
  // abandon its in-flight operations.
  const forward = (signal) => () => {
    interrupted.signal ??= signal;
    if (signal !== "SIGINT" && child.exitCode === null) child.kill(signal);
  };
  /** @type {[NodeJS.Signals, () => void][]} */
  const handlers = [];
  for (const signal of /** @type {NodeJS.Signals[]} */ (["SIGINT", "SIGTERM", "SIGHUP"])) {
    handlers.push([signal, forward(signal)]);
  }
  for (const [signal, handler] of handlers) process.on(signal, handler);
  let stdout = "";
  child.stdout?.on("data", (d) => (stdout += d));
  const status = await new Promise((resolveStatus) => child.once("close", (code) => resolveStatus(code)));
  for (const [signal, handler] of handlers) process.off(signal, handler);
  if (status !== 0 || interrupted.signal) {
    const why = interrupted.signal ? `interrupted (${interrupted.signal})` : "failed";
    throw Object.assign(new Error(`pulumi ${args[0]} ${why}`), { exitCode: interrupted.signal ? 130 : (status ?? 1) });
  }
  return stdout;
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
  const { problems, accounts } = demoConfig();
  if (problems.length) {
    process.stderr.write(
      `${COMMAND} runs only against the emulator, and gives every account its address and key itself; ` +
        `stack config would win over that:\n${problems.map((p) => `  - ${shown(p)}\n`).join("")}` +
        "Remove these settings (name accounts only in the integrations' `account`), then run this again.\n",
    );
    return 1;
  }
  // Readable by the user alone: the backend and the emulator's state hold the demo's write keys.
  mkdirSync(join(LOCAL, "backend"), { recursive: true, mode: 0o700 });
  chmodSync(LOCAL, 0o700);
  const apiKey = `SG.emulator-${randomBytes(18).toString("base64url")}`;
  const emulator = await startEmulator(apiKey);
  try {
    const env = childEnvironment(process.env, emulator.url, apiKey, accounts);
    process.stderr.write(`emulator on ${emulator.url}; state in ${shown(LOCAL)}\n`);
    await pulumi(cli, ["stack", "select", STACK, "--create"], env);
    if (mode === "destroy") {
      await pulumi(cli, ["destroy", "--yes", "--stack", STACK], env);
      process.stdout.write("Destroyed: the emulator stack holds no integrations now.\n");
      return 0;
    }
    await pulumi(cli, ["up", "--yes", "--stack", STACK], env);
    const ids = await pulumi(cli, ["stack", "output", "integrationIds", "--json", "--stack", STACK], env, true);
    let shownIds;
    try {
      shownIds = jsonText(JSON.parse(ids)).trim();
    } catch {
      shownIds = shown(ids.trim());
    }
    process.stdout.write(`Integration ids (live in the emulator, kept across runs):\n${shownIds}\n`);
    return 0;
  } catch (caught) {
    const error = /** @type {Error & { exitCode?: number }} */ (caught);
    process.stderr.write(`${error.message}\n`);
    return error.exitCode ?? 1;
  } finally {
    // Only now, after the CLI has exited: it may have been finishing operations against it.
    await emulator.stop();
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = await main();
