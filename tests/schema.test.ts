// Layer 1: check — validation before any API call, and normalization.
// UNKNOWN here is the engine's own sentinel for a value not known yet (preview), not the provider's copy.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { unknownValue as UNKNOWN } from "@pulumi/pulumi/runtime/rpc";
import * as v from "valibot";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type * as Schema from "../provider/schema";
import { EMAIL_EVENTS } from "../provider/types";

// Every test checks the model as a fresh load of the module defines it: its rules, messages and
// descriptions are made when the module loads. (So StrykerJS sees these tests run the model's
// definitions; loaded once at import, they would be static mutants that no test is run against.)
let model: typeof Schema;
beforeEach(async () => {
  vi.resetModules();
  model = await import("../provider/schema.js");
});

const valid = () => ({
  filters: { emailEvents: ["open", "click", "delivered"] },
  properties: { writeKey: "wk_123456", destinationRegion: "US" },
});

const failuresOf = (news: unknown) => model.checkInputs(news as Record<string, unknown>).failures;
const props = (news: unknown) => failuresOf(news).map((f) => f.property);

describe("check: normalization", () => {
  it("defaults label and destination as the API does", () => {
    const { inputs, failures } = model.checkInputs(valid());
    expect(failures).toEqual([]);
    expect(inputs.label).toBe("Untitled Integration");
    expect(inputs.destination).toBe("Segment");
  });

  it("deduplicates and orders events so order and repeats never diff", () => {
    const a = model.checkInputs({ ...valid(), filters: { emailEvents: ["open", "click", "open"] } }).inputs;
    const b = model.checkInputs({ ...valid(), filters: { emailEvents: ["click", "open"] } }).inputs;
    expect(a.filters).toEqual({ emailEvents: ["click", "open"] });
    expect(a).toEqual(b);
  });

  it("keeps an explicit label and drops undefined (a gRPC Struct cannot hold it)", () => {
    const { inputs } = model.checkInputs({ ...valid(), label: "Prod", onBehalfOf: undefined });
    expect(inputs.label).toBe("Prod");
    expect("onBehalfOf" in inputs).toBe(false);
  });

  it("does not send __provider back as an input it validated", () => {
    const { inputs, failures } = model.checkInputs({ ...valid(), __provider: "exports.handler = ..." });
    expect(failures).toEqual([]);
    expect(inputs.__provider).toBeUndefined();
  });
});

