// Layer 1: diff — no API call; what updates in place and what replaces.
import { describe, expect, it } from "vitest";
import { diffIntegration } from "../provider/diff";
import { UNKNOWN } from "../provider/schema";

const state = () => ({
  integrationId: "abc",
  userId: "1000001",
  label: "Untitled Integration",
  destination: "Segment",
  filters: { emailEvents: ["click", "open"] },
  properties: { writeKey: "wk_123456", destinationRegion: "US" },
  __provider: "old provider text",
});
const desired = () => {
  const { integrationId: _i, userId: _u, ...rest } = state();
  return { ...rest, __provider: "new provider text" };
};

describe("diff", () => {
  it("sees no change for reordered or duplicated events, an omitted label, or a new package release", () => {
    const news: Record<string, unknown> = { ...desired(), filters: { emailEvents: ["open", "click", "open"] } };
    delete news.label;
    delete news.destination;
    const d = diffIntegration(state(), news);
    expect(d.changes).toBe(false);
    expect(d.changed).toEqual([]);
  });

  it.each([
    ["label", { label: "Prod" }],
    ["filters.emailEvents", { filters: { emailEvents: ["open"] } }],
    ["properties.writeKey", { properties: { writeKey: "wk_rotated", destinationRegion: "US" } }],
    ["properties.destinationRegion", { properties: { writeKey: "wk_123456", destinationRegion: "EU" } }],
  ])("updates %s in place", (path, change) => {
    const d = diffIntegration(state(), { ...desired(), ...change });
    expect(d).toMatchObject({ changes: true, changed: [path], replaces: [] });
  });

  it.each([
    ["onBehalfOf", { onBehalfOf: "subuser-a" }],
    ["destination", { destination: "Other" }],
  ])("replaces on %s", (path, change) => {
    const d = diffIntegration(state(), { ...desired(), ...change });
    expect(d).toMatchObject({ changes: true, replaces: [path], deleteBeforeReplace: false });
  });

  it("replaces when the account changes, is named or is dropped; an empty account is the default", () => {
    const inAccount = (account?: string) => ({ ...state(), ...(account === undefined ? {} : { account }) });
    const wants = (account?: string) => ({ ...desired(), ...(account === undefined ? {} : { account }) });
    const replace = { changes: true, changed: ["account"], replaces: ["account"], deleteBeforeReplace: false };
    expect(diffIntegration(inAccount("eu"), wants("us"))).toEqual(replace);
    expect(diffIntegration(inAccount(), wants("eu"))).toEqual(replace);
    expect(diffIntegration(inAccount("eu"), wants())).toEqual(replace);
    expect(diffIntegration(inAccount(), wants("")).changes).toBe(false);
    expect(diffIntegration(inAccount("eu"), wants("eu")).changes).toBe(false);
  });

  it("treats an empty onBehalfOf as the parent account", () => {
    expect(diffIntegration(state(), { ...desired(), onBehalfOf: "" }).changes).toBe(false);
  });

  it("reports unknown values as changes, and an unknown account as a replacement", () => {
    expect(diffIntegration(state(), { ...desired(), label: UNKNOWN }).changed).toEqual(["label"]);
    expect(diffIntegration(state(), { ...desired(), properties: UNKNOWN }).changed).toEqual([
      "properties.writeKey",
      "properties.destinationRegion",
    ]);
    expect(diffIntegration(state(), { ...desired(), onBehalfOf: UNKNOWN }).replaces).toEqual(["onBehalfOf"]);
  });
});

describe("diff: the event set, both ways", () => {
  const withEvents = (emailEvents: string[]) => ({ ...desired(), filters: { emailEvents } });
  const stateWith = (emailEvents: string[]) => ({ ...state(), filters: { emailEvents } });

  it.each([
    [["click", "open"], ["bounce", "click"], "a swapped event"],
    [["bounce", "click"], ["click", "open"], "a swapped event, the other way"],
    [["open"], ["click", "open"], "an added event"],
    [["click", "open"], ["open"], "a removed event"],
    [["open"], ["open", "click", "bounce"], "two added events"],
  ])("%j → %j (%s) is an in-place change of filters.emailEvents", (before, after) => {
    expect(diffIntegration(stateWith(before), withEvents(after))).toEqual({
      changes: true,
      changed: ["filters.emailEvents"],
      replaces: [],
      deleteBeforeReplace: false,
    });
  });

  it("a list against a non-list is a change; two missing lists are not", () => {
    expect(diffIntegration(stateWith(["open"]), { ...desired(), filters: {} }).changed).toEqual([
      "filters.emailEvents",
    ]);
    expect(diffIntegration({ ...state(), filters: {} }, { ...desired(), filters: {} }).changes).toBe(false);
  });
});
