// In-process: the SegmentIntegration class and listSegmentIntegrations, under setMocks (the program
// tests run the same through compiled dist/ in child processes, as the CLI does).
import { createRequire } from "node:module";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../emulator";
import { resolveSettings } from "../provider/config";
import { listSegmentIntegrations, listSegmentIntegrationsOutput } from "../provider/dynamic/functions";
import { SEGMENT_INTEGRATION_TYPE, SegmentIntegration } from "../provider/dynamic/segmentIntegration";
import { listIntegrations, listLive } from "../provider/list";
import { API_KEY, WRITE_KEY } from "./support/fixtures";
import { REPO } from "./support/programs";

// Pulumi's closure serializer (which writes `__provider`) uses the V8 inspector and never returns
// inside worker threads, where mutation testing runs these tests. Real serialization is covered by
// the program and engine tests (in their own processes); here it is a stub.
const closure = createRequire(join(REPO, "package.json"))("@pulumi/pulumi/runtime/closure/serializeClosure");
closure.serializeFunction = async () => ({
  text: "exports.handler = () => ({}); // stub",
  exportName: "handler",
  containsSecrets: false,
});

const registered: pulumi.runtime.MockResourceArgs[] = [];
let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator({ apiKeys: [API_KEY] });
  emulator.seed(
    {
      label: "One",
      destination: "Segment",
      filters: { email_events: ["open", "click"] },
      properties: { write_key: WRITE_KEY, destination_region: "EU" },
    },
    "sub",
  );
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        registered.push(args);
        return { id: `${args.name}-id`, state: { ...args.inputs, integrationId: `${args.name}-id` } };
      },
      call: () => ({}),
    },
    "resource-test",
    "dev",
    false,
  );
  pulumi.runtime.setConfig("sendgrid:apiKey", API_KEY);
  pulumi.runtime.setConfig("sendgrid:apiBaseUrl", emulator.url);
});
afterAll(() => emulator.close());

const value = <T>(output: pulumi.Output<T>) => new Promise<T>((resolve) => output.apply(resolve));
const isSecret = <T>(output: pulumi.Output<T>) => (output as unknown as { isSecret: Promise<boolean> }).isSecret;

describe("SegmentIntegration", () => {
  it("registers the dynamic type with every argument, and keeps properties secret even when given plainly", async () => {
    const r = new SegmentIntegration(
      "r1",
      {
        label: "L",
        destination: "Segment",
        filters: { emailEvents: ["open"] },
        properties: { writeKey: WRITE_KEY, destinationRegion: "US" },
        onBehalfOf: "sub",
        account: "eu",
        importId: "abc",
      },
      { additionalSecretOutputs: ["label"] },
    );
    expect(await value(r.integrationId)).toBe("r1-id");
    expect(await isSecret(r.properties)).toBe(true);
    expect(await isSecret(r.label)).toBe(false);
    const args = registered.find((a) => a.name === "r1")!;
    expect(args.type).toBe(SEGMENT_INTEGRATION_TYPE);
    expect(args.inputs).toMatchObject({
      label: "L",
      destination: "Segment",
      filters: { emailEvents: ["open"] },
      // The engine receives the write key as a secret, although the program passed it plainly.
      properties: {
        "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
        value: { writeKey: WRITE_KEY, destinationRegion: "US" },
      },
      onBehalfOf: "sub",
      account: "eu",
      importId: "abc",
    });
    expect(typeof args.inputs.__provider).toBe("string");
  });

  it("leaves optional arguments out and properties undefined when not given", async () => {
    const r = new SegmentIntegration("r2", { filters: { emailEvents: ["open"] } } as never);
    await value(r.integrationId);
    const args = registered.find((a) => a.name === "r2")!;
    expect(args.inputs).not.toHaveProperty("properties");
    expect(args.inputs).not.toHaveProperty("label");
  });

  it("adds properties to the caller's additionalSecretOutputs, once, and keeps the caller's other options", () => {
    const seen: pulumi.CustomResourceOptions[] = [];
    const capture: pulumi.ResourceTransformation = ({ opts }) => {
      seen.push(opts as pulumi.CustomResourceOptions);
      return undefined;
    };
    const args = {
      filters: { emailEvents: ["open"] },
      properties: { writeKey: WRITE_KEY, destinationRegion: "US" },
    } as never;
    new SegmentIntegration("s1", args, { transformations: [capture] });
    new SegmentIntegration("s2", args, {
      transformations: [capture],
      additionalSecretOutputs: ["label", "properties"],
    });
    expect(seen.map((o) => o.additionalSecretOutputs)).toStrictEqual([
      ["properties", "sendgridKeyDigest"],
      ["label", "properties", "sendgridKeyDigest"],
    ]);
  });

  it("requires args, naming the resource", () => {
    expect(() => new SegmentIntegration("r3", undefined as never)).toThrow(
      'SegmentIntegration "r3": args are required (filters and properties)',
    );
  });
});

describe("listSegmentIntegrations in-process", () => {
  it("reads an account's integrations with the provider's settings, without write keys", async () => {
    const list = await listSegmentIntegrations({ onBehalfOf: "sub" });
    expect(list).toEqual([
      {
        integrationId: expect.any(String),
        userId: expect.any(String),
        label: "One",
        destination: "Segment",
        filters: { emailEvents: ["click", "open"] },
        properties: { destinationRegion: "EU" },
        onBehalfOf: "sub",
      },
    ]);
    expect(JSON.stringify(list)).not.toContain(WRITE_KEY);
    expect(await value(listSegmentIntegrationsOutput({ onBehalfOf: "sub" }))).toEqual(list);
    expect(await listSegmentIntegrations()).toEqual([]);
  });

  it("refuses an onBehalfOf that would inject a header (CR/LF) before any request", async () => {
    const before = emulator.requests.length;
    for (const bad of ["sub\r\nx-evil: 1", "sub\n", ""]) {
      await expect(
        listIntegrations(
          resolveSettings(() => undefined, { SENDGRID_API_KEY: API_KEY, SENDGRID_API_BASE_URL: emulator.url }),
          bad,
        ),
      ).rejects.toThrow(
        "Invalid onBehalfOf: a subuser name (or `account-id <id>`) of printable ASCII without leading or trailing spaces: it is sent as the on-behalf-of HTTP header",
      );
    }
    expect(emulator.requests.length).toBe(before);
  });

  it("reads what the API leaves out as its defaults or empty, never failing on a sparse item", async () => {
    const { integration_id } = emulator.seed(
      { user_id: undefined, label: undefined, properties: undefined } as never,
      "sparse",
    );
    const [live] = await listLive(
      resolveSettings(() => undefined, { SENDGRID_API_KEY: API_KEY, SENDGRID_API_BASE_URL: emulator.url }),
      "sparse",
    );
    expect(live).toStrictEqual({
      info: {
        integrationId: integration_id,
        userId: "",
        label: "Untitled Integration", // the API's default, as everywhere else (import used to emit label: "")
        destination: "Segment",
        filters: { emailEvents: [] },
        properties: {}, // a region the answer leaves out is left out: never undefined (a Struct cannot carry it)
        onBehalfOf: "sparse",
      },
      writeKey: undefined,
    });
  });

  it("names the account it read in each item", async () => {
    const list = await listIntegrations(
      {
        ...resolveSettings(() => undefined, { SENDGRID_API_KEY: API_KEY, SENDGRID_API_BASE_URL: emulator.url }),
        account: "eu",
      },
      "sub",
    );
    expect(list[0]).toMatchObject({ account: "eu", onBehalfOf: "sub" });
  });
});