describe("check: one failure per bad field, with its property path", () => {
  it("accepts every valid input", () => {
    expect(failuresOf({ ...valid(), label: "x", destination: "Segment", onBehalfOf: "sub-1" })).toEqual([]);
  });

  it("names an unknown event by its index", () => {
    const f = failuresOf({ ...valid(), filters: { emailEvents: ["open", "click", "opne"] } });
    expect(f).toHaveLength(1);
    expect(f[0]!.property).toBe("filters.emailEvents[2]");
    expect(f[0]!.reason).toContain('"opne"');
    expect(f[0]!.reason).toContain("machine_opened");
  });

  it("rejects an empty or missing event list", () => {
    expect(props({ ...valid(), filters: { emailEvents: [] } })).toEqual(["filters.emailEvents"]);
    expect(props({ ...valid(), filters: {} })).toEqual(["filters.emailEvents"]);
  });

  it("rejects a region other than US or EU", () => {
    const f = failuresOf({ ...valid(), properties: { writeKey: "wk_123456", destinationRegion: "APAC" } });
    expect(f.map((x) => x.property)).toEqual(["properties.destinationRegion"]);
    expect(f[0]!.reason).toMatch(/US, EU/);
  });

  it.each([
    ["too short", "12345"],
    ["too long", "k".repeat(52)],
  ])("rejects a write key %s without echoing it", (_, writeKey) => {
    const f = failuresOf({ ...valid(), properties: { writeKey, destinationRegion: "US" } });
    expect(f.map((x) => x.property)).toEqual(["properties.writeKey"]);
    expect(f[0]!.reason).toMatch(/6 to 51 characters/);
    expect(f[0]!.reason).not.toContain(writeKey);
  });

  it("accepts write keys of exactly 6 and 51 characters", () => {
    for (const writeKey of ["k".repeat(6), "k".repeat(51)]) {
      expect(failuresOf({ ...valid(), properties: { writeKey, destinationRegion: "EU" } })).toEqual([]);
    }
  });

  it("rejects a destination other than Segment", () => {
    expect(props({ ...valid(), destination: "Mixpanel" })).toEqual(["destination"]);
  });

  it("reports missing filters and properties", () => {
    const f = failuresOf({});
    expect(f.map((x) => x.property).sort()).toEqual(["filters", "properties"]);
    expect(f.every((x) => x.reason.startsWith("is required"))).toBe(true);
  });

  it("reports wrong types with what was given", () => {
    const f = failuresOf({
      label: 7,
      filters: { emailEvents: "open" },
      properties: { writeKey: 123456, destinationRegion: "US" },
    });
    expect(f.map((x) => x.property).sort()).toEqual(["filters.emailEvents", "label", "properties.writeKey"]);
    expect(f.find((x) => x.property === "label")!.reason).toMatch(/string, got a number/);
  });

  it("reports every bad field at once", () => {
    const f = failuresOf({
      destination: "X",
      filters: { emailEvents: ["nope", "open", "bad"] },
      properties: { writeKey: "1", destinationRegion: "MARS" },
    });
    expect(f.map((x) => x.property).sort()).toEqual([
      "destination",
      "filters.emailEvents[0]",
      "properties.destinationRegion",
      "properties.writeKey",
    ]);
    // One failure per field: the first bad value, and how many more there are.
    expect(f.find((x) => x.property === "filters.emailEvents[0]")?.reason).toMatch(
      /; got "nope" \(and 1 more bad value in filters\.emailEvents\)$/,
    );
  });

  it("is linear and bounded in the number of bad values: one failure per field, with a count (issue 23)", () => {
    // (How long it takes is the benchmark's: `npm run bench` times 100,000 bad events.)
    const many = 100_000;
    const { failures } = model.checkInputs({
      ...valid(),
      filters: { emailEvents: Array.from({ length: many }, (_, i) => `bad${i}`) },
      ...Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`extra${i}`, 1])),
    });
    expect(failures).toHaveLength(1 + model.MAX_UNKNOWN_KEYS + 1);
    expect(failures[0]).toEqual({
      property: "filters.emailEvents[0]",
      reason: `must be one of ${EMAIL_EVENTS.join(", ")}; got "bad0" (and ${many - 1} more bad values in filters.emailEvents)`,
    });
    expect(failures.at(-1)).toEqual({
      property: "inputs",
      reason: `and ${500 - model.MAX_UNKNOWN_KEYS} more properties that are not properties of SegmentIntegration`,
    });
    // Everything the failures say fits far inside a gRPC message (4 MiB).
    expect(JSON.stringify(failures).length).toBeLessThan(10_000);
  });

  it("lists up to MAX_UNKNOWN_KEYS misspelled properties one by one, and counts the rest", () => {
    const extras = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`extra${i}`, 1]));
    const all = failuresOf({ ...valid(), ...extras(model.MAX_UNKNOWN_KEYS) });
    expect(all.map((f) => f.property)).toEqual(Array.from({ length: model.MAX_UNKNOWN_KEYS }, (_, i) => `extra${i}`));
    expect(failuresOf({ ...valid(), ...extras(model.MAX_UNKNOWN_KEYS + 1) }).at(-1)).toEqual({
      property: "inputs",
      reason: "and 1 more property that is not properties of SegmentIntegration",
    });
  });

  it("names the field of the other bad values without any index, past [9] too", () => {
    const events = [...Array.from({ length: 10 }, () => "open"), "nope", "bad"];
    expect(failuresOf({ ...valid(), filters: { emailEvents: events } })).toEqual([
      {
        property: "filters.emailEvents[10]",
        reason: `must be one of ${EMAIL_EVENTS.join(", ")}; got "nope" (and 1 more bad value in filters.emailEvents)`,
      },
    ]);
  });

  it("rejects misspelled properties instead of ignoring them", () => {
    expect(props({ ...valid(), lable: "Prod" })).toEqual(["lable"]);
    expect(props({ ...valid(), properties: { writeKey: "wk_123456", destinationRegion: "US", region: "EU" } })).toEqual(
      ["properties.region"],
    );
  });

  it("reports every misspelled property at once, at every level, each with its message", () => {
    const failures = failuresOf({
      ...valid(),
      lable: "Prod",
      destinaton: "Segment",
      filters: { emailEvents: ["open"], emailEvent: ["click"], extra: 1 },
      properties: { writeKey: "wk_123456", destinationRegion: "US", region: "EU", write_key: "x" },
    });
    expect(failures).toEqual(
      ["lable", "destinaton", "filters.emailEvent", "filters.extra", "properties.region", "properties.write_key"].map(
        (property) => ({ property, reason: "is not a property of SegmentIntegration" }),
      ),
    );
  });

  it("quotes property names that are not identifiers", () => {
    expect(props({ ...valid(), "my label": "x" })).toEqual(['["my label"]']);
  });

  it("rejects an empty onBehalfOf and one that would inject a header", () => {
    expect(props({ ...valid(), onBehalfOf: "" })).toEqual(["onBehalfOf"]);
    expect(props({ ...valid(), onBehalfOf: "sub\r\nx-evil: 1" })).toEqual(["onBehalfOf"]);
  });
});

