// Issue 16's model-based test of the whole lifecycle (support/lifecycle-model.ts), with issue 22's
// engine paths and issue 23's answers: random engine operation sequences with random faults against
// the emulator, through both front doors (the real dynamic-provider gRPC server, and the plugin's
// service with its own fake engine), invariants checked after every step. Seeded (support/fast-check.ts prints the seed;
// FC_SEED with FC_PATH replays one). MODEL_RUNS sequences (default 12; `npm run test:model` runs 1,000).

import { createRequire } from "node:module";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../emulator";
import { type Served, serve } from "../provider/native";
import { RESOURCE_TOKEN } from "../provider/native/schema";
import { secret } from "../provider/native/secrets";
import {
  connect,
  type ProviderClient,
  type ProviderServer,
  startFakeEngine,
  startProviderServer,
} from "./support/engine.cjs";
import { withEngineSecrets } from "./support/engine-sim";
import { fc } from "./support/fast-check";
import { API_KEY, expectNoSecretPart } from "./support/fixtures";
import {
  commandsArb,
  type Deployment,
  modeArb,
  RETRY_BUDGET_MS,
  runSequence,
  TIMEOUT_MS,
} from "./support/lifecycle-model";
import { REPO, rootProgramProvider } from "./support/programs";

const RUNS = Number(process.env.MODEL_RUNS ?? 12);
let emulator: Emulator;
let provider: string;
const printed: string[] = [];
const req = createRequire(join(REPO, "package.json"));

beforeAll(async () => {
  provider = await rootProgramProvider();
  emulator = await startEmulator({ apiKeys: [API_KEY] });
});
afterAll(async () => {
  await emulator?.close();
  expectNoSecretPart(printed.join("\n"));
});

const SETTINGS = () => ({
  "sendgrid:apiKey": API_KEY,
  "sendgrid:apiBaseUrl": emulator.url,
  "sendgrid:requestTimeoutMs": String(TIMEOUT_MS),
  "sendgrid:retryBudgetMs": String(RETRY_BUDGET_MS),
});

/** A provider process for a new engine run: the dynamic-provider runtime, configured for the emulator. */
async function start(): Promise<Deployment> {
  const server: ProviderServer = await startProviderServer({ programDir: REPO });
  await server.configure(SETTINGS());
  return {
    door: server,
    extra: { __provider: provider },
    output: () => server.stderr,
    supportsPreview: false,
    native: false,
    stop: async () => {
      await server.stop();
      printed.push(server.stderr);
    },
  };
}

/**
 * The same through the native plugin: a fresh service (in this process, so mutation testing sees
 * it) with its own fake engine, configured as the engine configures a plugin (the key a secret),
 * `properties` secret.
 */
async function startNative(): Promise<Deployment> {
  const engine = await startFakeEngine({ req });
  const served: Served = await serve({ engineAddress: engine.address });
  const client: ProviderClient = connect({ port: served.port, req, type: RESOURCE_TOKEN });
  const answer = await client.configureArgs({
    apiKey: secret(API_KEY),
    apiBaseUrl: emulator.url,
    requestTimeoutMs: String(TIMEOUT_MS),
    retryBudgetMs: String(RETRY_BUDGET_MS),
  });
  const logs = () => engine.logs.map((l) => l.message).join("\n");
  return {
    door: withEngineSecrets(client),
    extra: {},
    output: logs,
    supportsPreview: answer.supportsPreview,
    native: true,
    stop: async () => {
      client.close();
      await served.stop();
      await engine.close();
    },
  };
}

it.each([
  ["dynamic provider", start],
  ["native plugin", startNative],
])(
  `keeps every invariant over ${RUNS} random operation sequences with faults (%s)`,
  async (_door, startDeployment) => {
    const report = { sequences: 0, steps: 0, failures: new Map<string, number>() };
    await fc.assert(
      fc.asyncProperty(modeArb, commandsArb, async (mode, commands) => {
        const model = await runSequence(emulator, startDeployment, commands, mode);
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
  Math.max(180_000, RUNS * 30_000),
);
