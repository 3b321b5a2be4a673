#!/usr/bin/env node
// A stand-in for the Pulumi CLI (which cannot be installed here): it records each invocation, its
// working directory and the environment the orchestration gave it, and acts on the emulator as a
// deployment would, with the key the environment gives it, so what the emulator keeps between runs
// is checked for real.
//   up: lists the integrations and creates one if there is none (a second run must find it);
//   stack output: prints the live ids as `pulumi stack output --json` would.
//   version: prints STANDIN_VERSION (default v3.265.0), and is not recorded.
// STANDIN_FAIL=<command> makes that command exit 3. STANDIN_DRAIN=1 makes `up` wait for SIGINT or
// SIGTERM (saying so on stderr), then finish an in-flight request against the emulator 300 ms later, as
// the CLI drains its operations after Ctrl-C, record how that request went, and exit 255.
// Every invocation also records which running processes carry the API key on their command line
// (Linux's /proc: what `ps` shows every user).
"use strict";
const { appendFileSync, readdirSync, readFileSync } = require("node:fs");

const args = process.argv.slice(2);
const ENV = ["PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE", "PULUMI_ACCESS_TOKEN"];
if (args[0] === "version") {
  process.stdout.write(`${process.env.STANDIN_VERSION ?? "v3.265.0"}\n`);
  process.exit(0);
}
const KEY = process.env.SENDGRID_API_KEY ?? "";

/** The command lines of running processes that hold `secret`. */
function commandLinesWith(secret) {
  const found = [];
  let pids = [];
  try {
    pids = readdirSync("/proc").filter((p) => /^\d+$/.test(p));
  } catch {
    return ["(no /proc)"];
  }
  for (const pid of pids) {
    try {
      const line = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
      if (secret && line.includes(secret)) found.push(line.replaceAll(secret, "<key>"));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

const record = {
  args,
  self: __filename,
  cwd: process.cwd(),
  env: Object.fromEntries(ENV.map((k) => [k, process.env[k] ?? null])),
  sendgrid: Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith("SENDGRID_"))),
  keyOnCommandLines: commandLinesWith(KEY),
};
/** @returns {Promise<any>} */
const api = (path, init = {}) =>
  fetch(`${process.env.SENDGRID_API_BASE_URL}/v3/marketing/integrations${path}`, {
    ...init,
    headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
  }).then((r) => r.json());

(async () => {
  if (args[0] === "up") {
    record.liveBefore = (await api("")).result.length;
    if (process.env.STANDIN_DRAIN === "1") {
      await new Promise((resolve) => {
        // Signal handlers keep no process alive: a timer does, until the signal comes.
        const alive = setInterval(() => undefined, 1000);
        const arrived = () => {
          clearInterval(alive);
          resolve(undefined);
        };
        process.once("SIGINT", arrived);
        process.once("SIGTERM", arrived);
        process.stderr.write("standin: up in flight, waiting for SIGINT (or SIGTERM)\n");
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      record.drained = await api("").then(
        (body) => (Array.isArray(body.result) ? "answered" : JSON.stringify(body)),
        (error) => `failed: ${error.cause?.code ?? error.message}`,
      );
      appendFileSync(String(process.env.STANDIN_LOG), `${JSON.stringify(record)}\n`);
      process.exit(255);
    }
    if (record.liveBefore === 0) {
      const body = {
        label: "Prod events",
        destination: "Segment",
        filters: { email_events: ["open"] },
        properties: { write_key: "wk_demo_prod_events_1", destination_region: "US" },
      };
      await api("", { method: "POST", body: JSON.stringify(body) });
    }
  }
  if (args[0] === "stack" && args[1] === "output") {
    const live = (await api("")).result;
    process.stdout.write(
      `${JSON.stringify(Object.fromEntries(live.map((i, n) => [`integration-${n}`, i.integration_id])), null, 2)}\n`,
    );
  }
  appendFileSync(String(process.env.STANDIN_LOG), `${JSON.stringify(record)}\n`);
  process.exit(process.env.STANDIN_FAIL === args[0] ? 3 : 0);
})();