describe("check: values unknown during preview are not failures", () => {
  it("accepts unknown write key, region, label, events and whole objects", () => {
    expect(failuresOf({ ...valid(), properties: { writeKey: UNKNOWN, destinationRegion: UNKNOWN } })).toEqual([]);
    expect(failuresOf({ ...valid(), label: UNKNOWN, onBehalfOf: UNKNOWN })).toEqual([]);
    expect(failuresOf({ filters: UNKNOWN, properties: UNKNOWN })).toEqual([]);
    expect(failuresOf({ ...valid(), filters: { emailEvents: UNKNOWN } })).toEqual([]);
  });

  it("never throws on events that cannot become text, and reports them", () => {
    const news = { ...valid(), filters: { emailEvents: [{ toString: 1 }, "open", Object.create(null)] } };
    const { inputs, failures } = model.checkInputs(news);
    expect(failures.map((f) => f.property)).toEqual(["filters.emailEvents[0]"]);
    expect(failures[0]?.reason).toMatch(/\(and 1 more bad value in filters\.emailEvents\)$/);
    expect((inputs.filters as { emailEvents: unknown[] }).emailEvents).toHaveLength(3);
  });

  it("leaves a list with unknown events as written: its set is not known yet", () => {
    const news = { ...valid(), filters: { emailEvents: ["open", UNKNOWN, "click", "open"] } };
    expect(model.checkInputs(news)).toStrictEqual({
      inputs: { ...news, label: "Untitled Integration", destination: "Segment" },
      failures: [],
    });
  });

  it("still reports known bad values beside unknown ones, and leaves unknown lists unsorted", () => {
    const news = { ...valid(), filters: { emailEvents: ["open", UNKNOWN, "nope"] } };
    expect(props(news)).toEqual(["filters.emailEvents[2]"]);
    expect((model.checkInputs(news).inputs.filters as { emailEvents: string[] }).emailEvents).toEqual([
      "open",
      UNKNOWN,
      "nope",
    ]);
  });
});

describe("desired state from checked inputs or stored outputs", () => {
  it("fills the defaults state written without them lacks", () => {
    expect(model.toIntegrationInputs({})).toStrictEqual({
      label: "Untitled Integration",
      destination: "Segment",
      filters: { emailEvents: [] },
      properties: { writeKey: undefined, destinationRegion: undefined },
    });
  });

  it("keeps a subuser and an account only when they are non-empty strings", () => {
    const read = (extra: Record<string, unknown>) =>
      model.toIntegrationInputs({ ...valid(), integrationId: "id-1", userId: "7", ...extra });
    expect(read({ onBehalfOf: "sub", account: "eu" })).toStrictEqual({
      label: "Untitled Integration",
      destination: "Segment",
      filters: { emailEvents: ["click", "delivered", "open"] },
      properties: { writeKey: valid().properties.writeKey, destinationRegion: "US" },
      onBehalfOf: "sub",
      account: "eu",
    });
    for (const empty of ["", 5, null]) {
      const inputs = read({ onBehalfOf: empty, account: empty });
      expect(inputs, String(empty)).not.toHaveProperty("onBehalfOf");
      expect(inputs, String(empty)).not.toHaveProperty("account");
    }
  });
});

