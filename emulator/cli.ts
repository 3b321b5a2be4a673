#!/usr/bin/env node
/**
 * `sendgrid-segment-emulator` (in this repository `npm run emulator -- ...`): start the local
 * Integrations API on loopback and print its URL and settings. Arguments are parsed by
 * node:util's parseArgs (strict: unknown flags are errors); every error names the flag.
 *
 * As a service on the machine it always requires an API key: the one in SENDGRID_EMULATOR_API_KEY,
 * in --api-key-file, or given with --api-key (visible to other users in `ps`), else one generated for
 * this run and shown in the banner. Started with an IPC channel (as `npm start` starts it), it stops
 * when that channel closes, so it never outlives the process that started it.
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { shown } from "../cli/terminal";
import { isLoopback } from "../provider/config";
import { FAULT_KINDS, parseFault, startEmulator } from "./server";

/** The variable that gives the emulator its API key without a command line. */
export const KEY_VARIABLE = "SENDGRID_EMULATOR_API_KEY";

export const HELP = `Usage: sendgrid-segment-emulator [options]
       (in a clone of the repository: npm run emulator -- [options])

Starts a local SendGrid Integrations API (/v3/marketing/integrations) on loopback.
Stop it with Ctrl-C (SIGINT) or SIGTERM.

Options:
  --port <n>             port to listen on (default 8787; 0 picks a free one)
  --host <addr>          loopback address (default 127.0.0.1)
  --api-key-file <path>  accept the API keys in this file, one a line
  --api-key <key>        accept this API key (repeatable; other users see it in ps: prefer
                         SENDGRID_EMULATOR_API_KEY or --api-key-file)
                         Without either: the key in SENDGRID_EMULATOR_API_KEY, else one generated
                         for this run and shown in the banner. A key is always required.
  --state-file <path>    keep integrations in this JSON file across restarts (mode 0600; default:
                         in memory)
  --latency-ms <n>       delay every answer by n ms (default 0)
  --write-key-mode <m>   how reads return write keys: full | masked | omitted (default full)
  --limit <n>            integrations per account (default 10)
  --rate-limit <n>       answer 429 (with X-RateLimit-* headers) past n requests per window
  --rate-window <s>      rate-limit window in seconds (default 1)
  --fault <spec>         inject a fault, repeatable: METHOD:KIND[:TIMES], where METHOD is GET,
                         POST, PATCH, DELETE or *, and KIND is ${FAULT_KINDS.replace(", redirect", ",\n                         redirect")}.
                         Example: --fault POST:commit-drop:1 --fault GET:malformed-no-id
  --allow-echo-fault     allow the echo fault, whose answers quote the request's credentials
  --redirect-location <url>  where redirect faults point (default: an origin nobody serves)
  -h, --help             show this help
`;

