// Creating without duplicates: which live integration counts as "ours" after a lost answer, which
// failures are final, and what the user is told when checking fails. In-process, over real HTTP.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../emulator";
import * as provider from "../provider/dynamic";
import { ApiError, RequestError, ResponseError } from "../provider/errors";
import { mayHaveCommitted, sameIntegration } from "../provider/reconcile";
import { toIntegrationInputs } from "../provider/schema";
import type { WireIntegration } from "../provider/wire";
import { API_KEY, configureRequest, desired, rejectionOf, WRITE_KEY } from "./support/fixtures";

let emulator: Emulator;
const configure = (extra: Record<string, string> = {}) =>
  provider.configure(
    configureRequest({
      "sendgrid:apiKey": API_KEY,
      "sendgrid:apiBaseUrl": emulator.url,
      "sendgrid:requestTimeoutMs": "300",
      "sendgrid:retryBudgetMs": "2000",
      ...extra,
    }) as never,
  );
beforeEach(async () => {
  emulator = await startEmulator({ apiKeys: [API_KEY] });
  await configure();
});
afterEach(() => emulator.close());

const checked = async (overrides: Record<string, unknown> = {}) =>
  (await provider.check({}, desired(overrides))).inputs;
const calls = () => emulator.requests.map((r) => `${r.method} ${r.status}`);

const ours = toIntegrationInputs(desired());
const live = (over: Partial<WireIntegration> = {}, properties: Record<string, unknown> = {}): WireIntegration => ({
  integration_id: "x1",
  label: "Prod events",
  destination: "Segment",
  filters: { email_events: ["delivered", "click", "open"] },
  ...over,
  properties: { write_key: WRITE_KEY, destination_region: "US", ...properties } as WireIntegration["properties"],
});

describe("sameIntegration: a live integration is ours only if every field matches", () => {
  it("matches on label, destination, event set (any order), region and write key", () => {
    expect(sameIntegration(live(), ours)).toBe(true);
    expect(sameIntegration(live({ destination: undefined }), ours)).toBe(true); // the API's default
  });

  it.each([
    ["label", live({ label: "Prod events 2" })],
    ["an added event", live({ filters: { email_events: ["delivered", "click", "open", "bounce"] } })],
    ["a missing event", live({ filters: { email_events: ["click", "open"] } })],
    ["a swapped event", live({ filters: { email_events: ["delivered", "click", "bounce"] } })],
    ["no events", live({ filters: {} })],
    ["region", live({}, { destination_region: "EU" })],
    ["no region", live({}, { destination_region: undefined })],
    ["write key", live({}, { write_key: "wk_someone_elses_key" })],
  ] as const)("rejects a near-match that differs in %s", (_, candidate) => {
    expect(sameIntegration(candidate, ours)).toBe(false);
  });

  it("a live integration without properties, or with another destination, is not ours", () => {
    const { properties: _none, ...bare } = live();
    expect(sameIntegration(bare, ours)).toBe(false);
    expect(sameIntegration(live({ destination: "Other" as never }), ours)).toBe(false);
  });

  it("a masked or missing live write key does not decide either way", () => {
    expect(sameIntegration(live({}, { write_key: "****prod" }), ours)).toBe(true);
    expect(sameIntegration(live({}, { write_key: undefined }), ours)).toBe(true);
  });

  it.each([
    ["label", { label: "Other" }],
    ["events", { filters: { email_events: ["open"] } }],
    ["region", { properties: { write_key: WRITE_KEY, destination_region: "EU" } }],
    ["write key", { properties: { write_key: "wk_near_match_1", destination_region: "US" } }],
  ])("after a lost POST answer, a live near-match (%s) is not adopted: the create is made anew", async (_, over) => {
    const near = emulator.seed({
      label: "Prod events",
      destination: "Segment",
      filters: { email_events: ["click", "delivered", "open"] },
      properties: { write_key: WRITE_KEY, destination_region: "US" },
      ...over,
    } as never);
    emulator.inject({ kind: "status", status: 503, method: "POST" });
    const { id } = await provider.create(await checked());
    expect(id).not.toBe(near.integration_id);
    expect(calls()).toEqual(["POST 503", "GET 200", "POST 201"]);
  });
});

