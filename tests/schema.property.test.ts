// Property-based tests of check (fast-check): thousands of random inputs, shaped like real ones
// and not. check must never throw, every failure must name a property, never echo a write key,
// and whatever passes must be what the API accepts, normalized.
import { describe, expect, it } from "vitest";
import { checkInputs, UNKNOWN } from "../provider/schema";
import { DESTINATION_REGIONS, EMAIL_EVENTS } from "../provider/types";
import { DEFAULT_SEED, fc, SEED, seedFrom } from "./support/fast-check";

const SEGMENT = String.raw`(\.[A-Za-z_$][\w$]*|\[\d+\]|\["(?:[^"\\]|\\.)*"\])`;
const PATH = new RegExp(String.raw`^([A-Za-z_$][\w$]*|\["(?:[^"\\]|\\.)*"\])${SEGMENT}*$`);

/** Anything JSON-like, with the unknown sentinel mixed in. */
const junk = fc.oneof(fc.anything(), fc.constant(UNKNOWN), fc.constant(undefined), fc.constant(null));
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ weight: 3, arbitrary: arb }, { weight: 1, arbitrary: junk });

/** Inputs that look like SegmentIntegration args, each field sometimes wrong or unknown. */
const shaped = fc.record(
  {
    label: maybe(fc.string()),
    destination: maybe(fc.constantFrom("Segment", "segment", "")),
    onBehalfOf: maybe(fc.string()),
    filters: maybe(
      fc.record({
        emailEvents: maybe(fc.array(maybe(fc.constantFrom(...EMAIL_EVENTS, "opne", "")), { maxLength: 15 })),
      }),
    ),
    properties: maybe(
      fc.record({
        writeKey: maybe(fc.string({ minLength: 0, maxLength: 60 })),
        destinationRegion: maybe(fc.constantFrom(...DESTINATION_REGIONS, "us", "APAC")),
      }),
    ),
  },
  { requiredKeys: [] },
);

const RUNS = 3000;

describe("the seed", () => {
  it("is fixed unless FC_SEED says otherwise, and is the one fast-check uses", () => {
    expect(seedFrom(undefined)).toBe(DEFAULT_SEED);
    expect(seedFrom("42")).toBe(42);
    expect(Number.isInteger(seedFrom("random"))).toBe(true);
    expect(() => seedFrom("abc")).toThrow('FC_SEED must be an integer or "random", got "abc"');
    expect(fc.readConfigureGlobal().seed).toBe(SEED);
  });
});

describe("check, property-based", () => {
  it("never throws on anything at all, and names a property in every failure", () => {
    fc.assert(
      fc.property(fc.oneof(junk, fc.dictionary(fc.string(), junk), shaped), (news) => {
        const { inputs, failures } = checkInputs(news as Record<string, unknown>);
        expect(inputs).toBeTypeOf("object");
        for (const f of failures) {
          expect(f.property).toMatch(PATH);
          expect(f.reason.length).toBeGreaterThan(0);
        }
        expect(new Set(failures.map((f) => f.property)).size).toBe(failures.length);
      }),
      { numRuns: RUNS },
    );
  });

  it("never echoes a write key in a failure", () => {
    // "§" appears in no message, so a generated key can never be one of a message's own words
    // (a key "property" once collided with "is not a property of ...").
    const writeKeys = fc.string({ minLength: 5, maxLength: 77 }).map((s) => `wk§${s}`);
    fc.assert(
      fc.property(shaped, writeKeys, (news, writeKey) => {
        const withKey = { ...news, properties: { ...(news.properties as object), writeKey } };
        for (const f of checkInputs(withKey).failures) expect(f.reason).not.toContain(writeKey);
      }),
      { numRuns: RUNS },
    );
  });

  it("never shows any part (a run of 6 characters) of any value under properties, wherever it is put", () => {
    // Letters no message uses, so a run found in a failure can only have come from the value.
    const secret = fc.string({ unit: fc.constantFrom(..."αβγδεζηθικλμνξοπρστυφχψω§"), minLength: 6, maxLength: 80 });
    const placed = fc.record(
      {
        writeKey: fc.oneof(secret, junk),
        destinationRegion: fc.oneof(secret, junk, fc.constantFrom(...DESTINATION_REGIONS)),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(shaped, placed, (news, properties) => {
        const secrets = Object.values(properties).filter((v): v is string => typeof v === "string" && v.length >= 6);
        const text = JSON.stringify(checkInputs({ ...news, properties }).failures);
        for (const value of secrets) {
          for (let i = 0; i + 6 <= value.length; i++) expect(text).not.toContain(value.slice(i, i + 6));
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("a write key given as the region (two fields swapped) is described, never quoted", () => {
    const { failures } = checkInputs({
      filters: { emailEvents: ["open"] },
      properties: { writeKey: "US", destinationRegion: "wk_DO_NOT_LEAK_prod_93ab" },
    });
    expect(failures).toEqual([
      { property: "properties.writeKey", reason: "must be 6 to 51 characters long (got 2)" },
      {
        property: "properties.destinationRegion",
        reason: "must be one of US, EU; got a string of 24 characters (not shown: properties is secret)",
      },
    ]);
  });

  it("what passes with known values is valid for the API and normalized", () => {
    fc.assert(
      fc.property(shaped, (news) => {
        const { inputs, failures } = checkInputs(news as Record<string, unknown>);
        if (failures.length > 0 || JSON.stringify(news).includes(UNKNOWN)) return;
        const events = (inputs.filters as { emailEvents: string[] }).emailEvents;
        expect(events.length).toBeGreaterThan(0);
        expect(events).toEqual([...new Set(events)].sort());
        for (const e of events) expect(EMAIL_EVENTS).toContain(e);
        const { writeKey, destinationRegion } = inputs.properties as { writeKey: string; destinationRegion: string };
        expect(writeKey.length).toBeGreaterThanOrEqual(6);
        expect(writeKey.length).toBeLessThanOrEqual(51);
        expect(DESTINATION_REGIONS).toContain(destinationRegion);
        expect(inputs.destination).toBe("Segment");
        expect(typeof inputs.label).toBe("string");
        expect(JSON.stringify(inputs)).not.toContain("null");
      }),
      { numRuns: RUNS },
    );
  });

  it("is idempotent: checking checked inputs changes nothing", () => {
    fc.assert(
      fc.property(shaped, (news) => {
        const once = checkInputs(news as Record<string, unknown>);
        if (once.failures.length > 0) return;
        expect(checkInputs(once.inputs)).toEqual(once);
      }),
      { numRuns: RUNS },
    );
  });
});
