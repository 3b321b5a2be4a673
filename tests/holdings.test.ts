// Which integrations this deployment's resources hold (provider/holdings.ts).
import { describe, expect, it } from "vitest";
import { Holdings } from "../provider/holdings";
import { toIntegrationInputs } from "../provider/schema";
import { desired, WRITE_KEY_2 } from "./support/fixtures";

describe("Holdings", () => {
  it("an id seen in state is held; a create cannot claim it", () => {
    const h = new Holdings();
    expect(h.isHeld("a")).toBe(false);
    h.seen("a");
    expect(h.isHeld("a")).toBe(true);
    expect(h.claim("a", false)).toBe(false);
    expect(h.claim("a", true)).toBe(false);
    expect(h.adoptedHere("a")).toBe(false);
  });

  it("a claimed id is held once; only an adopted one counts as adopted here", () => {
    const h = new Holdings();
    expect(h.claim("m", false)).toBe(true);
    expect(h.claim("m", false)).toBe(false);
    expect(h.adoptedHere("m")).toBe(false);
    expect(h.claim("x", true)).toBe(true);
    expect(h.adoptedHere("x")).toBe(true);
    h.seen("x"); // seeing it in state later does not change who holds it
    expect(h.adoptedHere("x")).toBe(true);
  });

  it("a delete releases the id and records it, and its place; only that place", () => {
    const h = new Holdings();
    h.seen("a");
    h.deletedNow("a", "place-1");
    expect(h.isHeld("a")).toBe(false);
    expect(h.deletedHere("a")).toBe(true);
    expect(h.deletedHere("b")).toBe(false);
    expect(h.deletedIn("place-1")).toBe(true);
    expect(h.deletedIn("place-2")).toBe(false);
  });

  it("an id a staying resource keeps (its diff asked for no replacement) is kept, and only that id", () => {
    const h = new Holdings();
    expect(h.isKept("a")).toBe(false);
    h.keep("a");
    expect(h.isKept("a")).toBe(true);
    expect(h.isKept("b")).toBe(false);
  });

  it("an empty id is never held", () => {
    const h = new Holdings();
    h.seen("");
    expect(h.isHeld("")).toBe(false);
  });

  it("a released id can be taken again", () => {
    const h = new Holdings();
    h.seen("a");
    h.release("a");
    expect(h.isHeld("a")).toBe(false);
    expect(h.claim("a", false)).toBe(true);
  });

  it("identical integrations run one at a time, in order; different ones do not wait", async () => {
    const h = new Holdings();
    const same = toIntegrationInputs(desired());
    const twin = toIntegrationInputs(desired({ filters: { emailEvents: ["delivered", "open", "click"] } }));
    const other = toIntegrationInputs(desired({ properties: { writeKey: WRITE_KEY_2, destinationRegion: "US" } }));
    const log: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const first = h.exclusive(same, async () => {
      log.push("first starts");
      await gate;
      log.push("first ends");
      return 1;
    });
    const second = h.exclusive(twin, async () => {
      log.push("second runs");
      return 2;
    });
    const third = h.exclusive(other, async () => {
      log.push("other runs");
      return 3;
    });
    await expect(third).resolves.toBe(3);
    expect(log).toEqual(["first starts", "other runs"]);
    release();
    await expect(first).resolves.toBe(1);
    await expect(second).resolves.toBe(2);
    expect(log).toEqual(["first starts", "other runs", "first ends", "second runs"]);
  });

  it("a failed task does not block the next identical one, and its error reaches its caller", async () => {
    const h = new Holdings();
    const same = toIntegrationInputs(desired());
    const failed = h.exclusive(same, async () => {
      throw new Error("boom");
    });
    await expect(failed).rejects.toThrow("boom");
    await expect(h.exclusive(same, async () => "next")).resolves.toBe("next");
  });

  it.each([
    ["account (named vs default)", {}, { account: "eu" }],
    ["account (two named)", { account: "a" }, { account: "b" }],
    ["subuser (one vs the parent)", {}, { onBehalfOf: "sub" }],
    ["subuser (two)", { onBehalfOf: "x" }, { onBehalfOf: "y" }],
    ["label", {}, { label: "Other" }],
    ["events", {}, { filters: { emailEvents: ["open"] } }],
    ["region", {}, { properties: { writeKey: "wk_DO_NOT_LEAK_prod_93ab", destinationRegion: "EU" } }],
  ])("integrations differing in %s do not wait for each other", async (_, one, other) => {
    const h = new Holdings();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const first = h.exclusive(toIntegrationInputs(desired(one)), () => gate);
    await expect(h.exclusive(toIntegrationInputs(desired(other)), async () => "ran")).resolves.toBe("ran");
    release();
    await first;
  });
});
