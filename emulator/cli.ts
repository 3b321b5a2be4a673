#!/usr/bin/env node
/**
 * `npm run emulator [-- --port 8787 --latency-ms 50 ...]`: start the local Integrations API on
 * loopback and print its URL. Arguments are parsed by node:util's parseArgs (strict: unknown
 * flags are errors).
 */
import { parseArgs } from "node:util";
import { isLoopback } from "../provider/config";
import { parseFault, startEmulator } from "./server";

const HELP = `Usage: npm run emulator -- [options]

Starts a local SendGrid Integrations API (/v3/marketing/integrations) on loopback.

Options:
  --port <n>             port to listen on (default 8787; 0 picks a free one)
  --host <addr>          loopback address (default 127.0.0.1)
  --api-key <key>        accept only this API key (repeatable; default: any Bearer token)
  --latency-ms <n>       delay every answer by n ms (default 0)
  --write-key-mode <m>   how reads return write keys: full | masked | omitted (default full)
  --limit <n>            integrations per account (default 10)
  --rate-limit <n>       answer 429 (with X-RateLimit-* headers) past n requests per window
  --rate-window <s>      rate-limit window in seconds (default 1)
  --fault <spec>         inject a fault, repeatable: METHOD:KIND[:TIMES], where METHOD is GET,
                         POST, PATCH, DELETE or *, and KIND is an HTTP status (429, 503, ...),
                         reset, hang or commit-drop. Example: --fault POST:commit-drop:1
  -h, --help             show this help
`;

async function main() {
  const { values } = parseArgs({
    options: {
      port: { type: "string", default: "8787" },
      host: { type: "string", default: "127.0.0.1" },
      "api-key": { type: "string", multiple: true },
      "latency-ms": { type: "string", default: "0" },
      "write-key-mode": { type: "string", default: "full" },
      limit: { type: "string", default: "10" },
      "rate-limit": { type: "string" },
      "rate-window": { type: "string", default: "1" },
      fault: { type: "string", multiple: true },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) return void process.stdout.write(HELP);
  const number = (flag: string, value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0)
      throw new Error(`--${flag} must be a whole number, got ${JSON.stringify(value)}`);
    return n;
  };
  if (!isLoopback(values.host))
    throw new Error(`--host must be a loopback address, got ${JSON.stringify(values.host)}`);
  const mode = values["write-key-mode"];
  if (mode !== "full" && mode !== "masked" && mode !== "omitted") {
    throw new Error(`--write-key-mode must be full, masked or omitted, got ${JSON.stringify(mode)}`);
  }
  const emulator = await startEmulator({
    host: values.host,
    port: number("port", values.port),
    apiKeys: values["api-key"],
    latencyMs: number("latency-ms", values["latency-ms"]),
    writeKeyMode: mode,
    limit: number("limit", values.limit),
    ...(values["rate-limit"] !== undefined
      ? {
          rateLimit: {
            limit: number("rate-limit", values["rate-limit"]),
            windowSeconds: number("rate-window", values["rate-window"]),
          },
        }
      : {}),
    faults: (values.fault ?? []).map(parseFault),
  });
  process.stdout.write(
    `SendGrid Integrations API emulator listening on ${emulator.url}\n` +
      `Point a stack at it:  pulumi config set sendgrid:apiBaseUrl ${emulator.url}\n` +
      `                      pulumi config set --secret sendgrid:apiKey SG.emulator\n`,
  );
  const stop = () => void emulator.close().then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((error) => {
  process.stderr.write(`emulator: ${error.message}\n`);
  process.exit(2);
});
