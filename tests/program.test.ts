// Layer 3: real programs under pulumi.runtime.setMocks — what they register, the type token,
// secrets, and the serialized provider (`__provider`) that lands in every resource's state.
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_KEY, ROOT_INTEGRATIONS, rootProgramSettings, WRITE_KEY, WRITE_KEY_2 } from "./support/fixtures";
import { linkedConsumer, type ProgramRun, REPO, runProgram } from "./support/programs";

const TYPE = "pulumi-nodejs:dynamic/sendgrid:SegmentIntegration";
const integrationsOf = (run: ProgramRun) => run.registered.filter((r) => r.type === TYPE);

/** No credential, write key or path of this machine may be in a serialized provider. */
function expectCleanProvider(provider: string | undefined) {
  expect(typeof provider).toBe("string");
  for (const forbidden of [API_KEY, WRITE_KEY, WRITE_KEY_2, REPO, homedir(), tmpdir(), "/work/", "node_modules"]) {
    expect(provider).not.toContain(forbidden);
  }
}

describe("root program (Pulumi.yaml + index.ts)", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runProgram(join(REPO, "index.ts"), rootProgramSettings(ROOT_INTEGRATIONS));
    expect(run.error).toBeUndefined();
  });

  it("declares one SegmentIntegration per configured integration, with the type token", () => {
    const registered = integrationsOf(run);
    expect(registered.map((r) => [r.type, r.name, r.custom])).toEqual([
      [TYPE, "prod-events", true],
      [TYPE, "eu-subuser", true],
    ]);
  });

  it("passes the declared arguments, camelCase, with the write key secret", () => {
    const [prod, eu] = integrationsOf(run);
    expect(prod!.inputs).toEqual({
      label: "Prod events",
      filters: { emailEvents: ["open", "click", "open"] },
      properties: { secret: { writeKey: WRITE_KEY, destinationRegion: "US" } },
    });
    expect(eu!.inputs).toMatchObject({ onBehalfOf: "eu-sub", properties: { secret: { destinationRegion: "EU" } } });
  });

  it("marks properties and the key digest as additional secret outputs", () => {
    for (const r of integrationsOf(run)) expect(r.additionalSecretOutputs).toEqual(["properties", "sendgridKeyDigest"]);
  });

  it("serializes a thin provider: identical for every resource, no secrets, no machine paths", () => {
    const providers = integrationsOf(run).map((r) => r.provider);
    expect(new Set(providers).size).toBe(1);
    expectCleanProvider(providers[0]);
    const bytes = Buffer.byteLength(providers[0]!);
    console.log(`__provider: ${bytes} bytes per resource`);
    expect(bytes).toBeLessThanOrEqual(2048);
  });

  it("exports the integration ids by name", () => {
    expect(run.outputs).toEqual({ integrationIds: { "prod-events": "prod-events-id", "eu-subuser": "eu-subuser-id" } });
  });

  it("keeps a write key secret even when it was not set with --secret", async () => {
    const plain = await runProgram(join(REPO, "index.ts"), {
      ...rootProgramSettings(ROOT_INTEGRATIONS),
      secretKeys: [],
    });
    for (const r of integrationsOf(plain)) expect(r.inputs.properties).toHaveProperty("secret");
  });

  it("explains missing or malformed stack config", async () => {
    const missing = await runProgram(join(REPO, "index.ts"), { project: "sendgrid-integrations", config: {} });
    expect(missing.error).toContain("Missing stack config sendgrid-integrations:integrations");
    const dup = await runProgram(
      join(REPO, "index.ts"),
      rootProgramSettings([ROOT_INTEGRATIONS[0], ROOT_INTEGRATIONS[0]]),
    );
    expect(dup.error).toContain('duplicate name "prod-events"');
  });
});

describe("examples/ (the package used by its name from a consumer project)", () => {
  const consumers: Array<{ dispose: () => void }> = [];
  afterAll(() => {
    for (const c of consumers) c.dispose();
  });
  const consumer = (name: string) => {
    const c = linkedConsumer(join(REPO, "examples", name));
    consumers.push(c);
    return c.dir;
  };

  it("basic: one integration from a secret config value", async () => {
    const dir = consumer("basic");
    const run = await runProgram(join(dir, "index.ts"), {
      project: "segment-basic",
      config: { "segment-basic:segmentWriteKey": WRITE_KEY },
      secretKeys: ["segment-basic:segmentWriteKey"],
    });
    expect(run.error).toBeUndefined();
    const [integration] = integrationsOf(run);
    expect(integration).toMatchObject({
      name: "prod-events",
      inputs: { label: "Prod events", properties: { secret: { writeKey: WRITE_KEY, destinationRegion: "US" } } },
      additionalSecretOutputs: ["properties", "sendgridKeyDigest"],
    });
    expectCleanProvider(integration!.provider);
    expect(integration!.provider).not.toContain(dir);
    expect(run.outputs).toEqual({ integrationId: "prod-events-id" });
  });

  it("composed: write key and region from a StackReference, one integration per subuser, ids exported", async () => {
    const dir = consumer("composed");
    const run = await runProgram(join(dir, "index.ts"), {
      project: "segment-composed",
      config: {
        "segment-composed:segmentStack": "acme/segment-sources/prod",
        "segment-composed:subusers": JSON.stringify(["marketing-eu", "marketing-us"]),
      },
      stackReferences: {
        "acme/segment-sources/prod": {
          outputs: { writeKey: WRITE_KEY, region: "EU" },
          secretOutputNames: ["writeKey"],
        },
      },
    });
    expect(run.error).toBeUndefined();
    const registered = integrationsOf(run);
    expect(registered.map((r) => [r.name, r.inputs.onBehalfOf])).toEqual([
      ["events-marketing-eu", "marketing-eu"],
      ["events-marketing-us", "marketing-us"],
    ]);
    for (const r of registered) {
      expect(r.inputs.properties).toEqual({ secret: { writeKey: WRITE_KEY, destinationRegion: "EU" } });
    }
    expect(run.outputs).toEqual({
      integrationIds: { "marketing-eu": "events-marketing-eu-id", "marketing-us": "events-marketing-us-id" },
    });
  });
});
