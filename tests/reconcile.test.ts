// Creating without duplicates: which live integration counts as "ours" after a lost answer, which
// failures are final, and what the user is told when checking fails. In-process, over real HTTP.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../emulator";
import { IntegrationsClient } from "../provider/client";
import { resolveSettings } from "../provider/config";
import * as provider from "../provider/dynamic";
import { ApiError, ConfigurationError, ListRouteError, RequestError, ResponseError } from "../provider/errors";
import { Holdings } from "../provider/holdings";
import { Listings, notProof } from "../provider/places";
import {
  compareLive,
  createReconciled,
  deleteReconciled,
  differences,
  keyVerdict,
  mayHaveCommitted,
  mayStillCommit,
  patchReconciled,
  sameIntegration,
} from "../provider/reconcile";
import { toIntegrationInputs } from "../provider/schema";
import { fromWire, type IdentifiedWireIntegration, type WireIntegration } from "../provider/wire";
import { API_KEY, configureRequest, desired, rejectionOf, WRITE_KEY } from "./support/fixtures";

let emulator: Emulator;
const configure = (extra: Record<string, string> = {}) => {
  provider.newDeployment();
  return provider.configure(
    configureRequest({
      "sendgrid:apiKey": API_KEY,
      "sendgrid:apiBaseUrl": emulator.url,
      "sendgrid:requestTimeoutMs": "300",
      "sendgrid:retryBudgetMs": "2000",
      ...extra,
    }) as never,
  );
};
beforeEach(async () => {
  emulator = await startEmulator({ apiKeys: [API_KEY] });
  await configure();
});
afterEach(() => emulator.close());

const checked = async (overrides: Record<string, unknown> = {}) =>
  (await provider.check({}, desired(overrides))).inputs;
const calls = () => emulator.requests.map((r) => `${r.method} ${r.status}`);

const ours = toIntegrationInputs(desired());
const live = (
  over: Partial<WireIntegration> = {},
  properties: Record<string, unknown> = {},
): IdentifiedWireIntegration => ({
  integration_id: "x1",
  label: "Prod events",
  destination: "Segment",
  filters: { email_events: ["delivered", "click", "open"] },
  ...over,
  properties: { write_key: WRITE_KEY, destination_region: "US", ...properties } as WireIntegration["properties"],
});