describe("check: every message, in full", () => {
  const reasons = (news: unknown) => Object.fromEntries(failuresOf(news).map((f) => [f.property, f.reason]));
  const base = () => ({
    filters: { emailEvents: ["open"] },
    properties: { writeKey: "wk_123456", destinationRegion: "US" },
  });

  it("types and required fields", () => {
    expect(reasons({ label: 1, destination: 2, onBehalfOf: 3, importId: 4, account: 5 })).toEqual({
      label: "must be a string, got a number",
      destination: "must be one of Segment; got a number",
      filters: "is required: an object with emailEvents",
      properties: "is required: an object with writeKey and destinationRegion",
      onBehalfOf: "must be a subuser name (a string), got a number",
      importId: "must be a SendGrid integration id (a string), got a number",
      account: "must be the name of an account in the accounts setting (a string), got a number",
    });
    expect(reasons({ filters: "x", properties: [] })).toEqual({
      filters: "must be an object with emailEvents, got a string",
      properties: "must be an object with writeKey and destinationRegion, got a list",
    });
    expect(reasons({ filters: {}, properties: { destinationRegion: null } })).toEqual({
      "filters.emailEvents": "is required: a non-empty list of email events",
      "properties.writeKey": "is required: the Segment source's write key (a string)",
      "properties.destinationRegion": "must be one of US, EU; got null",
    });
  });

  it("values", () => {
    expect(
      reasons({
        ...base(),
        label: "",
        destination: "Mixpanel",
        onBehalfOf: "",
        importId: "a,b",
        account: "9lives",
        filters: { emailEvents: ["opne"] },
        properties: { writeKey: "wk", destinationRegion: "APAC" },
      }),
    ).toEqual({
      label: 'must not be empty (omit it for the default "Untitled Integration")',
      destination: 'must be one of Segment; got "Mixpanel"',
      onBehalfOf: "must not be empty (omit it to manage the parent account's integration)",
      importId: "must be a SendGrid integration id: 1 to 128 letters, digits, '-' or '_'",
      account: "must be an account name: 1 to 64 letters, digits, '-' or '_', starting with a letter",
      "filters.emailEvents[0]":
        'must be one of drop, processed, deferred, group_unsubscribe, bounce, delivered, click, unsubscribe, open, group_resubscribe, spamreport, machine_opened; got "opne"',
      "properties.writeKey": "must be 6 to 51 characters long (got 2)",
      "properties.destinationRegion":
        "must be one of US, EU; got a string of 4 characters (not shown: properties is secret)",
    });
    expect(reasons({ ...base(), filters: { emailEvents: [] }, onBehalfOf: "a\u0007b" })).toEqual({
      "filters.emailEvents": "must list at least one email event",
      onBehalfOf:
        "must be a subuser name (or `account-id <id>`) of printable ASCII without leading or trailing spaces: it is sent as the on-behalf-of HTTP header",
    });
    // What Node would refuse as a header, or a server would strip, fails here, before any request.
    for (const onBehalfOf of ["市场", "café", "a\tb", " sub", "sub ", "a\u007fb"]) {
      expect(Object.keys(reasons({ ...base(), onBehalfOf }))).toEqual(["onBehalfOf"]);
    }
    for (const onBehalfOf of ["marketing-eu", "account-id 12345", "a", "sub_user.1"]) {
      expect(reasons({ ...base(), onBehalfOf })).toEqual({});
    }
    expect(reasons({ ...base(), filters: { emailEvents: "open" } })).toEqual({
      "filters.emailEvents": "must be a non-empty list of email events, got a string",
    });
    expect(reasons({ ...base(), properties: { writeKey: "w".repeat(52), destinationRegion: "EU" } })).toEqual({
      "properties.writeKey": "must be 6 to 51 characters long (got 52)",
    });
    expect(reasons({ ...base(), destination: "x".repeat(50) })).toEqual({
      destination: `must be one of Segment; got "${"x".repeat(40)}…"`,
    });
  });

  it("a list, a number or null where an object or string belongs is named as such", () => {
    expect(reasons({ ...base(), label: ["x"], filters: 5, properties: null })).toEqual({
      label: "must be a string, got a list",
      filters: "must be an object with emailEvents, got a number",
      properties: "must be an object with writeKey and destinationRegion, got null",
    });
    expect(reasons({ ...base(), properties: { writeKey: 5, destinationRegion: "US" } })).toEqual({
      "properties.writeKey": "must be the Segment source's write key (a string), got a number",
    });
  });

  it("quotes a bad value whole up to 40 characters", () => {
    expect(reasons({ ...base(), destination: "x".repeat(40) })).toEqual({
      destination: `must be one of Segment; got "${"x".repeat(40)}"`,
    });
    expect(reasons({ ...base(), destination: "x".repeat(41) })).toEqual({
      destination: `must be one of Segment; got "${"x".repeat(40)}…"`,
    });
  });

  it("a missing region names what it must be", () => {
    expect(reasons({ ...base(), properties: { writeKey: "wk_123456" } })).toEqual({
      "properties.destinationRegion": "is required: the Segment workspace's region, one of US, EU",
    });
  });

  it("a value that is not an object at all is reported on its required fields", () => {
    expect(reasons(null)).toEqual({
      filters: "is required: an object with emailEvents",
      properties: "is required: an object with writeKey and destinationRegion",
    });
  });
});

