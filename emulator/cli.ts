#!/usr/bin/env node
/**
 * `sendgrid-segment-emulator` (in this repository `npm run emulator -- ...`): start the local
 * Integrations API on loopback and print its URL and settings. Arguments are parsed by
 * node:util's parseArgs (strict: unknown flags are errors); every error names the flag.
 */
import { existsSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { isLoopback } from "../provider/config";
import { FAULT_KINDS, parseFault, startEmulator } from "./server";

export const HELP = `Usage: sendgrid-segment-emulator [options]
       (in a clone of the repository: npm run emulator -- [options])

Starts a local SendGrid Integrations API (/v3/marketing/integrations) on loopback.
Stop it with Ctrl-C (SIGINT) or SIGTERM.

Options:
  --port <n>             port to listen on (default 8787; 0 picks a free one)
  --host <addr>          loopback address (default 127.0.0.1)
  --api-key <key>        accept only this API key (repeatable; default: any Bearer token)
  --state-file <path>    keep integrations in this JSON file across restarts (default: in memory)
  --latency-ms <n>       delay every answer by n ms (default 0)
  --write-key-mode <m>   how reads return write keys: full | masked | omitted (default full)
  --limit <n>            integrations per account (default 10)
  --rate-limit <n>       answer 429 (with X-RateLimit-* headers) past n requests per window
  --rate-window <s>      rate-limit window in seconds (default 1)
  --fault <spec>         inject a fault, repeatable: METHOD:KIND[:TIMES], where METHOD is GET,
                         POST, PATCH, DELETE or *, and KIND is ${FAULT_KINDS.replace(", redirect", ",\n                         redirect")}.
                         Example: --fault POST:commit-drop:1 --fault GET:malformed-no-id
  --redirect-location <url>  where redirect faults point (default: an origin nobody serves)
  -h, --help             show this help
`;

async function main() {
  const { values } = parseArgs({
    options: {
      port: { type: "string", default: "8787" },
      host: { type: "string", default: "127.0.0.1" },
      "api-key": { type: "string", multiple: true },
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
  const faults = (values.fault ?? []).map((spec) => {
    try {
      return parseFault(spec, values["redirect-location"]);
    } catch (error) {
      throw new Error(`--${(error as Error).message}`);
    }
  });
  const rateLimit =
    values["rate-limit"] !== undefined
      ? {
          limit: number("rate-limit", values["rate-limit"], 1),
          windowSeconds: number("rate-window", values["rate-window"], 1),
        }
      : undefined;
  const apiKeys = values["api-key"];
  const emulator = await startEmulator({
    host: values.host,
    port,
    ...(apiKeys ? { apiKeys } : {}),
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
  const keyLine = apiKeys
    ? `pulumi config set --secret sendgrid:apiKey <the key you gave with --api-key>`
    : "pulumi config set --secret sendgrid:apiKey SG.emulator   (any key is accepted)";
  process.stdout.write(
    `SendGrid Integrations API emulator listening on ${emulator.url}\n` +
      `  API keys:     ${apiKeys ? `only the ${apiKeys.length} given with --api-key` : "any Bearer token"}\n` +
      `  state:        ${values["state-file"] ? `kept in ${values["state-file"]}` : "in memory (gone when it stops)"}\n` +
      `  write keys:   ${mode} on reads; limit ${values.limit} per account; latency ${values["latency-ms"]} ms\n` +
      `  rate limit:   ${rateLimit ? `${rateLimit.limit} per ${rateLimit.windowSeconds} s` : "none"}\n` +
      `  faults:       ${values.fault?.length ? values.fault.join(", ") : "none"}\n` +
      `Point a stack at it:\n` +
      `  pulumi config set sendgrid:apiBaseUrl ${emulator.url}\n` +
      `  ${keyLine}\n` +
      `Stop it with Ctrl-C.\n`,
  );
}

main().catch((error) => {
  process.stderr.write(`sendgrid-segment-emulator: ${error.message}\n`);
  process.exit(2);
});
