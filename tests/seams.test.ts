// Issue 16: where Pulumi's lifecycle meets the provider's own shortcuts. Each case drives a front
// door's gRPC server with the engine's exact call order (support/engine-sim.ts) against the
// emulator, and asserts what is live, what state says, and what was sent. Issue 18: every case runs
// against both doors, the dynamic provider's server and the native plugin.
import { createRequire } from "node:module";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../emulator";
import { type Served, serve } from "../provider/native";
import { RESOURCE_TOKEN } from "../provider/native/schema";
import { secret } from "../provider/native/secrets";
import { connect, startProviderServer, UNKNOWN } from "./support/engine.cjs";
import { CheckFailed, type Door, SimEngine, type UpOptions, withEngineSecrets } from "./support/engine-sim";
import { API_KEY, expectNoSecretPart, rejectionOf, WRITE_KEY, WRITE_KEY_2 } from "./support/fixtures";
import { REPO, rootProgramProvider } from "./support/programs";

const TIMEOUT_MS = 400;
let emulator: Emulator;
let server: Door;
let stopServer: (() => Promise<void>) | undefined;
let provider: string;
let engine: SimEngine;
let stderr = "";

const args = (extra: Record<string, unknown> = {}) => ({
  label: "Prod events",
  filters: { emailEvents: ["open", "click"] },
  properties: { writeKey: WRITE_KEY, destinationRegion: "US" },
  ...extra,
});
const liveIds = (account = "") => emulator.integrations(account).map((i) => i.integration_id);
const live = (id: string, account = "") => emulator.integrations(account).find((i) => i.integration_id === id);
const sent = () => emulator.requests.map((r) => `${r.method} ${r.status}${r.fault ? ` (${r.fault})` : ""}`);

/** Starts one door's server for a new deployment, configured with the dynamic provider's keys. */
type Start = (
  config: Record<string, string>,
) => Promise<{ door: Door; extra: Record<string, unknown>; stop: () => Promise<void> }>;

const DOORS: [string, Start][] = [
  [
    "dynamic provider",
    async (config) => {
      const dynamic = await startProviderServer({ programDir: REPO });
      await dynamic.configure(config);
      return {
        door: dynamic,
        extra: { __provider: provider },
        stop: async () => {
          await dynamic.stop();
          stderr += dynamic.stderr;
        },
      };
    },
  ],
  [
    "native plugin",
    async (config) => {
      const served: Served = await serve();
      const client = connect({
        port: served.port,
        req: createRequire(join(REPO, "package.json")),
        type: RESOURCE_TOKEN,
      });
      // The same settings under the plugin's own names (`sendgrid:x` → `x`), the key a secret.
      const args = Object.fromEntries(Object.entries(config).map(([k, v]) => [k.replace(/^sendgrid:/, ""), v]));
      await client.configureArgs({ ...args, apiKey: secret(args.apiKey) });
      return {
        door: withEngineSecrets(client),
        extra: {},
        stop: async () => {
          client.close();
          await served.stop();
        },
      };
    },
  ],
];
let start: Start;

/** A new deployment: the engine starts and configures a fresh provider process; state carries over. */
async function deployment(config: Record<string, string> = {}) {
  await stopServer?.();
  const started = await start({
    "sendgrid:apiKey": API_KEY,
    "sendgrid:apiBaseUrl": emulator.url,
    "sendgrid:requestTimeoutMs": String(TIMEOUT_MS),
    "sendgrid:retryBudgetMs": "3000",
    ...config,
  });
  server = started.door;
  stopServer = started.stop;
  const fresh = new SimEngine(server, started.extra);
  for (const [name, entry] of engine?.state ?? []) fresh.state.set(name, entry);
  engine = fresh;
  emulator.requests.length = 0;
}

beforeAll(async () => {
  provider = await rootProgramProvider();
  emulator = await startEmulator({ apiKeys: [API_KEY] });
});
afterAll(async () => {
  await stopServer?.();
  await emulator?.close();
  expectNoSecretPart(stderr);
});

