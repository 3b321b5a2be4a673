#!/usr/bin/env node
// A stand-in for the Pulumi CLI (which cannot be installed here): it records each invocation, its
// working directory and the environment the orchestration gave it, and acts on the emulator as a
// deployment would, so what the emulator keeps between runs is checked for real.
//   up: lists the integrations and creates one if there is none (a second run must find it);
//   stack output: prints the live ids as `pulumi stack output --json` would.
//   version: prints STANDIN_VERSION (default v3.265.0), and is not recorded.
// STANDIN_FAIL=<command> makes that command exit 3.
"use strict";
const { appendFileSync } = require("node:fs");

const args = process.argv.slice(2);
const ENV = [
  "PULUMI_BACKEND_URL",
  "PULUMI_CONFIG_PASSPHRASE",
  "PULUMI_CONFIG_PASSPHRASE_FILE",
  "SENDGRID_API_BASE_URL",
];
if (args[0] === "version") {
  process.stdout.write(`${process.env.STANDIN_VERSION ?? "v3.265.0"}\n`);
  process.exit(0);
}
const record = {
  args,
  self: __filename,
  cwd: process.cwd(),
  env: Object.fromEntries(ENV.map((k) => [k, process.env[k] ?? null])),
};
/** @returns {Promise<any>} */
const api = (path, init = {}) =>
  fetch(`${process.env.SENDGRID_API_BASE_URL}/v3/marketing/integrations${path}`, {
    ...init,
    headers: { authorization: "Bearer SG.emulator-demo", "content-type": "application/json" },
  }).then((r) => r.json());

(async () => {
  if (args[0] === "up") {
    record.liveBefore = (await api("")).result.length;
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
