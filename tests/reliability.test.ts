// Reliability: each emulator fault against each operation, through the provider. After every
// scenario the live integrations equal what state says: no duplicates, no orphans, nothing lost.
// Both front doors: the dynamic provider's module, and the native plugin's gRPC service behind the
// same shape (support/native-module.ts; there, errors cross as their message only).
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Emulator, type Fault, startEmulator } from "../emulator";
import * as dynamicProvider from "../provider/dynamic";
import type { IntegrationOutputs } from "../provider/types";
import { API_KEY, configureRequest, desired, rejectionOf, WRITE_KEY, WRITE_KEY_2 } from "./support/fixtures";
import { nativeModule } from "./support/native-module";

let emulator: Emulator;
const native = nativeModule();
afterAll(() => native.close());
const DOORS = [
  ["dynamic provider", dynamicProvider],
  ["native plugin", native],
] as const;
let provider: (typeof DOORS)[number][1] = dynamicProvider;
/** Whether errors keep their class, code and fields here (they do not cross gRPC); the dynamic door's settings are `sendgrid:*`. */
const codes = () => provider === dynamicProvider;

async function configure(extra: Record<string, string> = {}) {
  provider.newDeployment();
  await provider.configure(
    configureRequest({
      "sendgrid:apiKey": API_KEY,
      "sendgrid:apiBaseUrl": emulator.url,
      "sendgrid:requestTimeoutMs": "300",
      "sendgrid:retryBudgetMs": "10000",
      ...extra,
    }) as never,
  );
}

