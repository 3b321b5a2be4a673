// Issue 16's model-based test of the whole lifecycle (support/lifecycle-model.ts): random engine
// operation sequences with random faults against the emulator, through the real dynamic-provider
// gRPC server, invariants checked after every step. Seeded (support/fast-check.ts prints the seed;
// FC_SEED with FC_PATH replays one). MODEL_RUNS sequences (default 12; `npm run test:model` runs 1,000).

import { createRequire } from "node:module";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../emulator";
import { type Served, serve } from "../provider/native";
import { RESOURCE_TOKEN } from "../provider/native/schema";
import { secret } from "../provider/native/secrets";
import { connect, type ProviderClient, type ProviderServer, startProviderServer } from "./support/engine.cjs";
import { withEngineSecrets } from "./support/engine-sim";
import { fc } from "./support/fast-check";
import { API_KEY, expectNoSecretPart } from "./support/fixtures";
import { commandsArb, RETRY_BUDGET_MS, runSequence, TIMEOUT_MS } from "./support/lifecycle-model";
import { REPO, rootProgramProvider } from "./support/programs";

const RUNS = Number(process.env.MODEL_RUNS ?? 12);
let emulator: Emulator;
let provider: string;
let server: ProviderServer | undefined;
let printed = "";
let native: { served: Served; client: ProviderClient } | undefined;

beforeAll(async () => {
  provider = await rootProgramProvider();
  emulator = await startEmulator({ apiKeys: [API_KEY] });
});
afterAll(async () => {
  await stop();
  await emulator?.close();
  expectNoSecretPart(printed);
});

async function stop() {
  native?.client.close();
  await native?.served.stop();
  native = undefined;
  if (!server) return;
  await server.stop();
  printed += server.stderr;
  server = undefined;
}

/** A new deployment: a fresh dynamic-provider process, configured for the emulator. */
async function start() {
  await stop();
  const current = await startProviderServer({ programDir: REPO });
  server = current;
  await current.configure({
    "sendgrid:apiKey": API_KEY,
    "sendgrid:apiBaseUrl": emulator.url,
    "sendgrid:requestTimeoutMs": String(TIMEOUT_MS),
    "sendgrid:retryBudgetMs": String(RETRY_BUDGET_MS),
  });
  return { door: current, extra: { __provider: provider }, output: () => current.stderr };
}

/**
 * A new deployment through the native plugin: a fresh service (in this process, so mutation testing
 * sees it), configured as the engine configures a plugin (the key a secret), `properties` secret.
 */
async function startNative() {
  await stop();
  const served = await serve();
  const client = connect({ port: served.port, req: createRequire(join(REPO, "package.json")), type: RESOURCE_TOKEN });
  native = { served, client };
  await client.configureArgs({
    apiKey: secret(API_KEY),
    apiBaseUrl: emulator.url,
    requestTimeoutMs: String(TIMEOUT_MS),
    retryBudgetMs: String(RETRY_BUDGET_MS),
  });
  return { door: withEngineSecrets(client), extra: {}, output: () => "" };
}

it.each([
  ["dynamic provider", start],
  ["native plugin", startNative],
])(
  `keeps every invariant over ${RUNS} random operation sequences with faults (%s)`,
  async (_door, startDeployment) => {
    const report = { sequences: 0, steps: 0, failures: new Map<string, number>() };
    await fc.assert(
      fc.asyncProperty(commandsArb, async (commands) => {
        const model = await runSequence(emulator, startDeployment, commands);
        report.sequences++;
        report.steps += model.steps;
        for (const f of model.failures) {
          const kind = f.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, "<id>").slice(0, 90);
          report.failures.set(kind, (report.failures.get(kind) ?? 0) + 1);
        }
      }),
      // FC_PATH replays one counterexample (with its FC_SEED), as fast-check prints them.
      { numRuns: RUNS, ...(process.env.FC_PATH ? { path: process.env.FC_PATH } : {}) },
    );
    // What the faults made fail (each an honest, bounded error), for the release report.
    console.log(
      `lifecycle model: ${report.sequences} sequences, ${report.steps} steps; operations failed by faults:\n` +
        [...report.failures].map(([k, n]) => `  ${n} × ${k}`).join("\n"),
    );
    expect(report.sequences).toBe(RUNS);
  },
  Math.max(120_000, RUNS * 20_000),
);