async function main() {
  const { values } = parseArgs({
    options: {
      port: { type: "string", default: "8787" },
      host: { type: "string", default: "127.0.0.1" },
      "api-key": { type: "string", multiple: true },
      "api-key-file": { type: "string" },
      "allow-echo-fault": { type: "boolean" },
      "state-file": { type: "string" },
      "latency-ms": { type: "string", default: "0" },
      "write-key-mode": { type: "string", default: "full" },
      limit: { type: "string", default: "10" },
      "rate-limit": { type: "string" },
      "rate-window": { type: "string", default: "1" },
      fault: { type: "string", multiple: true },
      "redirect-location": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) return void process.stdout.write(HELP);
  const number = (flag: string, value: string, min = 0, max = Number.MAX_SAFE_INTEGER) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      const range = max < Number.MAX_SAFE_INTEGER ? ` from ${min} to ${max}` : min ? ` from ${min}` : "";
      throw new Error(`--${flag} must be a whole number${range}, got ${JSON.stringify(value)}`);
    }
    return n;
  };
  const port = number("port", values.port, 0, 65_535);
  const stateFile = values["state-file"];
  if (stateFile !== undefined) {
    // Checked now, not at the first change: a state file must be one the emulator can write.
    const folder = dirname(resolve(stateFile));
    if (!existsSync(folder) || !statSync(folder).isDirectory()) {
      throw new Error(`--state-file ${stateFile}: the folder ${folder} does not exist`);
    }
    if (existsSync(stateFile) && statSync(stateFile).isDirectory()) {
      throw new Error(`--state-file ${stateFile}: is a folder, not a file`);
    }
  }
  if (!isLoopback(values.host))
    throw new Error(`--host must be a loopback address, got ${JSON.stringify(values.host)}`);
  const mode = values["write-key-mode"];
  if (mode !== "full" && mode !== "masked" && mode !== "omitted") {
    throw new Error(`--write-key-mode must be full, masked or omitted, got ${JSON.stringify(mode)}`);
  }
  const allowEchoFault = values["allow-echo-fault"] === true;
  const faults = (values.fault ?? []).map((spec) => {
    try {
      return parseFault(spec, values["redirect-location"]);
    } catch (error) {
      throw new Error(`--${(error as Error).message}`);
    }
  });
  if (faults.some((f) => f.kind === "echo") && !allowEchoFault) {
    throw new Error(
      "--fault ...:echo answers with the request's API key and write key: add --allow-echo-fault to inject it",
    );
  }
  const rateLimit =
    values["rate-limit"] !== undefined
      ? {
          limit: number("rate-limit", values["rate-limit"], 1),
          windowSeconds: number("rate-window", values["rate-window"], 1),
        }
      : undefined;
  const keys = apiKeysFrom(values["api-key"], values["api-key-file"], process.env[KEY_VARIABLE]);
  const apiKeys = keys.keys;
  const emulator = await startEmulator({
    host: values.host,
    port,
    apiKeys,
    allowEchoFault,
    ...(values["state-file"] ? { stateFile: values["state-file"] } : {}),
    latencyMs: number("latency-ms", values["latency-ms"]),
    writeKeyMode: mode,
    limit: number("limit", values.limit),
    ...(rateLimit ? { rateLimit } : {}),
    faults,
  }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "EADDRINUSE") {
      throw new Error(`--port ${values.port}: the port is in use (another emulator?); pick another with --port`);
    }
    throw error;
  });
  // Handlers first: the banner tells users to press Ctrl-C, so it must already work.
  const stop = () => void emulator.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  process.once("SIGHUP", stop);
  // Started with an IPC channel: the starter's end closing (it stopped, or died) stops the emulator.
  if (process.send) process.once("disconnect", stop);
  const keyLine = keys.generated
    ? `pulumi config set --secret sendgrid:apiKey ${apiKeys[0]}`
    : `pulumi config set --secret sendgrid:apiKey <the key you gave ${keys.from}>`;
  process.stdout.write(
    `SendGrid Integrations API emulator listening on ${emulator.url}\n` +
      `  API keys:     ${keys.generated ? `${apiKeys[0]} (generated for this run; give your own with ${KEY_VARIABLE})` : `only the ${apiKeys.length} given ${keys.from}`}\n` +
      `  state:        ${values["state-file"] ? `kept in ${shown(values["state-file"])} (mode 0600)` : "in memory (gone when it stops)"}\n` +
      `  write keys:   ${mode} on reads; limit ${values.limit} per account; latency ${values["latency-ms"]} ms\n` +
      `  rate limit:   ${rateLimit ? `${rateLimit.limit} per ${rateLimit.windowSeconds} s` : "none"}\n` +
      `  faults:       ${values.fault?.length ? shown(values.fault.join(", ")) : "none"}${allowEchoFault ? " (echo allowed)" : ""}\n` +
      `Point a stack at it:\n` +
      `  pulumi config set sendgrid:apiBaseUrl ${emulator.url}\n` +
      `  ${keyLine}\n` +
      `Stop it with Ctrl-C.\n`,
  );
}

/**
 * The keys the emulator accepts, and where they came from: every --api-key and every line of
 * --api-key-file, else the variable, else one generated for this run.
 */
export function apiKeysFrom(
  flags: string[] | undefined,
  file: string | undefined,
  variable: string | undefined,
): { keys: string[]; from: string; generated: boolean } {
  const keys = [...(flags ?? [])];
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      throw new Error(`--api-key-file ${file}: cannot be read (${(error as NodeJS.ErrnoException).code})`);
    }
    const lines = text.split(/\r?\n/).map((line) => line.trim());
    if (!lines.some(Boolean)) throw new Error(`--api-key-file ${file}: holds no key`);
    keys.push(...lines.filter(Boolean));
  }
  if (keys.length) {
    const from = [flags?.length ? "with --api-key" : "", file !== undefined ? "in --api-key-file" : ""];
    return { keys, from: from.filter(Boolean).join(" and "), generated: false };
  }
  if (variable) return { keys: [variable], from: `in ${KEY_VARIABLE}`, generated: false };
  return { keys: [`SG.emulator-${randomBytes(18).toString("base64url")}`], from: "", generated: true };
}

if (require.main === module) {
  main().catch((error) => {
    process.stderr.write(`sendgrid-segment-emulator: ${shown(error.message)}\n`);
    process.exit(2);
  });
}