describe.each(DOORS)("%s", (_door, door) => {
  beforeEach(async () => {
    provider = door;
    // 100 ms rate windows: an injected 429 waits for X-RateLimit-Reset at most that long.
    emulator = await startEmulator({ apiKeys: [API_KEY], rateLimit: { limit: 10_000, windowSeconds: 0.1 } });
    await configure();
  });
  afterEach(() => emulator.close());

  const checked = async (overrides: Record<string, unknown> = {}) =>
    (await provider.check({}, desired(overrides))).inputs;

  /** What state would hold after creating; the emulator log is cleared so each step is counted alone. */
  async function existing(): Promise<{ id: string; outs: IntegrationOutputs }> {
    const result = await provider.create(await checked());
    emulator.requests.length = 0;
    return result;
  }

  /** The invariant: live integrations are exactly those state tracks, each as state says. */
  function expectLiveEqualsState(state: Map<string, IntegrationOutputs>) {
    const live = emulator.integrations();
    expect(live.map((i) => i.integration_id).sort()).toEqual([...state.keys()].sort());
    for (const i of live) {
      const s = state.get(i.integration_id)!;
      expect({ label: i.label, events: i.filters.email_events, key: i.properties.write_key }).toEqual({
        label: s.label,
        events: s.filters.emailEvents,
        key: s.properties.writeKey,
      });
    }
  }

  function expectNoSecrets(text: string) {
    for (const secret of [API_KEY, WRITE_KEY, WRITE_KEY_2]) expect(text).not.toContain(secret);
  }

  const FAULTS: Array<[string, Fault]> = [
    ["a 429 with X-RateLimit-Reset", { kind: "status", status: 429 }],
    ["two 503s", { kind: "status", status: 503, times: 2 }],
    ["a 500", { kind: "status", status: 500 }],
    ["a connection reset", { kind: "reset" }],
    ["a hanging request", { kind: "hang" }],
    ["a commit whose response is dropped", { kind: "commit-drop" }],
  ];

  describe.each(FAULTS)("with %s", (_, fault) => {
    it("create converges to exactly one tracked integration", async () => {
      emulator.inject({ ...fault, method: "POST" });
      const { id, outs } = await provider.create(await checked());
      expectLiveEqualsState(new Map([[id, outs]]));
      expect(emulator.pendingFaults()).toEqual([]);
    });

    it("read (refresh) converges to the live integration", async () => {
      const { id, outs } = await existing();
      emulator.inject({ ...fault, method: "GET" });
      const { props } = await provider.read(id, outs);
      expect(props).toEqual(outs);
      expectLiveEqualsState(new Map([[id, props as IntegrationOutputs]]));
    });

    it("update converges to the desired state", async () => {
      const { id, outs } = await existing();
      emulator.inject({ ...fault, method: "PATCH" });
      const news = await checked({ label: "Updated", properties: { writeKey: WRITE_KEY_2, destinationRegion: "EU" } });
      const { outs: updated } = await provider.update(id, outs, news);
      expect(updated).toMatchObject({ integrationId: id, label: "Updated" });
      expectLiveEqualsState(new Map([[id, updated]]));
    });

    it("delete converges to nothing left", async () => {
      const { id, outs } = await existing();
      emulator.inject({ ...fault, method: "DELETE" });
      await provider.delete(id, outs);
      expectLiveEqualsState(new Map());
    });
  });

  describe("ambiguous creates are reconciled, never duplicated", () => {
    it("adopts the integration a dropped response had created, with one POST and one list", async () => {
      emulator.inject({ kind: "commit-drop", method: "POST" });
      const { id } = await provider.create(await checked());
      expect(emulator.requests.map((r) => `${r.method} ${r.status}`)).toEqual(["POST 0", "GET 200"]);
      expect(emulator.integrations().map((i) => i.integration_id)).toEqual([id]);
    });

    it("creates again only after checking that nothing was created", async () => {
      emulator.inject({ kind: "status", status: 503, method: "POST" });
      await provider.create(await checked());
      expect(emulator.requests.map((r) => `${r.method} ${r.status}`)).toEqual(["POST 503", "GET 200", "POST 201"]);
    });

    it("recognises its integration among others in the account", async () => {
      const other = emulator.seed({
        label: "Made in the UI",
        destination: "Segment",
        filters: { email_events: ["open"] },
        properties: { write_key: "wk_other_123", destination_region: "US" },
      });
      emulator.inject({ kind: "commit-drop", method: "POST" });
      const { id, outs } = await provider.create(await checked());
      expect(id).not.toBe(other.integration_id);
      expect(emulator.integrations()).toHaveLength(2);
      expect(outs.label).toBe("Prod events");
    });

    it("fails naming the live ids when more than one integration matches, creating none", async () => {
      const twin = emulator.seed({
        label: "Prod events",
        destination: "Segment",
        filters: { email_events: ["click", "delivered", "open"] },
        properties: { write_key: WRITE_KEY, destination_region: "US" },
      });
      emulator.inject({ kind: "commit-drop", method: "POST" });
      const error = await rejectionOf(provider.create(await checked()));
      if (codes()) expect(error.code).toBe("ERR_SENDGRID_AMBIGUOUS_CREATE");
      const ids = emulator.integrations().map((i) => i.integration_id);
      expect(ids).toHaveLength(2);
      expect(ids).toContain(twin.integration_id);
      for (const id of ids) expect(error.message).toContain(id);
      if (codes()) expect((error as { liveIds?: string[] }).liveIds?.sort()).toEqual([...ids].sort());
      expect(error.message).toMatch(/^Unable to create SendGrid Segment integration "Prod events": request failed/);
      expect(error.message).toMatch(
        /\. It may have been created: 2 live integrations may be it \([\w-]+, [\w-]+\)\. None was recorded in state: check them in SendGrid, adopt the right one \(importId, or `pulumi import` with the plugin\) and delete any extra, then re-run$/,
      );
      expectNoSecrets(error.message);
    });

    it("gives up after repeated ambiguous failures, saying nothing was created", async () => {
      emulator.inject({ kind: "status", status: 500, method: "POST", times: 10 });
      const error = await rejectionOf(provider.create(await checked()));
      if (codes()) expect(error.code).toBe("ERR_SENDGRID_AMBIGUOUS_CREATE");
      expect(error.message).toContain("HTTP 500 Internal Server Error");
      expect(error.message).toContain("Checked after 3 attempts: no such integration exists, nothing to clean up");
      if (codes()) expect((error as { liveIds?: string[] }).liveIds).toEqual([]);
      expect(emulator.integrations()).toEqual([]);
      expect(emulator.requests.filter((r) => r.method === "POST")).toHaveLength(3);
    });
  });

  describe("giving up leaves state and the API consistent", () => {
    it("an update that cannot get through within the budget fails clearly and changes nothing", async () => {
      await configure({ "sendgrid:retryBudgetMs": "1500" });
      const { id, outs } = await existing();
      emulator.inject({ kind: "status", status: 503, method: "PATCH", times: 100 });
      const started = Date.now();
      const error = await rejectionOf(provider.update(id, outs, await checked({ label: "Never applied" })));
      expect(Date.now() - started).toBeLessThan(2500);
      expect(error.message).toMatch(
        new RegExp(
          `^Unable to update SendGrid Segment integration ${id}: HTTP 503 Service Unavailable: internal error ` +
            `\\(gave up after \\d+ attempts in \\d+\\.\\d s; the retry budget \\(${codes() ? "sendgrid" : "sendgrid-segment"}:retryBudgetMs\\) is spent\\)`,
        ),
      );
      expectNoSecrets(error.message);
      expectLiveEqualsState(new Map([[id, outs]])); // the old state is still the truth
    });

    it("a delete that hangs every time fails, and the integration stays tracked and live", async () => {
      await configure({ "sendgrid:retryBudgetMs": "1000" });
      const { id, outs } = await existing();
      emulator.inject({ kind: "hang", method: "DELETE", times: 100 });
      const error = await rejectionOf(provider.delete(id, outs));
      expect(error.message).toMatch(
        new RegExp(`^Unable to delete SendGrid Segment integration ${id}: request timed out`),
      );
      expectLiveEqualsState(new Map([[id, outs]]));
    });
  });

  describe("retries are bounded by the budget, not by a count", () => {
    it("a read that fails four times in a row still succeeds on the fifth attempt", async () => {
      const { id, outs } = await existing();
      emulator.inject({ kind: "status", status: 503, method: "GET", times: 4 });
      expect((await provider.read(id, outs)).id).toBe(id);
      expect(emulator.requests.map((r) => r.status)).toEqual([503, 503, 503, 503, 200]);
    });
  });

  describe("final answers are not retried", () => {
    it.each([400, 401, 403])("%i: one request, then a clear error", async (status) => {
      const { id, outs } = await existing();
      emulator.inject({ kind: "status", status, method: "PATCH" });
      const error = await rejectionOf(provider.update(id, outs, await checked({ label: "x" })));
      expect(error.message).toContain(`HTTP ${status}`);
      expect(emulator.requests.map((r) => r.method)).toEqual(["PATCH"]);
    });

    it("404 is not retried, and proves nothing: the list settles it (here, a route that does not reach the API)", async () => {
      const { id, outs } = await existing();
      emulator.inject({ kind: "status", status: 404, method: "PATCH" });
      const error = await rejectionOf(provider.update(id, outs, await checked({ label: "x" })));
      expect(error.message).toContain("HTTP 404, yet the list at");
      // Each door names its own setting (the plugin's is sendgrid-segment:apiBaseUrl).
      expect(error.message).toMatch(/Check sendgrid(-segment)?:apiBaseUrl/);
      expect(emulator.requests.map((r) => r.method)).toEqual(["PATCH", "GET"]);
    });

    it("an update of an integration deleted in the UI fails once, saying it is gone (the list proves it) and what to do", async () => {
      const { id, outs } = await existing();
      await provider.delete(id, outs);
      emulator.requests.length = 0;
      const error = await rejectionOf(provider.update(id, outs, await checked({ label: "x" })));
      expect(error.message).toBe(
        `Unable to update SendGrid Segment integration ${id}: it no longer exists in the account (deleted outside Pulumi?). ` +
          "Run `pulumi refresh` to drop it from state; `pulumi up` then creates it again " +
          "(remove importId from the program first, if it names this integration)",
      );
      expect(emulator.requests.map((r) => `${r.method} ${r.status}`)).toEqual(["PATCH 404", "GET 200"]);
    });
  });

  describe("rate limits", () => {
    it("a burst of creates under a real rate limit all succeed, waiting for X-RateLimit-Reset", async () => {
      await emulator.close();
      emulator = await startEmulator({ apiKeys: [API_KEY], rateLimit: { limit: 3 } });
      await configure();
      const results = await Promise.all(
        Array.from({ length: 8 }, async (_, i) => provider.create(await checked({ label: `Burst ${i}` }))),
      );
      expect(new Set(results.map((r) => r.id)).size).toBe(8);
      expect(emulator.integrations()).toHaveLength(8);
      expect(emulator.requests.filter((r) => r.status === 429).length).toBeGreaterThan(0);
      expectLiveEqualsState(new Map(results.map((r) => [r.id, r.outs])));
    });
  });
});