describe.each(DOORS)("%s", (_name, startDoor) => {
  beforeAll(() => {
    start = startDoor;
    engine = undefined as never;
  });
  beforeEach(async () => {
    emulator.clearFaults();
    for (const account of emulator.accounts().keys()) for (const id of liveIds(account)) emulator.remove(id, account);
    engine = undefined as never;
    await deployment();
  });

  describe("adoption happens only on a resource's first create", () => {
    const adopted = async () => {
      const ui = emulator.seed({
        label: "Made in the UI",
        destination: "Segment",
        filters: { email_events: ["open"] },
        properties: { write_key: WRITE_KEY, destination_region: "US" },
      });
      expect(await engine.up("adopted", args({ importId: ui.integration_id }))).toBe("create");
      expect(engine.state.get("adopted")!.id).toBe(ui.integration_id);
      expect(engine.state.get("adopted")!.outputs.importId).toBe(ui.integration_id);
      await deployment();
      return ui.integration_id;
    };

    it.each<[string, UpOptions]>([
      ["`pulumi up --replace` (create before delete)", { replace: true }],
      ["a replacement with deleteBeforeReplace", { replace: true, deleteBeforeReplace: true }],
    ])("%s: the replacement creates its own integration; state points to a live one", async (_, options) => {
      const uiId = await adopted();
      expect(await engine.up("adopted", args({ importId: uiId }), options)).toBe("replace");
      const now = engine.state.get("adopted")!;
      expect(now.id).not.toBe(uiId);
      expect(liveIds()).toEqual([now.id]); // the adopted one was replaced (deleted), the new one lives
      expect(now.outputs.importId).toBeUndefined(); // it adopted nothing
      expect(sent()).toEqual(options.deleteBeforeReplace ? ["DELETE 204", "POST 201"] : ["POST 201", "DELETE 204"]);
    });

    it("an account change whose new account reaches the same SendGrid user replaces without losing the integration", async () => {
      const uiId = await adopted();
      await deployment({
        "sendgrid:accounts": JSON.stringify({ same: { apiKey: API_KEY, apiBaseUrl: emulator.url } }),
      });
      expect(await engine.up("adopted", args({ importId: uiId, account: "same" }))).toBe("replace");
      const now = engine.state.get("adopted")!;
      expect(live(now.id)).toBeDefined();
      expect(liveIds()).toEqual([now.id]);
    });

    it("importId added to a resource that already exists changes nothing (and adopts nothing)", async () => {
      await engine.up("r", args());
      const other = emulator.seed({
        label: "Other",
        destination: "Segment",
        filters: { email_events: ["open"] },
        properties: { write_key: WRITE_KEY_2, destination_region: "US" },
      });
      await deployment();
      expect(await engine.up("r", args({ importId: other.integration_id }))).toBe("same");
      expect(emulator.requests).toEqual([]);
    });

    it("two resources declaring the same importId: the second fails, nothing is changed twice", async () => {
      const ui = emulator.seed({
        label: "Made in the UI",
        destination: "Segment",
        filters: { email_events: ["open"] },
        properties: { write_key: WRITE_KEY, destination_region: "US" },
      });
      await engine.up("first", args({ importId: ui.integration_id }));
      const error = await rejectionOf(engine.up("second", args({ label: "Second", importId: ui.integration_id })));
      expect(error.message).toContain("another resource of this stack already manages integration");
      expect(live(ui.integration_id)!.label).toBe("Prod events");
      expect(engine.state.has("second")).toBe(false);
    });

    it("importId keeps showing as an output after an update", async () => {
      const uiId = await adopted();
      expect(await engine.up("adopted", args({ importId: uiId, label: "Renamed" }))).toBe("update");
      expect(engine.state.get("adopted")!.outputs).toMatchObject({ importId: uiId, label: "Renamed" });
    });
  });

  describe("reconciliation never takes another resource's integration, and never duplicates", () => {
    it("two identical resources created at once, the second's POST answered 503: two integrations, one each", async () => {
      emulator.inject({ kind: "status", status: 503, method: "POST" });
      await Promise.all([engine.up("twin-a", args()), engine.up("twin-b", args())]);
      const [a, b] = [engine.state.get("twin-a")!.id, engine.state.get("twin-b")!.id];
      expect(a).not.toBe(b);
      expect(liveIds().sort()).toEqual([a, b].sort());
    });

    it("a twin of a resource already in state, whose POST fails after committing nothing, does not take its integration", async () => {
      await engine.up("existing", args());
      await deployment();
      expect(await engine.up("existing", args())).toBe("same"); // the engine diffs it: the provider sees its id
      emulator.inject({ kind: "status", status: 503, method: "POST" });
      await engine.up("twin", args());
      expect(engine.state.get("twin")!.id).not.toBe(engine.state.get("existing")!.id);
      expect(liveIds()).toHaveLength(2);
    });

    it("a POST the server commits after the client timed out is found after one request timeout: no second POST", async () => {
      emulator.inject({ kind: "late-commit", method: "POST", delayMs: TIMEOUT_MS * 1.5 });
      const started = Date.now();
      await engine.up("late", args());
      expect(liveIds()).toEqual([engine.state.get("late")!.id]);
      expect(sent()).toEqual(["POST 0 (late-commit)", "GET 200", "GET 200"]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS * 2); // waited, then listed again
    });

    it("a renamed resource whose replacement recognised its integration: the old name's delete keeps it", async () => {
      await engine.up("old-name", args());
      const id = engine.state.get("old-name")!.id;
      await deployment();
      // The program now declares "new-name" (identical) instead; the engine creates it, then deletes old-name.
      emulator.inject({ kind: "status", status: 503, method: "POST" });
      await engine.up("new-name", args());
      expect(engine.state.get("new-name")!.id).toBe(id); // the 503 committed nothing: the match is old-name's
      await engine.destroy("old-name");
      expect(liveIds()).toEqual([id]);
      expect(sent()).not.toContain("DELETE 204");
    });
  });

  describe("only SendGrid's own 404 means gone", () => {
    it("refresh through a proxy's HTML 404 fails and leaves state as it was", async () => {
      await engine.up("r", args());
      const before = engine.state.get("r");
      emulator.inject({ kind: "html", status: 404, method: "GET" });
      const error = await rejectionOf(engine.refresh("r"));
      expect(error.message).toContain("HTTP 404");
      expect(error.message).toContain("not a SendGrid error");
      expect(engine.state.get("r")).toEqual(before);
      expect(await engine.refresh("r")).toBe("refreshed");
    });

    it("delete through a proxy's HTML 404 fails; the integration stays live and in state", async () => {
      await engine.up("r", args());
      emulator.inject({ kind: "html", status: 404, method: "DELETE" });
      await rejectionOf(engine.destroy("r"));
      expect(liveIds()).toEqual([engine.state.get("r")!.id]);
    });

    it("SendGrid's own 404 still means gone: refresh drops the resource, delete succeeds", async () => {
      await engine.up("r", args());
      emulator.remove(engine.state.get("r")!.id);
      expect(await engine.refresh("r")).toBe("gone");
      await engine.up("s", args());
      emulator.remove(engine.state.get("s")!.id);
      await engine.destroy("s");
    });
  });

  describe("429s whose reset is already past", () => {
    it.each([
      ["X-RateLimit-Reset 5 s in the past", "429-past"],
      ["Retry-After: 0", "429-retry-0"],
    ])("%s: backs off exponentially within the budget, never a tight loop", async (_, spec) => {
      await engine.up("r", args());
      emulator.inject(
        spec === "429-past"
          ? { kind: "status", status: 429, resetOffsetSeconds: -5, method: "GET", times: 1000 }
          : { kind: "status", status: 429, retryAfter: "0", method: "GET", times: 1000 },
      );
      await rejectionOf(engine.refresh("r"));
      // 3 s budget, steps of 250 ms doubling (half random): at most 6 attempts. The bug made 113.
      expect(emulator.requests.length).toBeGreaterThanOrEqual(3);
      expect(emulator.requests.length).toBeLessThanOrEqual(6);
    });
  });

  describe("preview and check", () => {
    it("an account computed from another resource (unknown at preview) is not a failure", async () => {
      const checked = await server.check("r", {}, { ...args({ account: UNKNOWN }), ...engine.extra });
      expect(checked.failures).toEqual([]);
    });

    it("a subuser name that can never be sent as a header fails check, before any request", async () => {
      const error = await rejectionOf(engine.up("r", args({ onBehalfOf: "市场" })));
      expect(error).toBeInstanceOf(CheckFailed);
      expect((error as CheckFailed).failures.map((f) => f.property)).toEqual(["onBehalfOf"]);
      expect(emulator.requests).toEqual([]);
    });
  });

  describe("update sends only what changed", () => {
    it("a label-only change PATCHes the label alone, not the write key", async () => {
      await engine.up("r", args());
      emulator.requests.length = 0;
      expect(await engine.up("r", args({ label: "Renamed" }))).toBe("update");
      expect(emulator.requests.map((r) => r.fields)).toEqual([["label"]]);
    });

    it("a field under ignoreChanges keeps the value set outside Pulumi", async () => {
      await engine.up("r", args());
      const id = engine.state.get("r")!.id;
      emulator.seed({ ...live(id)!, label: "Renamed in the UI" }); // out of band
      expect(await engine.refresh("r")).toBe("refreshed");
      emulator.requests.length = 0;
      const step = await engine.up("r", args({ filters: { emailEvents: ["open"] } }), { ignoreChanges: ["label"] });
      expect(step).toBe("update");
      expect(emulator.requests.map((r) => r.fields)).toEqual([["filters.email_events"]]);
      expect(live(id)).toMatchObject({ label: "Renamed in the UI", filters: { email_events: ["open"] } });
    });

    it("a write key rotation sends the new key and nothing else", async () => {
      await engine.up("r", args());
      emulator.requests.length = 0;
      await engine.up("r", args({ properties: { writeKey: WRITE_KEY_2, destinationRegion: "US" } }));
      expect(emulator.requests.map((r) => r.fields)).toEqual([["properties.write_key"]]);
    });
  });

  describe("state versions", () => {
    it("state written by a newer release: diff, refresh, update and delete fail, naming the upgrade, and send nothing", async () => {
      await engine.up("r", args());
      const entry = engine.state.get("r")!;
      expect(entry.outputs.stateVersion).toBe(2);
      engine.state.set("r", { ...entry, outputs: { ...entry.outputs, stateVersion: 3 } });
      await deployment();
      for (const run of [
        () => engine.up("r", args({ label: "x" })),
        () => engine.refresh("r"),
        () => server.update("r", entry.id, { ...entry.outputs, stateVersion: 3 }, entry.inputs),
        () => engine.destroy("r"),
      ]) {
        const error = await rejectionOf(run());
        expect(error.message).toContain("written by a newer pulumi-sendgrid-segment (state version 3");
        expect(error.message).toContain("Upgrade pulumi-sendgrid-segment");
      }
      expect(emulator.requests).toEqual([]);
      expect(liveIds()).toEqual([entry.id]);
    });
  });
});
