#!/usr/bin/env node
// `npm start` / `npm run destroy`: deploy the root program offline with the real Pulumi CLI against
// the bundled emulator. It starts the emulator on loopback (its integrations kept in a state file,
// so runs converge), uses a local file backend and the committed `emulator` stack (demo values,
// fixed demo passphrase: no prompt), runs `pulumi up --yes` (or `destroy --yes`), prints the
// integration ids, and always stops the emulator. Everything it writes is under .pulumi-local/.
import { spawn, spawnSync } from "node:child_process";
import { accessSync, constants, mkdirSync } from "node:fs";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const STACK = "emulator";
const PASSPHRASE = "emulator-demo"; // unlocks Pulumi.emulator.yaml's encryptionsalt; it protects no secret
const API_KEY = "SG.emulator-demo"; // the stack file's sendgrid:apiKey
// Where the backend and the emulator's state live (LOCAL_STACK_DIR: for tests).
const LOCAL = resolve(process.env.LOCAL_STACK_DIR ?? join(REPO, ".pulumi-local"));

const INSTALL = `npm ${process.argv[2] === "destroy" ? "run destroy" : "start"} needs the Pulumi CLI (3.139 or newer) on PATH, and \`pulumi\` was not found.
Install it, then run this again:
  curl -fsSL https://get.pulumi.com | sh          # Linux, macOS
  brew install pulumi/tap/pulumi                  # macOS with Homebrew
  choco install pulumi                            # Windows
  (all options: https://www.pulumi.com/docs/iac/download-install/)
`;

function onPath(command) {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
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

function pulumi(bin, args, env) {
  process.stderr.write(`$ pulumi ${args.join(" ")}\n`);
  const result = spawnSync(bin, args, { cwd: REPO, env, stdio: ["inherit", "inherit", "inherit"] });
  if (result.status !== 0) throw Object.assign(new Error(`pulumi ${args[0]} failed`), { exitCode: result.status ?? 1 });
}

async function main() {
  const mode = process.argv[2] ?? "up";
  if (mode !== "up" && mode !== "destroy") {
    process.stderr.write("usage: node scripts/local-stack.mjs [up|destroy]\n");
    return 2;
  }
  const bin = onPath("pulumi");
  if (!bin) {
    process.stderr.write(INSTALL);
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
    pulumi(bin, ["stack", "select", STACK, "--create"], env);
    if (mode === "destroy") {
      pulumi(bin, ["destroy", "--yes", "--stack", STACK], env);
      process.stdout.write("Destroyed: the emulator stack holds no integrations now.\n");
      return 0;
    }
    pulumi(bin, ["up", "--yes", "--stack", STACK], env);
    const ids = spawnSync(bin, ["stack", "output", "integrationIds", "--json", "--stack", STACK], {
      cwd: REPO,
      env,
      encoding: "utf8",
    });
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
