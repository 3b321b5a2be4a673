// Answers are validated against the spec's Integration shape before anything reaches state.
import { describe, expect, it } from "vitest";
import { toIntegrationInputs } from "../provider/schema";
import {
  fromWire,
  keyVerdict,
  parseIntegration,
  parseIntegrationList,
  toWirePatch,
  UnusableAnswer,
} from "../provider/wire";

const integration = {
  integration_id: "5a1234",
  user_id: "12345",
  label: "L",
  destination: "Segment",
  filters: { email_events: ["open", "processed"] },
  properties: { write_key: "a123456", destination_region: "US" },
};

const problem = (f: () => unknown): string => {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(UnusableAnswer);
    return (error as Error).message;
  }
  throw new Error("expected the answer to be refused");
};

describe("parseIntegration", () => {
  it("accepts the spec's example, extra fields, and a numeric user_id (as a string)", () => {
    expect(parseIntegration({ ...integration, extra: true })).toMatchObject(integration);
    expect(parseIntegration({ ...integration, user_id: 42 }).user_id).toBe("42");
  });

  it("names the field and its type, never its value", () => {
    expect(problem(() => parseIntegration({ ...integration, label: 42 }))).toBe("label is a number, expected string");
    expect(problem(() => parseIntegration({ ...integration, filters: { email_events: "open" } }))).toBe(
      "filters.email_events is a string outside the allowed values, expected Array",
    );
    expect(problem(() => parseIntegration({ ...integration, filters: { email_events: ["opne"] } }))).toMatch(
      /^filters\.email_events\[0\] is a string outside the allowed values, expected /,
    );
    expect(problem(() => parseIntegration({ ...integration, properties: { destination_region: "MARS" } }))).toBe(
      "properties.destination_region is a string outside the allowed values, expected (US | EU)",
    );
    expect(problem(() => parseIntegration({ ...integration, integration_id: "a,b" }))).toBe(
      "integration_id is a string outside the allowed values, expected /^[A-Za-z0-9_-]{1,128}$/",
    );
    expect(
      problem(() =>
        parseIntegration({ ...integration, properties: { destination_region: "MARS", write_key: "s3cr3t!" } }),
      ),
    ).not.toContain("MARS");
  });

  it("refuses bodies that are not an integration at all", () => {
    expect(problem(() => parseIntegration(null))).toBe("it is null, not an integration");
    expect(problem(() => parseIntegration([integration]))).toBe("it is a list, not an integration");
    expect(problem(() => parseIntegration("ok"))).toBe("it is a string outside the allowed values, not an integration");
  });

  it("requires the id, and the expected one when it is known", () => {
    const { integration_id: _, ...noId } = integration;
    expect(problem(() => parseIntegration(noId))).toBe("it has no integration_id");
    expect(problem(() => parseIntegration(integration, "other"))).toBe("it is for integration 5a1234, not other");
    expect(problem(() => parseIntegration({ ...integration, integration_id: "a,b" }))).toMatch(/^integration_id is/);
    expect(parseIntegration(integration, "5a1234").integration_id).toBe("5a1234");
  });
});

describe("parseIntegrationList", () => {
  it("reads {result: [...]}, each with its id", () => {
    expect(parseIntegrationList({ result: [integration] })).toEqual({ integrations: [integration], unidentified: 0 });
    expect(parseIntegrationList({ result: [] })).toEqual({ integrations: [], unidentified: 0 });
  });

  it("refuses a missing result or a bad item", () => {
    expect(problem(() => parseIntegrationList({}))).toBe("result is missing");
    expect(problem(() => parseIntegrationList([]))).toBe("it is a list, not a list of integrations");
    expect(problem(() => parseIntegrationList({ result: [integration, { label: 1 }] }))).toBe(
      "result[1].label is a number, expected string",
    );
  });

  it("carries an item without id, which the spec allows, as counted: it cannot be addressed (issue 23)", () => {
    expect(parseIntegrationList({ result: [integration, { label: "x" }] })).toEqual({
      integrations: [integration],
      unidentified: 1,
    });
    expect(parseIntegrationList({ result: [{ label: "x" }, {}, integration] }).unidentified).toBe(2);
  });
});

describe("fromWire", () => {
  const known = toIntegrationInputs({
    label: "L",
    filters: { emailEvents: ["open"] },
    properties: { writeKey: "wk_known_1", destinationRegion: "EU" },
  });

  it("keeps the known write key and region when the answer has no properties, and adds no subuser or account", () => {
    const { properties: _none, ...bare } = integration;
    expect(fromWire(parseIntegration(bare), known)).toStrictEqual({
      integrationId: "5a1234",
      userId: "12345",
      label: "L",
      destination: "Segment",
      filters: { emailEvents: ["open", "processed"] },
      properties: { writeKey: "wk_known_1", destinationRegion: "EU" },
    });
  });

  it("carries the subuser and account it was asked about", () => {
    const outs = fromWire(parseIntegration(integration), { ...known, onBehalfOf: "sub", account: "eu" });
    expect(outs).toMatchObject({ onBehalfOf: "sub", account: "eu", properties: { writeKey: "a123456" } });
  });
});

describe("toWirePatch: only the fields that change", () => {
  const desired = toIntegrationInputs({
    label: "L",
    filters: { emailEvents: ["open", "click"] },
    properties: { writeKey: "wk_patch_key_1", destinationRegion: "EU" },
  });
  it.each([
    [["label"], { label: "L" }],
    [["destination"], { destination: "Segment" }],
    [["filters.emailEvents"], { filters: { email_events: ["click", "open"] } }],
    [["properties.writeKey"], { properties: { write_key: "wk_patch_key_1" } }],
    [["properties.destinationRegion"], { properties: { destination_region: "EU" } }],
    [
      ["properties.writeKey", "properties.destinationRegion", "label"],
      { label: "L", properties: { write_key: "wk_patch_key_1", destination_region: "EU" } },
    ],
    [[], {}],
    [["onBehalfOf", "account"], {}],
  ])("%j → %j", (fields, body) => {
    expect(toWirePatch(desired, fields)).toStrictEqual(body);
  });
});

describe("keyVerdict: a live write key masked in several places", () => {
  const DECLARED = "wk_DO_NOT_LEAK_prod_93ab";
  it("is held against the declared key by its first and last visible parts", () => {
    expect(keyVerdict("wk_D****prod****93ab", DECLARED)).toBe("unseen"); // fits: never proves the same key
    expect(keyVerdict("wk_D****prod****00ff", DECLARED)).toBe("different"); // its end shows another key
    expect(keyVerdict("zz_D****prod****93ab", DECLARED)).toBe("different"); // its start shows another key
  });
});