describe("what the engine and the shipped package schema rely on", () => {
  it("skips exactly the engine's unknown sentinel, and drops the runtime's serialized provider", () => {
    expect(model.UNKNOWN).toBe(UNKNOWN);
    const { inputs, failures } = model.checkInputs({
      ...valid(),
      properties: { writeKey: UNKNOWN, destinationRegion: UNKNOWN },
      __provider: "exports.handler = ...",
    });
    expect(failures).toEqual([]);
    expect(Object.keys(inputs).sort()).toEqual(["destination", "filters", "label", "properties"]);
  });

  // plugin/schema.json is what GetSchema answers and every SDK's docs come from (package-schema.test.ts
  // checks it is what native/schema.ts makes); here: that the model a check loads says the same.
  const shipped = JSON.parse(readFileSync(join(__dirname, "../plugin/schema.json"), "utf8"));
  type Field = { description?: string; willReplaceOnChanges?: boolean; secret?: boolean };
  const said = (fields: Record<string, Field>) =>
    Object.fromEntries(
      Object.entries(fields).map(([name, f]) => [
        name,
        { description: f.description, replaces: f.willReplaceOnChanges === true, secret: f.secret === true },
      ]),
    );
  const modelled = (entries: Record<string, v.GenericSchema>) =>
    Object.fromEntries(
      Object.entries(entries).map(([name, field]) => {
        const inner = field.type === "optional" ? (field as unknown as { wrapped: v.GenericSchema }).wrapped : field;
        const meta = model.fieldMeta(field);
        return [
          name,
          {
            description: v.getDescription(inner as never),
            replaces: meta.replaces === true,
            secret: meta.secret === true,
          },
        ];
      }),
    );

  it("every input's description, which inputs replace the integration and which are secret", () => {
    const resource = shipped.resources["sendgrid-segment:index:SegmentIntegration"];
    expect(modelled(model.integrationSchema.entries)).toEqual(said(resource.inputProperties));
    const type = (name: string) => shipped.types[`sendgrid-segment:index:${name}`];
    const { filters, properties } = model.integrationSchema.entries;
    for (const [field, name] of [
      [filters, "SegmentIntegrationFilters"],
      [properties, "SegmentIntegrationProperties"],
    ] as const) {
      const object = (field as unknown as { pipe: [{ entries: Record<string, v.GenericSchema> }] }).pipe[0];
      expect(modelled(object.entries)).toEqual(said(type(name).properties));
    }
  });

  it("takes over the dynamic provider's state: the alias is the type pulumi.dynamic.Resource gives it", async () => {
    const { DYNAMIC_RESOURCE_TYPE } = await import("../provider/types.js");
    // `pulumi-nodejs:dynamic/<module>:<type>`, with the module and type SegmentIntegration passes.
    expect(DYNAMIC_RESOURCE_TYPE).toBe("pulumi-nodejs:dynamic/sendgrid:SegmentIntegration");
    expect(shipped.resources["sendgrid-segment:index:SegmentIntegration"].aliases).toEqual([
      { type: DYNAMIC_RESOURCE_TYPE },
    ]);
  });
});

describe("resource names from labels (import and the root program)", () => {
  it("lower-case letters and digits joined by single dashes, nothing when none are left", async () => {
    const { slug } = await import("../provider/types.js");
    expect(slug("Prod events!")).toBe("prod-events");
    expect(slug("  EU / marketing--2 ")).toBe("eu-marketing-2");
    expect(slug("¡!")).toBe("");
  });
});
