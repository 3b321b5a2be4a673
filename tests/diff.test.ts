// Layer 1: diff — no API call; what updates in place and what replaces.
import { beforeEach, describe, expect, it, vi } from "vitest";
import type * as Diff from "../provider/diff";
import { UNKNOWN } from "../provider/schema";

// Each test loads diff.ts afresh: its field table (which fields, how each is read, which replace)
// is module-level, and is checked here as loaded for the test, not as loaded once for the file.
let diffIntegration: typeof Diff.diffIntegration;
let keepUnchanged: typeof Diff.keepUnchanged;
beforeEach(async () => {
  vi.resetModules();
  ({ diffIntegration, keepUnchanged } = await import("../provider/diff.js"));
});

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

describe("diff under ignoreChanges (the engine's paths, as the plugin receives them)", () => {
  // Every in-place field changed: which of them each ignoreChanges list still shows.
  const news = () => ({
    ...desired(),
    label: "Prod",
    filters: { emailEvents: ["open"] },
    properties: { writeKey: "wk_rotated", destinationRegion: "EU" },
  });
  const ALL = ["label", "filters.emailEvents", "properties.writeKey", "properties.destinationRegion"];
  const without = (...paths: string[]) => ALL.filter((p) => !paths.includes(p));

  it.each([
    [[], ALL],
    [["label"], without("label")],
    [['["label"]'], without("label")],
    [["properties"], without("properties.writeKey", "properties.destinationRegion")],
    [["properties.writeKey"], without("properties.writeKey")],
    [['properties["writeKey"]'], without("properties.writeKey")],
    [['properties[ "writeKey" ]'], without("properties.writeKey")],
    [["properties.*"], without("properties.writeKey", "properties.destinationRegion")],
    [["*.writeKey"], without("properties.writeKey")],
    [["*"], []],
    [["label", 'filters["emailEvents"]'], without("label", "filters.emailEvents")],
    [["prop", "labels", "properties.write"], ALL], // a name's prefix, or a longer name, is another name
    [["filters.emailEvents[0]"], ALL], // one element of the list does not hide the list's other changes
    [["filters.emailEvents[*]"], ALL],
    [['filters["emailEvents"][0]'], ALL],
  ])("%j leaves %j", (ignoreChanges, changed) => {
    expect(diffIntegration(state(), news(), ignoreChanges)).toEqual({
      changes: changed.length > 0,
      changed,
      replaces: [],
      deleteBeforeReplace: false,
    });
  });

  it("a bracketed key is one key, dots and all: [properties.writeKey] and label[] name no field, so hide nothing", () => {
    expect(diffIntegration(state(), news(), ["[properties.writeKey]", "label[]"]).changed).toEqual(ALL);
  });

  it("an ignored field that would replace neither changes nor replaces", () => {
    const moved = { ...desired(), onBehalfOf: "subuser-a", destination: "Other" };
    expect(diffIntegration(state(), moved, ["onBehalfOf"])).toMatchObject({
      changed: ["destination"],
      replaces: ["destination"],
    });
    expect(diffIntegration(state(), moved, ["onBehalfOf", "destination"]).changes).toBe(false);
  });
});

describe("keepUnchanged: what an update did not change keeps state's value", () => {
  const answer = () => ({
    ...state(),
    label: "Live label",
    filters: { emailEvents: ["bounce"] },
    properties: { writeKey: "wk_live_1", destinationRegion: "EU" },
    stateVersion: 3,
  });

  it("every field not changed comes from state, nested ones beside their siblings; changed ones from the answer", () => {
    expect(keepUnchanged(answer(), state(), ["properties.destinationRegion"])).toStrictEqual({
      ...answer(),
      label: "Untitled Integration",
      filters: { emailEvents: ["click", "open"] },
      properties: { writeKey: "wk_123456", destinationRegion: "EU" },
    });
    expect(keepUnchanged(answer(), state(), ["label", "filters.emailEvents"])).toStrictEqual({
      ...answer(),
      properties: { writeKey: "wk_123456", destinationRegion: "US" },
    });
  });

  it("puts state's nested values in place where the answer has no object for them (absent, null)", () => {
    const { filters: _f, ...noFilters } = answer();
    const kept = keepUnchanged({ ...noFilters, properties: null }, state(), []);
    expect(kept).toStrictEqual({
      ...answer(),
      label: "Untitled Integration",
      filters: { emailEvents: ["click", "open"] },
      properties: { writeKey: "wk_123456", destinationRegion: "US" },
    });
  });

  it("leaves the answer's value where state has none, and copies, never shares, state's", () => {
    const olds = { ...state(), filters: {} };
    const kept = keepUnchanged(answer(), olds, []);
    expect(kept.filters).toStrictEqual({ emailEvents: ["bounce"] });
    expect(kept).not.toHaveProperty("onBehalfOf");
    const olds2 = state();
    const fromState = keepUnchanged(answer(), olds2, []);
    expect(fromState.filters.emailEvents).toEqual(["click", "open"]);
    expect(fromState.filters.emailEvents).not.toBe(olds2.filters.emailEvents);
  });
});
