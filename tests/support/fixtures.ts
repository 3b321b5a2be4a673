import { expect } from "vitest";

// Shared test values. Recognisable secrets so the leak checks can search for them.
export const API_KEY = "SG.test-api-key-DO-NOT-LEAK-4f1c";
export const WRITE_KEY = "wk_DO_NOT_LEAK_prod_93ab";
export const WRITE_KEY_2 = "wk_DO_NOT_LEAK_rotated_77cd";

export const desired = (overrides: Record<string, unknown> = {}) => ({
  label: "Prod events",
  filters: { emailEvents: ["open", "click", "delivered"] },
  properties: { writeKey: WRITE_KEY, destinationRegion: "US" },
  ...overrides,
});

/** A ConfigureRequest as the dynamic-provider runtime builds it. */
export const configureRequest = (config: Record<string, string>) => ({
  config: { get: (key: string) => config[key], require: (key: string) => config[key]! },
});

/** Stack config for the root program (index.ts) declaring `integrations`. */
const KEY = "sendgrid-integrations:integrations";
export const rootProgramSettings = (integrations: unknown[]) => ({
  project: "sendgrid-integrations",
  stack: "dev",
  config: { [KEY]: JSON.stringify(integrations), "sendgrid:apiKey": API_KEY },
  secretKeys: [KEY, "sendgrid:apiKey"],
});

export const ROOT_INTEGRATIONS = [
  { name: "prod-events", label: "Prod events", events: ["open", "click", "open"], region: "US", writeKey: WRITE_KEY },
  { label: "EU Subuser", events: ["bounce", "delivered"], region: "EU", writeKey: WRITE_KEY_2, onBehalfOf: "eu-sub" },
];

/** Every credential the tests use: none may ever show in an error, a log line or a __provider. */
export const SECRETS = [API_KEY, WRITE_KEY, WRITE_KEY_2] as const;

export function expectNoSecrets(text: string | undefined) {
  for (const secret of SECRETS) expect(text ?? "").not.toContain(secret);
}

/** Not even part of a secret: no run of 6 of its characters (the provider's redaction unit). */
export function expectNoSecretPart(text: string | undefined) {
  for (const secret of SECRETS) {
    for (let i = 0; i + 6 <= secret.length; i++) {
      const part = secret.slice(i, i + 6);
      if ((text ?? "").includes(part)) expect.fail(`part ${JSON.stringify(part)} of a secret is shown`);
    }
  }
}

/** The error a promise rejects with (checked to hold no secret); fails the test if it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (error) {
    const e = error as Error;
    // A call sequence the engine never makes is the test's own bug (engine-sim.ts): never an expected failure.
    if (/^Duplicate resource URN|^harness:/.test(e.message)) throw e;
    expectNoSecrets(e.message);
    expectNoSecrets(e.stack);
    expectNoSecrets(JSON.stringify(e));
    return e;
  }
  throw new Error("expected the operation to fail, but it succeeded");
}