describe("sameIntegration: a live integration is ours only if every field matches", () => {
  it("matches on label, destination, event set (any order), region and write key, each shown", () => {
    expect(sameIntegration(live(), ours)).toBe(true);
    // A field the answer leaves out is not shown: it may be anything, so it never proves a match.
    expect(sameIntegration(live({ destination: undefined }), ours)).toBe(false);
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

  it("a masked or missing live write key never proves a match (issue 23)", () => {
    expect(sameIntegration(live({}, { write_key: "****93ab" }), ours)).toBe(false);
    expect(sameIntegration(live({}, { write_key: undefined }), ours)).toBe(false);
    expect(sameIntegration(live({}, { write_key: "" }), ours)).toBe(false);
  });

  it("what a live write key shows of a declared one: same, different, or unseen", () => {
    expect(keyVerdict(WRITE_KEY, WRITE_KEY)).toBe("same");
    expect(keyVerdict("wk_someone_else", WRITE_KEY)).toBe("different");
    expect(keyVerdict(undefined, WRITE_KEY)).toBe("unseen");
    expect(keyVerdict("", WRITE_KEY)).toBe("unseen");
    expect(keyVerdict(42, WRITE_KEY)).toBe("unseen");
    expect(keyVerdict(WRITE_KEY, undefined)).toBe("unseen");
    // A mask shows parts: they can prove it different, never the same.
    expect(keyVerdict(`${"*".repeat(20)}93ab`, WRITE_KEY)).toBe("unseen");
    expect(keyVerdict(`${"*".repeat(20)}ffff`, WRITE_KEY)).toBe("different");
    expect(keyVerdict("wk_D****", WRITE_KEY)).toBe("unseen");
    expect(keyVerdict("xx****", WRITE_KEY)).toBe("different");
    expect(keyVerdict("wk_DO_NOT_LE****EAK_prod_93ab", WRITE_KEY)).toBe("different"); // more shown than the key has
    expect(keyVerdict("wk_DO_NOT****_LEAK_prod_93ab", WRITE_KEY)).toBe("unseen"); // a mask over nothing fits
    expect(keyVerdict("wk****93ab", WRITE_KEY)).toBe("unseen");
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

describe("what a listing proves about an absent id (places.ts notProof)", () => {
  const listing = (owners: (string | undefined)[], unidentified = 0) => ({
    integrations: owners.map((user_id, i) => ({
      ...live({ integration_id: `i${i}` }),
      ...(user_id ? { user_id } : {}),
    })),
    unidentified,
  });
  it("an entry of the owner proves it, whatever the key", () => {
    expect(notProof(listing(["u1", "u2"]), { userId: "u1", sameKey: false })).toBeUndefined();
  });
  it("entries all of another owner prove nothing, even with the same key", () => {
    expect(notProof(listing(["u2"]), { userId: "u1", sameKey: true })).toMatch(
      /belong to SendGrid user u2, not to user u1/,
    );
  });
  it("an empty list (or one without owners) proves it only with the key that last saw it", () => {
    for (const shown of [listing([]), listing([undefined])]) {
      expect(notProof(shown, { userId: "u1", sameKey: true })).toBeUndefined();
      expect(notProof(shown, { userId: "u1", sameKey: false })).toMatch(/the API key is not the one that last saw it/);
      expect(notProof(shown, { sameKey: false })).toMatch(/pulumi state delete/);
    }
  });
  it("a listed entry without an id proves nothing, whoever lists it", () => {
    expect(notProof(listing(["u1"], 1), { userId: "u1", sameKey: true })).toMatch(/1 listed integration carries no id/);
    expect(notProof(listing([], 2), { sameKey: true })).toMatch(/2 listed integrations carry no id/);
  });
});

describe("fromWire: a masked key", () => {
  it("that fits the known key keeps it; one whose visible part shows another key stays as shown (drift)", () => {
    expect(fromWire(live({}, { write_key: `****${WRITE_KEY.slice(-4)}` }), ours).properties.writeKey).toBe(WRITE_KEY);
    expect(fromWire(live({}, { write_key: "" }), ours).properties.writeKey).toBe(WRITE_KEY);
    expect(fromWire(live({}, { write_key: "****zz99" }), ours).properties.writeKey).toBe("****zz99");
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
    // An error of unknown kind may have followed a commit; a configuration error stopped it before.
    expect(mayHaveCommitted(new Error("other"))).toBe(true);
    expect(mayHaveCommitted(new ConfigurationError("no key"))).toBe(false);
    expect(mayHaveCommitted(new RequestError("create", "X", "r", [], "HPE_INVALID_CONSTANT"))).toBe(true);
    expect(mayHaveCommitted(new RequestError("create", "X", "r", [], "ERR_STOPPED_BEFORE_SENDING"))).toBe(false);
  });
});

/** A client of the emulator with a 300 ms request timeout, and a sleep that only records. */
async function direct() {
  const settings = resolveSettings(
    (key) =>
      ({
        "sendgrid:apiKey": API_KEY,
        "sendgrid:apiBaseUrl": emulator.url,
        "sendgrid:requestTimeoutMs": "300",
        "sendgrid:retryBudgetMs": "2000",
      })[key],
    {},
  );
  const client = await IntegrationsClient.create(settings);
  const waits: number[] = [];
  const sleep = { listings: new Listings(), wait: async (ms: number) => void waits.push(ms) };
  return { client, waits, sleep };
}

/** What a reconciling write needs, with the real sleep. */
const settling = () => ({ listings: new Listings() });

describe("a server still committing", () => {
  it("after a POST with no answer, one request timeout passes and the list is read again before any new POST", async () => {
    const { client, waits } = await direct();
    emulator.inject({ kind: "late-commit", method: "POST", delayMs: 450 });
    const created = await createReconciled(client, ours, new Holdings(), settling());
    expect(waits).toEqual([]); // the real sleep was used
    expect(emulator.integrations().map((i) => i.integration_id)).toEqual([created.integration_id]);
    expect(calls()).toEqual(["POST 0", "GET 200", "GET 200"]);
  });

  it("waits exactly the client's settle time (its request timeout), then POSTs again only when nothing showed", async () => {
    const { client, waits, sleep } = await direct();
    expect(client.settleMs).toBe(300);
    emulator.inject({ kind: "hang", method: "POST" });
    const created = await createReconciled(client, ours, new Holdings(), sleep);
    expect(waits).toEqual([300]);
    expect(calls()).toEqual(["POST 0", "GET 200", "GET 200", "POST 201"]);
    expect(emulator.integrations().map((i) => i.integration_id)).toEqual([created.integration_id]);
  });

  it.each([502, 504])("a gateway's %i: the server may still commit, so it waits too", async (status) => {
    const { client, waits, sleep } = await direct();
    emulator.inject({ kind: "status", status, method: "POST" });
    await createReconciled(client, ours, new Holdings(), sleep);
    expect(waits).toEqual([300]);
  });

  it.each([500, 503])("the server's own %i: it has finished, so no wait", async (status) => {
    const { client, waits, sleep } = await direct();
    emulator.inject({ kind: "status", status, method: "POST" });
    await createReconciled(client, ours, new Holdings(), sleep);
    expect(waits).toEqual([]);
    expect(calls()).toEqual([`POST ${status}`, "GET 200", "POST 201"]);
  });

  it("a match found at once is taken without waiting", async () => {
    const { client, waits, sleep } = await direct();
    emulator.inject({ kind: "commit-drop", method: "POST" });
    await createReconciled(client, ours, new Holdings(), sleep);
    expect(waits).toEqual([]);
    expect(calls()).toEqual(["POST 0", "GET 200"]);
  });

  it("classifies what may still be committing: no answer, a gateway that gave up, a 5xx not in SendGrid's shape", () => {
    const sendgrid = { errors: [{ message: "internal error" }] };
    expect(mayStillCommit(new RequestError("create", "X", "r", [], "ETIMEDOUT"))).toBe(true);
    expect(mayStillCommit(new RequestError("create", "X", "r", [], "ECONNRESET"))).toBe(true);
    for (const status of [502, 504, 520, 521, 522, 523, 524]) {
      expect(mayStillCommit(new ApiError("create", "X", status, sendgrid, [])), String(status)).toBe(true);
    }
    expect(mayStillCommit(new ApiError("create", "X", 500, "<html>oops</html>", []))).toBe(true);
    for (const status of [200, 500, 503, 499])
      expect(mayStillCommit(new ApiError("create", "X", status, sendgrid, [])), String(status)).toBe(false);
    expect(mayStillCommit(new ResponseError("create", "X", 201, "p", []))).toBe(false);
  });
});

describe("holdings in reconciliation", () => {
  it("never recognises an integration another resource holds; POSTs its own", async () => {
    const { client, sleep } = await direct();
    const holdings = new Holdings();
    const theirs = await createReconciled(client, ours, holdings, sleep); // the other resource's
    emulator.requests.length = 0;
    emulator.inject({ kind: "status", status: 503, method: "POST" });
    const mine = await createReconciled(client, ours, holdings, sleep);
    expect(mine.integration_id).not.toBe(theirs.integration_id);
    expect(calls()).toEqual(["POST 503", "GET 200", "POST 201"]);
    expect(holdings.adoptedHere(mine.integration_id)).toBe(false);
  });

  it("an integration it recognises is claimed as adopted; one it made as made", async () => {
    const { client, sleep } = await direct();
    const holdings = new Holdings();
    emulator.inject({ kind: "commit-drop", method: "POST" });
    const adopted = await createReconciled(client, ours, holdings, sleep);
    expect(holdings.adoptedHere(adopted.integration_id)).toBe(true);
    const made = await createReconciled(client, toIntegrationInputs(desired({ label: "Other" })), holdings, sleep);
    expect(holdings.isHeld(made.integration_id)).toBe(true);
    expect(holdings.adoptedHere(made.integration_id)).toBe(false);
  });

  it("a failed create claims nothing", async () => {
    const { client, sleep } = await direct();
    const holdings = new Holdings();
    emulator.inject({ kind: "status", status: 400, method: "POST" });
    await rejectionOf(createReconciled(client, ours, holdings, sleep));
    const [only] = emulator.integrations();
    expect(only).toBeUndefined();
  });
});

describe("differences: the one notion of the same integration", () => {
  it("names each differing field as diff names it", () => {
    expect(differences(live(), ours)).toEqual([]);
    expect(differences(live({ label: "x", filters: { email_events: ["open"] } }), ours)).toEqual([
      "label",
      "filters.emailEvents",
    ]);
    expect(differences(live({}, { write_key: "wk_other_key_1", destination_region: "EU" }), ours)).toEqual([
      "properties.writeKey",
      "properties.destinationRegion",
    ]);
  });

  it("a live integration that does not show its region is unseen there (refresh would keep the known one)", () => {
    expect(differences(live({}, { destination_region: undefined }), ours)).toEqual(["properties.destinationRegion"]);
  });

  it("a live integration without a label does not show it: unseen, even when the default is declared", () => {
    const unnamed = toIntegrationInputs(desired({ label: undefined }));
    expect(differences(live({ label: undefined }), unnamed)).toEqual(["label"]);
  });
});

describe("patchReconciled", () => {
  const seeded = () =>
    emulator.seed({
      label: "Prod events",
      destination: "Segment",
      filters: { email_events: ["click", "delivered", "open"] },
      properties: { write_key: WRITE_KEY, destination_region: "US" },
    }).integration_id;

  it("sends only the given fields", async () => {
    const { client } = await direct();
    const id = seeded();
    const result = await patchReconciled(
      client,
      id,
      toIntegrationInputs(desired({ label: "New" })),
      ["label"],
      {},
      settling(),
    );
    expect(result.label).toBe("New");
    expect(emulator.requests.map((r) => r.fields)).toEqual([["label"]]);
  });

  it("an unusable 2xx is read back: the patched fields as desired count as done", async () => {
    const { client } = await direct();
    const id = seeded();
    emulator.inject({ kind: "malformed", body: "text", method: "PATCH" });
    const result = await patchReconciled(
      client,
      id,
      toIntegrationInputs(desired({ label: "New" })),
      ["label"],
      {},
      settling(),
    );
    expect(result.label).toBe("New");
    expect(calls()).toEqual(["PATCH 200", "GET 200"]);
  });

  it("an unusable 2xx that applied nothing: the PATCH's own error stands", async () => {
    const { client } = await direct();
    const id = seeded();
    emulator.inject({ kind: "status", status: 200, method: "PATCH" }); // a 200 that does nothing
    const error = await rejectionOf(
      patchReconciled(client, id, toIntegrationInputs(desired({ label: "New" })), ["label"], {}, settling()),
    );
    expect(error.code).toBe("ERR_SENDGRID_RESPONSE");
    expect(error.message).toMatch(
      new RegExp(`^Unable to update SendGrid Segment integration ${id}: the answer \\(HTTP 200`),
    );
    expect(calls()).toEqual(["PATCH 200", "GET 200"]);
  });

  it("on read-back, only the patched fields must match: a field changed outside Pulumi does not fail it", async () => {
    const { client } = await direct();
    const id = seeded();
    emulator.seed({ ...emulator.integrations()[0]!, filters: { email_events: ["bounce"] } }); // out of band
    emulator.inject({ kind: "malformed", body: "text", method: "PATCH" });
    const result = await patchReconciled(
      client,
      id,
      toIntegrationInputs(desired({ label: "New" })),
      ["label"],
      {},
      settling(),
    );
    expect(result).toMatchObject({ label: "New", filters: { email_events: ["bounce"] } });
  });

  it("any other failure is the PATCH's error, with no read-back", async () => {
    const { client } = await direct();
    const id = seeded();
    emulator.inject({ kind: "status", status: 400, method: "PATCH" });
    const error = await rejectionOf(patchReconciled(client, id, ours, ["label"], {}, settling()));
    expect(error.message).toContain("HTTP 400");
    expect(calls()).toEqual(["PATCH 400"]);
  });
});

describe("issue 23: the same integration only on visible fields", () => {
  it("after a lost POST answer, an unheld twin whose write key the API masks is never adopted: the create fails naming it", async () => {
    await emulator.close();
    emulator = await startEmulator({ apiKeys: [API_KEY], writeKeyMode: "masked" });
    await configure();
    // Another Segment source's integration, with the same label, events and region, and a key that
    // ends like ours: the mask (the last 4 characters) cannot tell them apart.
    const other = emulator.seed({
      label: "Prod events",
      destination: "Segment",
      filters: { email_events: ["click", "delivered", "open"] },
      properties: { write_key: "wk_another_source_93ab", destination_region: "US" },
    });
    emulator.inject({ kind: "status", status: 503, method: "POST" });
    const error = await rejectionOf(provider.create(await checked()));
    expect(error.code).toBe("ERR_SENDGRID_AMBIGUOUS_CREATE");
    expect(error.message).toContain(`may be it (${other.integration_id})`);
    expect(error.message).toContain("do not show every field".replace("do not", "does not"));
    expect((error as { liveIds?: string[] }).liveIds).toEqual([other.integration_id]);
    // Nothing was POSTed again: a second integration could be a duplicate.
    expect(calls().filter((c) => c.startsWith("POST"))).toEqual(["POST 503"]);
  });

  it("after a lost POST answer with keys hidden, a twin whose mask shows another key is not a candidate: the POST is made again", async () => {
    await emulator.close();
    emulator = await startEmulator({ apiKeys: [API_KEY], writeKeyMode: "masked" });
    await configure();
    emulator.seed({
      label: "Prod events",
      destination: "Segment",
      filters: { email_events: ["click", "delivered", "open"] },
      properties: { write_key: "wk_another_source_zzzz", destination_region: "US" },
    });
    emulator.inject({ kind: "status", status: 503, method: "POST" });
    const { id } = await provider.create(await checked());
    expect(emulator.integrations().map((i) => i.integration_id)).toContain(id);
    expect(calls()).toEqual(["POST 503", "GET 200", "POST 201"]);
  });

  it("a committed POST whose answer no HTTP parser accepts may have been sent: it is recognised, never POSTed twice", async () => {
    emulator.inject({ kind: "commit-garbled", method: "POST" });
    const { id } = await provider.create(await checked());
    expect(emulator.integrations().map((i) => i.integration_id)).toEqual([id]);
    expect(calls()).toEqual(["POST 0", "GET 200"]);
  });

  it.each([520, 521, 522, 523, 524])(
    "a committed POST answered %i by a gateway may still be committing: settled by listing, one integration",
    async (status) => {
      emulator.inject({ kind: "commit-status", status, method: "POST" });
      const { id } = await provider.create(await checked());
      expect(emulator.integrations().map((i) => i.integration_id)).toEqual([id]);
      expect(calls()).toEqual([`POST ${status}`, "GET 200"]);
    },
  );

  it("a 2xx the list does not show (after waiting too) is never POSTed again: the server said it created it", async () => {
    const { client, waits, sleep } = await direct();
    // A 201 whose body is no integration, and nothing was made (a proxy's or a broken server's answer).
    emulator.inject({ kind: "status", status: 201, method: "POST" });
    const error = await rejectionOf(createReconciled(client, ours, new Holdings(), sleep));
    expect(error.code).toBe("ERR_SENDGRID_AMBIGUOUS_CREATE");
    expect(error.message).toContain("SendGrid answered that it created it, yet listing the account does not show it");
    expect(error.message).toContain("nothing was sent again");
    expect(waits).toEqual([300]);
    expect(calls()).toEqual(["POST 201", "GET 200", "GET 200"]);
    expect(emulator.integrations()).toEqual([]);
  });

  it("a gateway's 524 before the origin commits: it waits one request timeout, lists again, then POSTs", async () => {
    const { client, waits, sleep } = await direct();
    emulator.inject({ kind: "status", status: 524, method: "POST" });
    await createReconciled(client, ours, new Holdings(), sleep);
    expect(waits).toEqual([300]);
    expect(calls()).toEqual(["POST 524", "GET 200", "GET 200", "POST 201"]);
  });

  it("a listing with an integration that carries no id cannot prove anything: the create fails, never POSTs again", async () => {
    const { client, sleep } = await direct();
    emulator.inject({ kind: "status", status: 503, method: "POST" });
    const seeded = emulator.seed({
      label: "Other",
      destination: "Segment",
      filters: { email_events: ["open"] },
      properties: { write_key: "wk_other_key_1", destination_region: "US" },
    });
    delete (seeded as { integration_id?: string }).integration_id; // stored without an id, as the spec allows
    const error = await rejectionOf(createReconciled(client, ours, new Holdings(), sleep));
    expect(error.code).toBe("ERR_SENDGRID_AMBIGUOUS_CREATE");
    expect(error.message).toContain("1 listed integration carries no id");
  });

  it("an id the create answer gives that another resource holds is a conflict, not shared (a failed claim is final)", async () => {
    const { client, sleep } = await direct();
    const holdings = new Holdings();
    holdings.seen("foreign-0000"); // a resource in state holds it
    emulator.inject({ kind: "malformed", body: "foreign-id", method: "POST" }); // a proxy's answer naming it
    const error = await rejectionOf(createReconciled(client, ours, holdings, sleep));
    expect(error.code).toBe("ERR_SENDGRID_CONFLICT");
    expect(error.message).toMatch(
      /answered with integration foreign-0000, which another resource of this stack already manages/,
    );
    expect(holdings.adoptedHere("foreign-0000")).toBe(false);
  });

  it("a lost answer whose listing shows only an integration another resource holds: not adopted, POSTed anew", async () => {
    const { client, sleep } = await direct();
    const made = await createReconciled(client, ours, new Holdings(), sleep);
    const holdings = new Holdings();
    holdings.seen(made.integration_id);
    emulator.requests.length = 0;
    emulator.inject({ kind: "status", status: 503, method: "POST" });
    const fresh = await createReconciled(client, ours, holdings, sleep);
    expect(fresh.integration_id).not.toBe(made.integration_id);
    expect(calls()).toEqual(["POST 503", "GET 200", "POST 201"]);
  });
});

/** A client of the emulator whose own methods `over` replace (a write whose answer is lost, a list that fails). */
const wrapped = (client: IntegrationsClient, over: Record<string, unknown>): IntegrationsClient =>
  Object.assign(Object.create(client), over);
/** A client whose listings do not show the region of integration `id` (an answer that leaves a field out). */
const hidingRegionOf = (client: IntegrationsClient, id: string) =>
  wrapped(client, {
    list: async (...args: Parameters<IntegrationsClient["list"]>) => {
      const listing = await client.list(...args);
      const integrations = listing.integrations.map((i) =>
        i.integration_id === id ? { ...i, properties: { ...i.properties, destination_region: undefined } } : i,
      );
      return { ...listing, integrations } as typeof listing;
    },
  });
const gateway502 = () =>
  new ApiError("delete", "SendGrid Segment integration x", 502, { errors: [{ message: "bad gateway" }] }, []);
const stoppedControl = () => {
  const stop = new AbortController();
  stop.abort(new Error("stopped by the engine"));
  return { signal: stop.signal };
};

describe("create: what the user is told when it cannot be settled", () => {
  const twin = (write_key = WRITE_KEY) =>
    emulator.seed({
      label: "Prod events",
      destination: "Segment",
      filters: { email_events: ["click", "delivered", "open"] },
      properties: { write_key, destination_region: "US" },
    }).integration_id;

  it("two live twins after a lost answer: both named, none adopted, nothing POSTed again", async () => {
    const { client, sleep } = await direct();
    const [a, b] = [twin(), twin()];
    emulator.inject({ kind: "status", status: 503, method: "POST" });
    const error = await rejectionOf(createReconciled(client, ours, new Holdings(), sleep));
    expect(error.message).toBe(
      'Unable to create SendGrid Segment integration "Prod events": HTTP 503 Service Unavailable: internal error. ' +
        `It may have been created: 2 live integrations may be it (${a}, ${b}). None was recorded in state: ` +
        "check them in SendGrid, adopt the right one (importId, or `pulumi import` with the plugin) and delete any extra, then re-run",
    );
    expect((error as { liveIds?: string[] }).liveIds).toEqual([a, b]);
    expect(calls()).toEqual(["POST 503", "GET 200"]);
  });

  it("two twins whose keys the API masks: the message says they do not show every field", async () => {
    await emulator.close();
    emulator = await startEmulator({ apiKeys: [API_KEY], writeKeyMode: "masked" });
    const { client, sleep } = await direct();
    const [a, b] = [twin("wk_one_source_93ab"), twin("wk_two_source_93ab")];
    emulator.inject({ kind: "status", status: 503, method: "POST" });
    const error = await rejectionOf(createReconciled(client, ours, new Holdings(), sleep));
    expect(error.message).toContain(
      `It may have been created: 2 live integrations may be it (${a}, ${b}). 2 of them do not show every field ` +
        "(the API hides or leaves out the write key or another field), so none can be proven to be this one. None was recorded",
    );
  });

  it("one twin proven and one that hides its region: neither is adopted", async () => {
    const { client, sleep } = await direct();
    const proven = twin();
    const hidden = twin();
    emulator.inject({ kind: "status", status: 503, method: "POST" });
    const error = await rejectionOf(createReconciled(hidingRegionOf(client, hidden), ours, new Holdings(), sleep));
    expect((error as { liveIds?: string[] }).liveIds).toEqual([proven, hidden]);
    expect(error.message).toContain(`2 live integrations may be it (${proven}, ${hidden}). 1 of them does not show`);
    expect(emulator.integrations()).toHaveLength(2);
  });

  it("a gateway's 502 with a twin that may be it: no settle wait, the candidate is named at once", async () => {
    const { client, waits, sleep } = await direct();
    const hidden = twin();
    emulator.inject({ kind: "status", status: 502, method: "POST" });
    const error = await rejectionOf(createReconciled(hidingRegionOf(client, hidden), ours, new Holdings(), sleep));
    expect((error as { liveIds?: string[] }).liveIds).toEqual([hidden]);
    expect(error.message).toContain(`1 live integration may be it (${hidden}). 1 of them does not show`);
    expect(waits).toEqual([]);
    expect(calls()).toEqual(["POST 502", "GET 200"]);
  });

  it("a settle wait the operation stops: it may have been created, look for the label", async () => {
    const { client } = await direct();
    const control = { signal: new AbortController().signal };
    const given: unknown[] = [];
    const wait = async (_ms: number, c: unknown) => {
      given.push(c);
      throw new Error("the operation's custom timeout ran out");
    };
    emulator.inject({ kind: "status", status: 524, method: "POST" });
    const error = await rejectionOf(
      createReconciled(client, ours, new Holdings(), { listings: new Listings(), wait, control }),
    );
    expect(error.code).toBe("ERR_SENDGRID_AMBIGUOUS_CREATE");
    expect(error.message).toBe(
      'Unable to create SendGrid Segment integration "Prod events": HTTP 524 A Timeout Occurred (a gateway): internal error. It may have been created, ' +
        "and waiting to check was stopped (the operation's custom timeout ran out). " +
        'Look for "Prod events" in SendGrid before re-running',
    );
    expect((error as { liveIds?: string[] }).liveIds).toEqual([]);
    expect(given).toEqual([control]); // the wait is the operation's: its stop ends it
    expect(calls()).toEqual(["POST 524", "GET 200"]);
  });

  it("a stop during the POST stops the settle list too: it may have been created, look for it", async () => {
    const { client } = await direct();
    const stop = new AbortController();
    const failing = wrapped(client, {
      create: async () => {
        stop.abort(new Error("stopped by the engine"));
        throw gateway502();
      },
    });
    const error = await rejectionOf(
      createReconciled(failing, ours, new Holdings(), { listings: new Listings(), control: { signal: stop.signal } }),
    );
    expect(error.message).toMatch(
      /It may have been created, and listing the account's integrations to check also failed/,
    );
    expect(emulator.requests).toEqual([]);
  });

  it("an operation already stopped sends no POST", async () => {
    const { client } = await direct();
    const error = await rejectionOf(
      createReconciled(client, ours, new Holdings(), { listings: new Listings(), control: stoppedControl() }),
    );
    expect(error).toBeInstanceOf(RequestError);
    expect(emulator.requests).toEqual([]);
  });

  it("two listed integrations without an id: the message counts them, no candidate is named", async () => {
    const { client, sleep } = await direct();
    for (const label of ["A", "B"]) {
      const seeded = emulator.seed({
        label,
        destination: "Segment",
        filters: { email_events: ["open"] },
        properties: { write_key: "wk_other_key_1", destination_region: "US" },
      });
      delete (seeded as { integration_id?: string }).integration_id;
    }
    emulator.inject({ kind: "status", status: 503, method: "POST" });
    const error = await rejectionOf(createReconciled(client, ours, new Holdings(), sleep));
    expect(error.message).toMatch(
      /It may have been created, and the listing cannot tell: 2 listed integrations carry no id\. Look for "Prod events" in SendGrid before re-running$/,
    );
    expect((error as { liveIds?: string[] }).liveIds).toEqual([]);
  });

  it("a 200 (not 201) whose body is no integration is the server's word too: never POSTed again", async () => {
    const { client, sleep } = await direct();
    emulator.inject({ kind: "status", status: 200, method: "POST" });
    const error = await rejectionOf(createReconciled(client, ours, new Holdings(), sleep));
    expect(error.message).toContain("SendGrid answered that it created it");
    expect(calls()).toEqual(["POST 200", "GET 200", "GET 200"]);
  });

  it("a 2xx the list does not show: the message tells how to adopt it, and names no candidate", async () => {
    const { client, sleep } = await direct();
    emulator.inject({ kind: "status", status: 201, method: "POST" });
    const error = await rejectionOf(createReconciled(client, ours, new Holdings(), sleep));
    expect(error.message).toMatch(
      /nothing was sent again\. Look for "Prod events" in SendGrid and adopt it \(importId, or `pulumi import` with the plugin\) before re-running$/,
    );
    expect((error as { liveIds?: string[] }).liveIds).toEqual([]);
  });

  it("an id another resource holds: the message says to check both with the audit", async () => {
    const { client, sleep } = await direct();
    const holdings = new Holdings();
    holdings.seen("foreign-0000");
    emulator.inject({ kind: "malformed", body: "foreign-id", method: "POST" });
    const error = await rejectionOf(createReconciled(client, ours, holdings, sleep));
    expect(error.message).toMatch(
      /it was not taken over\. Check both in SendGrid \(`pulumi-sendgrid-segment audit`\) before re-running$/,
    );
  });

  it("a subuser's lost answer is settled by listing the subuser, where it was made", async () => {
    const { client, sleep } = await direct();
    const sub = toIntegrationInputs(desired({ onBehalfOf: "eu-sub" }));
    emulator.inject({ kind: "commit-drop", method: "POST" });
    const made = await createReconciled(client, sub, new Holdings(), sleep);
    expect(emulator.integrations("eu-sub").map((i) => i.integration_id)).toEqual([made.integration_id]);
    expect(emulator.integrations()).toEqual([]);
    expect(calls()).toEqual(["POST 0", "GET 200"]);
  });

  it("at the limit with an entry that carries no id, the quota message counts it too", async () => {
    for (let i = 0; i < 10; i++) {
      const seeded = emulator.seed({
        label: `L${i}`,
        destination: "Segment",
        filters: { email_events: ["open"] },
        properties: { write_key: "wk_other_1", destination_region: "US" },
      });
      if (i === 9) delete (seeded as { integration_id?: string }).integration_id;
    }
    const error = await rejectionOf(provider.create(await checked()));
    expect(error.code).toBe("ERR_SENDGRID_QUOTA");
    expect(error.message).toMatch(/the account already has 10 Segment integrations, SendGrid's limit is 10: "L0" \(/);
  });
});

describe("compareLive: what a live integration does not show is unseen, never different", () => {
  it("each field left out is named once, as unseen", () => {
    expect(compareLive(live({ destination: undefined }), ours)).toEqual({ differ: [], unseen: ["destination"] });
    expect(compareLive(live({ filters: {} }), ours)).toEqual({ differ: [], unseen: ["filters.emailEvents"] });
    const { filters: _none, ...bare } = live();
    expect(compareLive(bare as IdentifiedWireIntegration, ours)).toEqual({
      differ: [],
      unseen: ["filters.emailEvents"],
    });
    expect(compareLive(live({}, { write_key: "****93ab" }), ours)).toEqual({
      differ: [],
      unseen: ["properties.writeKey"],
    });
  });

  it("a write key shown as another is different", () => {
    expect(compareLive(live({}, { write_key: "wk_someone_elses_key" }), ours)).toEqual({
      differ: ["properties.writeKey"],
      unseen: [],
    });
    expect(compareLive(live({}, { write_key: "****ffff" }), ours)).toEqual({
      differ: ["properties.writeKey"],
      unseen: [],
    });
  });
});

describe("deleteReconciled: a delete whose answer does not settle it", () => {
  const seeded = () =>
    emulator.seed({
      label: "Prod events",
      destination: "Segment",
      filters: { email_events: ["click", "delivered", "open"] },
      properties: { write_key: WRITE_KEY, destination_region: "US" },
    }).integration_id;
  const place = { account: undefined, onBehalfOf: undefined };

  it("a 404 for an integration the list still shows: the base URL is wrong, nothing was changed", async () => {
    const { client } = await direct();
    const id = seeded();
    emulator.inject({ kind: "status", status: 404, method: "DELETE" });
    const error = await rejectionOf(deleteReconciled(client, id, place, {}, settling(), { sameKey: true }));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toBe(
      `Unable to delete SendGrid Segment integration ${id}: HTTP 404, yet the list at ${client.advice.baseUrl} shows it: ` +
        `the requests do not reach the Integrations API as they should. Check ${client.advice.apiBaseUrl}; nothing was changed`,
    );
    expect(calls()).toEqual(["DELETE 404", "GET 200"]);
  });

  it("a 404 not in SendGrid's error shape says so", async () => {
    const { client } = await direct();
    const id = seeded();
    emulator.inject({ kind: "html", status: 404, method: "DELETE" });
    const error = await rejectionOf(deleteReconciled(client, id, place, {}, settling(), { sameKey: true }));
    expect(error.message).toMatch(/; nothing was changed \(the 404 was not in SendGrid's error shape\)$/);
  });

  it("a gateway's answer while it is still listed: one settle wait, then gone is done", async () => {
    const { client, waits } = await direct();
    const id = seeded();
    const failing = wrapped(client, {
      delete: async () => {
        emulator.remove(id); // the origin deletes it after the gateway gave up
        throw gateway502();
      },
    });
    let first = true;
    const lists = wrapped(failing, {
      list: async (...args: Parameters<IntegrationsClient["list"]>) => {
        const listing = await client.list(...args);
        if (!first) return listing;
        first = false;
        return { ...listing, integrations: [live({ integration_id: id })] }; // not yet committed
      },
    });
    await deleteReconciled(
      lists,
      id,
      place,
      {},
      { listings: new Listings(), wait: async (ms) => void waits.push(ms) },
      {
        sameKey: true,
      },
    );
    expect(waits).toEqual([300]);
    expect(calls()).toEqual(["GET 200", "GET 200"]);
  });

  it("a gateway's answer, still listed after the wait: the delete's error stands", async () => {
    const { client, waits } = await direct();
    const id = seeded();
    const failing = wrapped(client, { delete: async () => Promise.reject(gateway502()) });
    const error = await rejectionOf(
      deleteReconciled(
        failing,
        id,
        place,
        {},
        { listings: new Listings(), wait: async (ms) => void waits.push(ms) },
        {
          sameKey: true,
        },
      ),
    );
    expect(error.message).toContain("HTTP 502");
    expect(waits).toEqual([300]);
    expect(calls()).toEqual(["GET 200", "GET 200"]);
  });

  it("a settle wait the operation stops: it may have been deleted, state still holds it", async () => {
    const { client } = await direct();
    const id = seeded();
    const failing = wrapped(client, { delete: async () => Promise.reject(gateway502()) });
    const wait = async () => Promise.reject(new Error("cancelled"));
    const error = await rejectionOf(
      deleteReconciled(failing, id, place, {}, { listings: new Listings(), wait }, { sameKey: true }),
    );
    expect(error.code).toBe("ERR_SENDGRID_UNPROVEN");
    expect(error.message).toBe(
      "Unable to delete SendGrid Segment integration x: HTTP 502 Bad Gateway: bad gateway. " +
        "It may have been deleted, and waiting to check was stopped; state still holds it: re-run",
    );
  });

  it("the second listing failing after the wait: it may have been deleted, run pulumi refresh", async () => {
    const { client } = await direct();
    const id = seeded();
    let lists = 0;
    const failing = wrapped(client, {
      delete: async () => Promise.reject(gateway502()),
      list: async (...args: Parameters<IntegrationsClient["list"]>) => {
        if (++lists === 2) throw new Error("socket hang up");
        return client.list(...args);
      },
    });
    const error = await rejectionOf(
      deleteReconciled(failing, id, place, {}, { listings: new Listings(), wait: async () => {} }, { sameKey: true }),
    );
    expect(error.message).toMatch(
      /It may have been deleted, and listing the account to check also failed \(socket hang up\)/,
    );
  });

  it("absent from a listing that does not prove it gone: it may have been deleted, state still holds it", async () => {
    const { client } = await direct();
    const failing = wrapped(client, { delete: async () => Promise.reject(gateway502()) });
    const error = await rejectionOf(
      deleteReconciled(
        failing,
        "gone-1",
        place,
        {},
        { listings: new Listings(), wait: async () => {} },
        { sameKey: false },
      ),
    );
    expect(error.code).toBe("ERR_SENDGRID_UNPROVEN");
    expect(error.message).toMatch(
      /^Unable to delete SendGrid Segment integration x: HTTP 502 Bad Gateway: bad gateway\. It may have been deleted, but listing the account does not prove it \(.*the API key is not the one that last saw it.*\); state still holds it$/,
    );
  });

  it("a settle list that finds no list route: a setting to fix; it may have been deleted, refresh before re-running", async () => {
    const { client } = await direct();
    const failing = wrapped(client, {
      delete: async () => Promise.reject(gateway502()),
      list: async () => Promise.reject(new ListRouteError("no list route", "Check sendgrid:apiBaseUrl")),
    });
    const error = await rejectionOf(
      deleteReconciled(failing, "id-1", place, {}, { listings: new Listings() }, { sameKey: true }),
    );
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toBe(
      "Unable to delete SendGrid Segment integration x: HTTP 502 Bad Gateway: bad gateway. It may have been deleted, " +
        "and listing the account to check found no list route (HTTP 404): Check sendgrid:apiBaseUrl. " +
        "State keeps integration id-1 as it was: once it is fixed, Run `pulumi refresh` (it drops the integration if it was deleted), then re-run",
    );
  });

  it("a settle list that fails otherwise: it may have been deleted, refresh before re-running", async () => {
    const { client } = await direct();
    const failing = wrapped(client, {
      delete: async () => Promise.reject(gateway502()),
      list: async () => Promise.reject(new Error("socket hang up")),
    });
    const error = await rejectionOf(
      deleteReconciled(failing, "id-1", place, {}, { listings: new Listings() }, { sameKey: true }),
    );
    expect(error.code).toBe("ERR_SENDGRID_UNPROVEN");
    expect(error.message).toBe(
      "Unable to delete SendGrid Segment integration x: HTTP 502 Bad Gateway: bad gateway. It may have been deleted, " +
        "and listing the account to check also failed (socket hang up); state keeps integration id-1 as it was: " +
        "Run `pulumi refresh` (it drops the integration if it was deleted), then re-run",
    );
  });

  it("an operation already stopped sends no DELETE", async () => {
    const { client } = await direct();
    const id = seeded();
    const error = await rejectionOf(
      deleteReconciled(
        client,
        id,
        place,
        {},
        { listings: new Listings(), control: stoppedControl() },
        { sameKey: true },
      ),
    );
    expect(error).toBeInstanceOf(RequestError);
    expect(emulator.requests).toEqual([]);
  });

  it("the settle list is the operation's: a stop during the delete stops the list too", async () => {
    const { client } = await direct();
    const id = seeded();
    const stop = new AbortController();
    const failing = wrapped(client, {
      delete: async () => {
        stop.abort(new Error("stopped by the engine"));
        throw gateway502();
      },
    });
    await rejectionOf(
      deleteReconciled(
        failing,
        id,
        place,
        {},
        { listings: new Listings(), control: { signal: stop.signal } },
        {
          sameKey: true,
        },
      ),
    );
    expect(emulator.requests).toEqual([]);
  });

  it("after it settles, the place is listed anew on the next read", async () => {
    const { client } = await direct();
    const id = seeded();
    const listings = new Listings();
    await listings.get(client, place);
    await deleteReconciled(client, id, place, {}, { listings }, { sameKey: true });
    await listings.get(client, place);
    expect(calls()).toEqual(["GET 200", "DELETE 204", "GET 200"]);
  });
});

describe("patchReconciled: when the read-back cannot settle it", () => {
  const seeded = () =>
    emulator.seed({
      label: "Prod events",
      destination: "Segment",
      filters: { email_events: ["click", "delivered", "open"] },
      properties: { write_key: WRITE_KEY, destination_region: "US" },
    }).integration_id;

  it("a 404 for an integration the list shows: the base URL is wrong", async () => {
    const { client } = await direct();
    const id = seeded();
    emulator.inject({ kind: "status", status: 404, method: "PATCH" });
    const error = await rejectionOf(patchReconciled(client, id, ours, ["label"], {}, settling()));
    expect(error.message).toMatch(
      new RegExp(`^Unable to update SendGrid Segment integration ${id}: HTTP 404, yet the list`),
    );
  });

  it("absent from a listing that does not prove it gone: not listed, but not proven gone", async () => {
    const { client } = await direct();
    emulator.inject({ kind: "status", status: 404, method: "PATCH" });
    const error = await rejectionOf(
      patchReconciled(client, "gone-1", ours, ["label"], {}, settling(), { sameKey: false }),
    );
    expect(error.code).toBe("ERR_SENDGRID_UNPROVEN");
    expect(error.message).toMatch(
      /\. Integration gone-1 is not listed in the account, but that does not prove it is gone \(.*the API key is not the one that last saw it/,
    );
  });

  it("absent from a listing that proves it (the default holder: the same key): gone, refresh", async () => {
    const { client } = await direct();
    emulator.inject({ kind: "status", status: 404, method: "PATCH" });
    const error = await rejectionOf(patchReconciled(client, "gone-1", ours, ["label"], {}, settling()));
    expect(error.message).toMatch(
      /^Unable to update SendGrid Segment integration gone-1: it no longer exists in the account/,
    );
  });

  it("a settle list that fails: it may have been updated, re-run", async () => {
    const { client } = await direct();
    const failing = wrapped(client, {
      update: async () => Promise.reject(gateway502()),
      list: async () => Promise.reject(new Error("socket hang up")),
    });
    const error = await rejectionOf(patchReconciled(failing, "id-1", ours, ["label"], {}, settling()));
    expect(error.message).toMatch(
      /It may have been updated, and listing the account to check also failed \(socket hang up\); state keeps integration id-1 as it was: re-run$/,
    );
  });

  it("an operation already stopped sends no PATCH", async () => {
    const { client } = await direct();
    const id = seeded();
    const error = await rejectionOf(
      patchReconciled(client, id, ours, ["label"], {}, { listings: new Listings(), control: stoppedControl() }),
    );
    expect(error).toBeInstanceOf(RequestError);
    expect(emulator.requests).toEqual([]);
  });
});