describe("what is final on create", () => {
  it.each([400, 401, 404, 405, 409, 422])(
    "a %i fails at once: one POST, no listing, ERR_SENDGRID_API",
    async (status) => {
      emulator.inject({ kind: "status", status, method: "POST" });
      const error = await rejectionOf(provider.create(await checked()));
      expect(error).toBeInstanceOf(ApiError);
      expect(error.code).toBe("ERR_SENDGRID_API");
      expect(error.message).toContain(`HTTP ${status}`);
      expect(calls()).toEqual([`POST ${status}`]);
    },
  );

  it("connection refused was never sent: no reconciliation, one clear error", async () => {
    await configure({ "sendgrid:apiBaseUrl": "http://127.0.0.1:9", "sendgrid:retryBudgetMs": "600" });
    const error = await rejectionOf(provider.create(await checked()));
    expect(error).toBeInstanceOf(RequestError);
    expect(error.message).toMatch(
      /^Unable to create SendGrid Segment integration "Prod events": request failed \(ECONNREFUSED\)/,
    );
  });

  it("a 403 below the limit is the API's answer, with the scope hint; the check lists once", async () => {
    emulator.inject({ kind: "status", status: 403, method: "POST" });
    const error = await rejectionOf(provider.create(await checked()));
    expect(error.message).toBe(
      'Unable to create SendGrid Segment integration "Prod events": HTTP 403 Forbidden: internal error. ' +
        "The account may be at its limit of 10 Segment integrations, or the API key lacks the marketing integrations scope",
    );
    expect(calls()).toEqual(["POST 403", "GET 200"]);
  });

  it("a 403 whose listing also fails keeps the 403's own message", async () => {
    emulator.inject({ kind: "status", status: 403, method: "POST" }, { kind: "status", status: 401, method: "GET" });
    const error = await rejectionOf(provider.create(await checked()));
    expect(error.message).toMatch(/^Unable to create SendGrid Segment integration "Prod events": HTTP 403 Forbidden/);
    expect(error.code).toBe("ERR_SENDGRID_API");
  });

  it("at the parent account's limit, the message says 'the account'", async () => {
    for (let i = 0; i < 10; i++) {
      emulator.seed({
        label: `L${i}`,
        destination: "Segment",
        filters: { email_events: ["open"] },
        properties: { write_key: "wk_other_1", destination_region: "US" },
      });
    }
    const error = await rejectionOf(provider.create(await checked()));
    expect(error.code).toBe("ERR_SENDGRID_QUOTA");
    expect(error.message).toMatch(
      /^Unable to create SendGrid Segment integration "Prod events": the account already has 10 Segment integrations, SendGrid's limit is 10: "L0" \(/,
    );
    expect(error.message).toMatch(
      /\. Delete one you no longer need, or manage an existing one from this stack \(importId\) instead of creating another$/,
    );
  });
});

describe("the quota message", () => {
  it('lists the first 10 live integrations (a nameless one as "") and never a write key used as a label', async () => {
    await emulator.close();
    emulator = await startEmulator({ apiKeys: [API_KEY], limit: 11 });
    await configure();
    const seeded = [];
    for (let i = 0; i < 11; i++) {
      seeded.push(
        emulator.seed({
          label: i === 0 ? (undefined as never) : i === 1 ? `key ${WRITE_KEY}` : `L${i}`,
          destination: "Segment",
          filters: { email_events: ["open"] },
          properties: { write_key: "wk_other_1", destination_region: "US" },
        }).integration_id,
      );
    }
    emulator.inject({ kind: "status", status: 403, method: "POST" });
    const error = await rejectionOf(provider.create(await checked()));
    expect(error.code).toBe("ERR_SENDGRID_QUOTA");
    const listed = seeded
      .slice(0, 10)
      .map((id, i) => `${i === 0 ? '""' : i === 1 ? '"key [redacted]"' : `"L${i}"`} (${id})`)
      .join(", ");
    expect(error.message).toBe(
      `Unable to create SendGrid Segment integration "Prod events": the account already has 11 Segment integrations, SendGrid's limit is 10: ${listed}. ` +
        "Delete one you no longer need, or manage an existing one from this stack (importId) instead of creating another",
    );
  });
});

describe("when checking fails", () => {
  it("a lost answer whose listing fails too says it may exist, naming the label to look for", async () => {
    emulator.inject({ kind: "status", status: 503, method: "POST" }, { kind: "status", status: 401, method: "GET" });
    const error = await rejectionOf(provider.create(await checked()));
    expect(error.code).toBe("ERR_SENDGRID_AMBIGUOUS_CREATE");
    expect(error.message).toMatch(
      /^Unable to create SendGrid Segment integration "Prod events": HTTP 503 Service Unavailable: internal error\. It may have been created, and listing the account's integrations to check also failed \(Unable to list SendGrid integrations: HTTP 401 Unauthorized/,
    );
    expect(error.message).toMatch(/Look for "Prod events" in SendGrid before re-running$/);
    expect((error as { liveIds?: string[] }).liveIds).toEqual([]);
    expect(calls()).toEqual(["POST 503", "GET 401"]);
  });

  it("classifies failures: 5xx, sent network errors and unusable 2xx may have committed; redirects and 4xx not", () => {
    const api = (status: number) => new ApiError("create", "X", status, {}, []);
    const response = (status: number, code?: "ERR_SENDGRID_REDIRECT") =>
      new ResponseError("create", "X", status, "p", [], code);
    expect(mayHaveCommitted(api(500))).toBe(true);
    expect(mayHaveCommitted(api(499))).toBe(false);
    expect(mayHaveCommitted(new RequestError("create", "X", "r", [], "ECONNRESET"))).toBe(true);
    expect(mayHaveCommitted(new RequestError("create", "X", "r", [], "ENOTFOUND"))).toBe(false);
    expect(mayHaveCommitted(response(201))).toBe(true);
    expect(mayHaveCommitted(response(0))).toBe(true);
    expect(mayHaveCommitted(response(502))).toBe(true);
    expect(mayHaveCommitted(response(400))).toBe(false);
    expect(mayHaveCommitted(response(307, "ERR_SENDGRID_REDIRECT"))).toBe(false);
    // The edges: a 300 is a redirect, an oversized answer is a 4xx error or a 5xx one.
    expect(mayHaveCommitted(response(299))).toBe(true);
    expect(mayHaveCommitted(response(300, "ERR_SENDGRID_REDIRECT"))).toBe(false);
    expect(mayHaveCommitted(response(499))).toBe(false);
    expect(mayHaveCommitted(response(500))).toBe(true);
    expect(mayHaveCommitted(new Error("other"))).toBe(false);
  });
});
