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
