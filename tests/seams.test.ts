// Where Pulumi's lifecycle meets the provider's own shortcuts (issues 16, 22, 23). Each case drives a
// front door's gRPC server with the engine's call sequences as its source makes them
// (support/engine-sim.ts, ported from pulumi/pulumi 1b59498; docs/engine-paths.md) against the
// emulator, and asserts what is live, what state says, what was sent, and what the engine's log
// shows. Every case runs against both doors, the dynamic provider's server and the native plugin,
// each started as a process of its own per engine run (a deployment).
import { createRequire } from "node:module";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../emulator";
import { type Served, serve } from "../provider/native";
import { RESOURCE_TOKEN } from "../provider/native/schema";
import { secret } from "../provider/native/secrets";
import { connect, type FakeEngine, startFakeEngine, startProviderServer, UNKNOWN } from "./support/engine.cjs";
import { CheckFailed, type Door, SimEngine, type UpOptions, withEngineSecrets } from "./support/engine-sim";
import { API_KEY, expectNoSecretPart, rejectionOf, WRITE_KEY, WRITE_KEY_2 } from "./support/fixtures";
import { REPO, rootProgramProvider } from "./support/programs";

const TIMEOUT_MS = 400;
const req = createRequire(join(REPO, "package.json"));
let emulator: Emulator;
let server: Door;
let stopServer: (() => Promise<void>) | undefined;
let provider: string;
let engine: SimEngine;
/** The engine log of the current deployment's provider process. */
let engineLog: FakeEngine["logs"];
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
const warnings = () => engineLog.filter((l) => l.severity === 2).map((l) => l.message);

interface Started {
  door: Door;
  extra: Record<string, unknown>;
  supportsPreview: boolean;
  logs: FakeEngine["logs"];
  stop: () => Promise<void>;
}
/** Starts one door's provider process for a new engine run, configured with the dynamic provider's keys. */
type Start = (config: Record<string, string>) => Promise<Started>;

const DOORS: [string, Start][] = [
  [
    "dynamic provider",
    async (config) => {
      const dynamic = await startProviderServer({ programDir: REPO });
      await dynamic.configure(config);
      return {
        door: dynamic,
        extra: { __provider: provider },
        supportsPreview: false, // its Configure answers no flags (cmd/dynamic-provider)
        logs: dynamic.engine!.logs,
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
      const fake = await startFakeEngine({ req });
      const served: Served = await serve({ engineAddress: fake.address });
      const client = connect({ port: served.port, req, type: RESOURCE_TOKEN });
      // The same settings under the plugin's own names (`sendgrid:x` → `x`), the key a secret.
      const args = Object.fromEntries(Object.entries(config).map(([k, v]) => [k.replace(/^sendgrid:/, ""), v]));
      const answer = await client.configureArgs({ ...args, apiKey: secret(args.apiKey) });
      return {
        door: withEngineSecrets(client),
        extra: {},
        supportsPreview: answer.supportsPreview,
        logs: fake.logs,
        stop: async () => {
          client.close();
          await served.stop();
          await fake.close();
        },
      };
    },
  ],
];
let start: Start;
let door: string;

const SETTINGS = () => ({
  "sendgrid:apiKey": API_KEY,
  "sendgrid:apiBaseUrl": emulator.url,
  "sendgrid:requestTimeoutMs": String(TIMEOUT_MS),
  "sendgrid:retryBudgetMs": "3000",
});

/** A new engine run: a fresh provider process, configured; state carries over from the last run. */
async function deployment(config: Record<string, string> = {}, options: { preview?: boolean } = {}) {
  await stopServer?.();
  const started = await start({ ...SETTINGS(), ...config });
  server = started.door;
  stopServer = started.stop;
  engineLog = started.logs;
  const run = { extra: started.extra, supportsPreview: started.supportsPreview, preview: options.preview ?? false };
  engine = engine ? engine.next(server, run) : new SimEngine(server, run);
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

describe.each(DOORS)("%s", (name, startDoor) => {
  beforeAll(() => {
    start = startDoor;
    door = name;
    engine = undefined as never;
  });
  beforeEach(async () => {
    emulator.clearFaults();
    emulator.setMode({ writeKeyMode: "full", omitRegion: false, patchLabelDefault: false });
    for (const account of emulator.accounts().keys()) for (const id of liveIds(account)) emulator.remove(id, account);
    engine = undefined as never;
    await deployment();
  });

  const seedUi = (account = "") =>
    emulator.seed(
      {
        label: "Made in the UI",
        destination: "Segment",
        filters: { email_events: ["open"] },
        properties: { write_key: WRITE_KEY, destination_region: "US" },
      },
      account,
    );

  describe("adoption survives every replacement (issue 22)", () => {
    /** A resource that adopted an integration made in the UI; a new deployment after it. */
    const adopted = async () => {
      const ui = seedUi();
      expect(await engine.up("adopted", args({ importId: ui.integration_id }))).toBe("create");
      expect(engine.state.get("adopted")!.id).toBe(ui.integration_id);
      expect(engine.state.get("adopted")!.outputs.importId).toBe(ui.integration_id);
      await deployment();
      return ui.integration_id;
    };

    it("a diff-driven replacement (onBehalfOf changes) re-checks without olds, and still creates its own integration", async () => {
      const uiId = await adopted();
      // Check(olds) → Diff (replaces onBehalfOf) → Check without olds → Create → Delete at the end.
      expect(await engine.up("adopted", args({ importId: uiId, onBehalfOf: "brand-sub" }))).toBe("replace");
      const now = engine.state.get("adopted")!;
      expect(now.id).not.toBe(uiId);
      expect(liveIds("brand-sub")).toEqual([now.id]);
      expect(liveIds()).toEqual([]); // the adopted one was the one replaced
      expect(now.outputs.importId).toBeUndefined();
      // And every later up works: nothing in state makes it fail.
      await deployment();
      expect(await engine.up("adopted", args({ importId: uiId, onBehalfOf: "brand-sub" }))).toBe("same");
    });

    it("`--replace` with delete-before-replace: the delete comes first, and the create that names it makes a new one, saying so", async () => {
      const uiId = await adopted();
      expect(await engine.up("adopted", args({ importId: uiId }), { replace: true, deleteBeforeReplace: true })).toBe(
        "replace",
      );
      const now = engine.state.get("adopted")!;
      expect(now.id).not.toBe(uiId);
      expect(liveIds()).toEqual([now.id]);
      expect(sent()).toEqual(["DELETE 204", "POST 201"]);
      expect(warnings().join("\n")).toContain(
        `importId ${uiId} names the integration this deployment has just deleted`,
      );
    });

    it("`--replace` (create before delete): the provider cannot tell it from a first create; it keeps the integration and says so", async () => {
      const uiId = await adopted();
      // Check without olds → (no Diff) → Create with importId → Delete at the end (step_generator.go:1325, :2891).
      expect(await engine.up("adopted", args({ importId: uiId }), { replace: true })).toBe("replace");
      expect(engine.state.get("adopted")!.id).toBe(uiId);
      expect(liveIds()).toEqual([uiId]); // state points to a live integration; nothing was lost
      expect(sent()).not.toContain("DELETE 204");
      expect(warnings().join("\n")).toMatch(
        /Integration [\w-]+ was kept, not deleted: .*remove importId from the program first/,
      );
    });

    it.each([
      ["the resource option kept", { deleteBeforeReplace: true }, []],
      // Resumed without it, the engine takes the create-before-delete branch and deletes the old
      // (already deleted) resource again at the end (step_generator.go:2159-2165). Its diff asked for
      // no replacement, so the provider takes it for a resource that stays: that delete is skipped, and said.
      ["the option dropped", {}, []],
    ] as const)(
      "a delete-before-replace whose create failed is recreated by the next up (PendingReplacement), %s",
      async (_, resume, deletes) => {
        const uiId = await adopted();
        emulator.inject({ kind: "status", status: 400, method: "POST" });
        await rejectionOf(
          engine.up("adopted", args({ importId: uiId, label: "Next" }), { replace: true, deleteBeforeReplace: true }),
        );
        expect(liveIds()).toEqual([]); // deleted, as the engine asked; the replacement's create failed
        expect(engine.leftovers.map((e) => e.pendingReplacement)).toEqual([true]);
        await deployment();
        // Check(olds) → Diff → forced replace → Check without olds → Create.
        expect(await engine.up("adopted", args({ importId: uiId, label: "Next" }), resume)).toBe("replace");
        const now = engine.state.get("adopted")!;
        expect(liveIds()).toEqual([now.id]);
        expect(sent().filter((s) => s.startsWith("DELETE"))).toEqual(deletes);
        expect(engine.leftovers).toEqual([]);
        if (!("deleteBeforeReplace" in resume)) {
          expect(warnings().join("\n")).toContain(
            `Integration ${uiId} was not deleted: a resource this deployment keeps`,
          );
        }
      },
    );

    it("a provider replaced by DiffConfig: Check with olds, no Diff, a create through the new provider; importId never taken twice", async () => {
      const uiId = await adopted();
      const oldProvider = server;
      // The new provider process (#2); the old resource is deleted through one with the old configuration.
      const previous = engine;
      await start(SETTINGS()).then(async (started) => {
        engine = previous.next(started.door, { extra: started.extra, supportsPreview: started.supportsPreview });
        try {
          expect(await engine.up("adopted", args({ importId: uiId }), { providerReplaced: { oldProvider } })).toBe(
            "replace",
          );
        } finally {
          await started.stop();
        }
      });
      const now = engine.state.get("adopted")!;
      expect(now.id).not.toBe(uiId);
      expect(liveIds()).toEqual([now.id]);
    });

    it("`--replace` with delete-before-replace after an earlier replacement: importId names nothing any more, so it creates, saying so", async () => {
      const uiId = await adopted();
      // A diff-driven replacement first: a new integration in the subuser; the adopted one deleted.
      expect(await engine.up("adopted", args({ importId: uiId, onBehalfOf: "brand-sub" }))).toBe("replace");
      await deployment();
      const replaced = engine.state.get("adopted")!.id;
      // Check without olds (no Diff), Delete first, then Create with the program's importId.
      expect(
        await engine.up("adopted", args({ importId: uiId, onBehalfOf: "brand-sub" }), {
          replace: true,
          deleteBeforeReplace: true,
        }),
      ).toBe("replace");
      const now = engine.state.get("adopted")!;
      expect(now.id).not.toBe(replaced);
      expect(liveIds("brand-sub")).toEqual([now.id]);
      expect(warnings().join("\n")).toContain(`importId ${uiId} names no integration any more`);
    });

    it("a resource renamed without an alias whose old name stayed in state (no delete phase ran): the old name's delete keeps what the new one holds", async () => {
      const ui = seedUi();
      expect(await engine.up("old", args({ importId: ui.integration_id }))).toBe("create");
      await deployment();
      // The renamed resource adopts it too; the run stops before its delete phase (another step
      // failed, or \`--target new\`): both names are in state, pointing at one integration.
      expect(await engine.register("new", args({ importId: ui.integration_id }))).toBe("create");
      expect(engine.state.get("new")!.id).toBe(ui.integration_id);
      await deployment();
      // The next up declares "new" (same) and deletes "old".
      expect(await engine.register("new", args({ importId: ui.integration_id }))).toBe("same");
      await engine.deletePhase(["old"]);
      expect(liveIds()).toEqual([ui.integration_id]);
      expect(engine.state.get("new")!.id).toBe(ui.integration_id);
      expect(engine.state.has("old")).toBe(false);
      expect(sent().filter((s) => s.startsWith("DELETE"))).toEqual([]);
      expect(warnings().join("\n")).toContain(`Integration ${ui.integration_id} was not deleted`);
    });

    it("importId added to a resource that already exists changes nothing (and adopts nothing)", async () => {
      await engine.up("r", args());
      const other = seedUi();
      await deployment();
      expect(await engine.up("r", args({ importId: other.integration_id }))).toBe("same");
      expect(emulator.requests).toEqual([]);
    });

    it("two resources declaring the same importId: the second fails, nothing is changed twice", async () => {
      const ui = seedUi();
      await engine.up("first", args({ importId: ui.integration_id }));
      const error = await rejectionOf(engine.up("second", args({ label: "Second", importId: ui.integration_id })));
      expect(error.message).toContain("another resource of this stack already manages integration");
      expect(live(ui.integration_id)!.label).toBe("Prod events");
      expect(engine.state.has("second")).toBe(false);
    });

    it("a second resource declaring an importId that one in state already holds: the plugin refuses it; the dynamic provider cannot tell it from a replacement", async () => {
      const uiId = await adopted();
      await engine.register("adopted", args({ importId: uiId })); // the holder, checked and diffed first
      const second = engine.register("second", args({ label: "Second", importId: uiId }));
      if (door === "native plugin") {
        // The plugin knows each check's URN: another resource's importId is not a re-check of a replacement.
        const error = await rejectionOf(second);
        expect(error.message).toContain("another resource of this stack already manages integration");
        expect(engine.state.has("second")).toBe(false);
      } else {
        // The dynamic runtime gives check no URN: the importId is dropped as for a replacement's re-check,
        // and the second resource creates its own integration (README: Limits).
        expect(await second).toBe("create");
        expect(engine.state.get("second")!.id).not.toBe(uiId);
      }
      expect(live(uiId)).toMatchObject({ label: "Prod events" });
    });

    it("importId keeps showing as an output after an update", async () => {
      const uiId = await adopted();
      expect(await engine.up("adopted", args({ importId: uiId, label: "Renamed" }))).toBe("update");
      expect(engine.state.get("adopted")!.outputs).toMatchObject({ importId: uiId, label: "Renamed" });
    });

    it("an adopted integration deleted in the UI and refreshed away: re-declared with importId, the up fails saying what to do", async () => {
      const uiId = await adopted();
      emulator.remove(uiId);
      expect(await engine.refresh("adopted")).toBe("gone");
      await deployment();
      const error = await rejectionOf(engine.up("adopted", args({ importId: uiId })));
      expect(error.message).toContain(
        `no integration ${uiId} in the account; nothing was created. To create a new one, remove importId from the program`,
      );
      expect(liveIds()).toEqual([]);
    });
  });

  describe("reconciliation never takes another resource's integration, and never duplicates", () => {
    it("two identical resources created at once, the second's POST answered 503: two integrations, one each", async () => {
      emulator.inject({ kind: "status", status: 503, method: "POST" });
      await Promise.all([engine.register("twin-a", args()), engine.register("twin-b", args())]);
      const [a, b] = [engine.state.get("twin-a")!.id, engine.state.get("twin-b")!.id];
      expect(a).not.toBe(b);
      expect(liveIds().sort()).toEqual([a, b].sort());
    });

    it("a twin of a resource already in state, whose POST fails after committing nothing, does not take its integration", async () => {
      await engine.up("existing", args());
      await deployment();
      expect(await engine.register("existing", args())).toBe("same"); // the engine diffs it: the provider sees its id
      emulator.inject({ kind: "status", status: 503, method: "POST" });
      await engine.register("twin", args());
      expect(engine.state.get("twin")!.id).not.toBe(engine.state.get("existing")!.id);
      expect(liveIds()).toHaveLength(2);
    });

    it("a POST the server commits after the client timed out is found after one request timeout: no second POST", async () => {
      emulator.inject({ kind: "late-commit", method: "POST", delayMs: TIMEOUT_MS * 1.5 });
      await engine.up("late", args());
      expect(liveIds()).toEqual([engine.state.get("late")!.id]);
      expect(sent()).toEqual(["POST 0 (late-commit)", "GET 200", "GET 200"]);
    });

    it("a renamed resource whose replacement recognised its integration: the old name's delete keeps it", async () => {
      await engine.up("old-name", args());
      const id = engine.state.get("old-name")!.id;
      await deployment();
      // The program now declares "new-name" (identical) instead; the engine creates it, then deletes old-name.
      emulator.inject({ kind: "status", status: 503, method: "POST" });
      await engine.register("new-name", args());
      expect(engine.state.get("new-name")!.id).toBe(id); // the 503 committed nothing: the match is old-name's
      await engine.deletePhase(["old-name"]);
      expect(liveIds()).toEqual([id]);
      expect(sent()).not.toContain("DELETE 204");
    });
  });

  describe("gone only on proof (issue 23)", () => {
    it("refresh through a proxy's HTML 404 on the list fails, naming apiBaseUrl, and leaves state as it was", async () => {
      await engine.up("r", args());
      await deployment();
      const before = engine.state.get("r");
      emulator.inject({ kind: "html", status: 404, method: "GET" });
      const error = await rejectionOf(engine.refresh("r"));
      expect(error.message).toContain("HTTP 404");
      expect(error.message).toMatch(/Check sendgrid(-segment)?:apiBaseUrl/);
      expect(engine.state.get("r")).toEqual(before);
      await deployment();
      expect(await engine.refresh("r")).toBe("refreshed");
    });

    it("apiBaseUrl as SendGrid's docs write it (…/v3) works; one with a path that misses the API drops nothing, and destroy fails", async () => {
      await deployment({ "sendgrid:apiBaseUrl": `${emulator.url}/v3` });
      await engine.up("r", args());
      expect(await engine.refresh("r")).toBe("refreshed");
      const id = engine.state.get("r")!.id;
      await deployment({ "sendgrid:apiBaseUrl": `${emulator.url}/sendgrid` }); // SendGrid answers 404 JSON: an unknown route
      const refreshed = await rejectionOf(engine.refresh("r"));
      expect(refreshed.message).toContain(`the API is not at ${emulator.url}/sendgrid`);
      expect(engine.state.get("r")!.id).toBe(id);
      const destroyed = await rejectionOf(engine.destroy("r"));
      expect(destroyed.message).toMatch(/apiBaseUrl/);
      expect(engine.state.get("r")!.id).toBe(id);
      expect(liveIds()).toEqual([id]);
    });

    it("delete through a proxy's HTML 404 fails; the integration stays live and in state", async () => {
      await engine.up("r", args());
      await deployment();
      emulator.inject({ kind: "html", status: 404, method: "DELETE" });
      const error = await rejectionOf(engine.destroy("r"));
      expect(error.message).toContain("HTTP 404");
      expect(error.message).toMatch(/apiBaseUrl/);
      expect(liveIds()).toEqual([engine.state.get("r")!.id]);
    });

    it("deleted outside Pulumi: the list proves it; refresh drops the resource, delete succeeds", async () => {
      await engine.up("r", args());
      emulator.remove(engine.state.get("r")!.id);
      expect(await engine.refresh("r")).toBe("gone");
      await engine.up("s", args());
      await deployment();
      emulator.remove(engine.state.get("s")!.id);
      await engine.destroy("s");
    });

    it.each([524, 522])(
      "a DELETE the origin committed, answered %i by a gateway: settled by the list, state drops it",
      async (status) => {
        await engine.up("r", args());
        await deployment();
        emulator.inject({ kind: "commit-status", status, method: "DELETE" });
        await engine.destroy("r");
        expect(engine.state.has("r")).toBe(false);
        expect(liveIds()).toEqual([]);
      },
    );

    // Found by the lifecycle model (FC_SEED=20261127): a `--replace` whose DELETE committed after the
    // client gave up, and whose settling list met a proxy's HTML 404. The delete may have happened,
    // so the error must not say "nothing was changed", and its advice must recover: refresh, re-run.
    it("a --replace whose DELETE answer was lost and whose settling list 404s says the delete may have happened; refresh and up recover", async () => {
      await engine.up("r", args());
      const id = engine.state.get("r")!.id;
      await deployment();
      emulator.inject(
        { kind: "late-commit", method: "DELETE", delayMs: TIMEOUT_MS * 1.2 },
        { kind: "html", status: 404, method: "GET" },
      );
      const failed = await rejectionOf(engine.up("r", args(), { replace: true, deleteBeforeReplace: true }));
      emulator.clearFaults();
      await new Promise((r) => setTimeout(r, TIMEOUT_MS)); // the late commit lands
      expect(failed.message).toContain(`Unable to delete SendGrid Segment integration ${id}`);
      expect(failed.message).toContain("It may have been deleted");
      expect(failed.message).toMatch(/Check sendgrid(-segment)?:apiBaseUrl/);
      expect(failed.message).toContain("Run `pulumi refresh`");
      expect(failed.message).not.toContain("nothing was changed");
      expect(liveIds()).toEqual([]); // it was deleted
      expect(engine.state.get("r")!.id).toBe(id); // the engine keeps what it could not delete
      // As the message says: refresh (the list proves it gone), then the same program again.
      await deployment();
      expect(await engine.refresh("r")).toBe("gone");
      await deployment();
      await engine.up("r", args());
      expect(liveIds()).toEqual([engine.state.get("r")!.id]);
    });

    it("a POST committed and answered with garbage (HPE_*): recognised by the list, one integration", async () => {
      emulator.inject({ kind: "commit-garbled", method: "POST" });
      await engine.up("r", args());
      expect(liveIds()).toEqual([engine.state.get("r")!.id]);
      expect(sent().filter((s) => s.startsWith("POST"))).toHaveLength(1);
    });

    it("another account's key (or host), whose list is empty, proves nothing: refresh and destroy fail saying what may exist; nothing is dropped", async () => {
      await engine.up("r", args());
      const id = engine.state.get("r")!.id;
      const otherKey = "SG.another-account-key-0000-9f8e";
      const other = await startEmulator({ apiKeys: [otherKey] }); // another account: its place is empty
      try {
        const elsewhere = { "sendgrid:apiKey": otherKey, "sendgrid:apiBaseUrl": other.url };
        await deployment(elsewhere);
        const refreshed = await rejectionOf(engine.refresh("r"));
        expect(refreshed.message).toContain("does not prove it is gone");
        expect(refreshed.message).toContain("the API key is not the one that last saw it");
        expect(refreshed.message).not.toContain(otherKey.slice(3, 20));
        expect(engine.state.get("r")!.id).toBe(id);
        await deployment(elsewhere);
        const destroyed = await rejectionOf(engine.destroy("r"));
        expect(destroyed.message).toContain("does not prove it");
        expect(engine.state.get("r")!.id).toBe(id);
        expect(other.requests.map((r) => r.method)).toEqual(["GET", "DELETE", "GET"]);
      } finally {
        await other.close();
      }
      expect(liveIds()).toEqual([id]); // still live where it was made
      // With the key that made it, the same empty place proves it gone.
      emulator.remove(id);
      await deployment();
      expect(await engine.refresh("r")).toBe("gone");
    });

    it("state that does not record the key (written before 0.4.0): an empty list proves nothing, one showing the owner does", async () => {
      await engine.up("r", args());
      const entry = engine.state.get("r")!;
      const { sendgridKeyDigest: _digest, ...older } = entry.outputs;
      engine.state.set("r", { ...entry, outputs: older });
      emulator.remove(entry.id);
      await deployment();
      expect((await rejectionOf(engine.refresh("r"))).message).toContain("does not prove it is gone");
      // Another integration of the same owner in the place: the list is that account's.
      seedUi();
      await deployment();
      expect(await engine.refresh("r")).toBe("gone");
    });

    it("a write key changed in the UI to another source's, shown masked: refresh shows the drift and the next up writes the declared key back", async () => {
      await engine.up("r", args());
      const id = engine.state.get("r")!.id;
      emulator.seed({ ...live(id)!, properties: { write_key: WRITE_KEY_2, destination_region: "US" } }); // out of band
      emulator.setMode({ writeKeyMode: "masked" });
      try {
        await deployment();
        expect(await engine.refresh("r")).toBe("refreshed");
        const key = engine.state.get("r")!.inputs.properties.writeKey;
        expect(key).not.toBe(WRITE_KEY);
        expect(key).toBe(`${"*".repeat(WRITE_KEY_2.length - 4)}${WRITE_KEY_2.slice(-4)}`);
        await deployment();
        expect(await engine.up("r", args())).toBe("update");
        expect(live(id)!.properties.write_key).toBe(WRITE_KEY);
      } finally {
        emulator.setMode({ writeKeyMode: "full" });
      }
    });

    it("refresh of many resources in one place lists it once", async () => {
      for (const n of ["a", "b", "c", "d"]) await engine.up(n, args({ label: n }));
      await deployment();
      await engine.refreshAll();
      expect(sent()).toEqual(["GET 200"]);
    });
  });

  describe("429s whose reset is already past", () => {
    it.each([
      ["X-RateLimit-Reset 5 s in the past", "429-past"],
      ["Retry-After: 0", "429-retry-0"],
    ])("%s: backs off exponentially within the budget, never a tight loop", async (_, spec) => {
      await engine.up("r", args());
      await deployment();
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

    it("a preview sends nothing to SendGrid; an update's preview keeps the ids known (issue 22)", async () => {
      await engine.up("r", args());
      const { id, outputs } = engine.state.get("r")!;
      await deployment({}, { preview: true });
      expect(await engine.register("r", args({ label: "Previewed" }))).toBe("update");
      expect(await engine.register("new", args({ label: "New one" }))).toBe("create");
      expect(emulator.requests).toEqual([]);
      expect(engine.state.get("r")!.outputs).toEqual(outputs); // a preview changes no state
      expect(engine.state.has("new")).toBe(false);
      if (door === "native plugin") {
        // The plugin answers the preview itself: the update keeps its ids.
        const updated = await server.update(
          "r",
          id,
          outputs,
          (await server.check("r", outputs, args({ label: "P" }))).inputs,
          {
            preview: true,
          },
        );
        expect(updated.properties).toMatchObject({ integrationId: id, userId: outputs.userId, label: "P" });
        const created = await server.create("n", (await server.check("n", {}, args())).inputs, { preview: true });
        expect(created.id).toBe("");
        expect(created.properties.integrationId).toBe(UNKNOWN);
        expect(emulator.requests).toEqual([]);
      }
    });

    it("a whole object unknown at preview is an update, not a delete (issue 22)", async () => {
      await engine.up("r", args());
      const { id, outputs } = engine.state.get("r")!;
      await deployment({}, { preview: true });
      const diff = await server.diff("r", id, outputs, { ...args(), properties: UNKNOWN, ...engine.extra });
      expect(diff.changes).toBe(true);
      if (door === "native plugin") {
        expect(diff.detailedDiff["properties.writeKey"]?.kind).toBe("UPDATE");
        expect(diff.detailedDiff["properties.destinationRegion"]?.kind).toBe("UPDATE");
      }
    });
  });

  describe("update sends what changed, and what ignoreChanges keeps is kept (issue 22)", () => {
    it("a label-only change PATCHes the label alone, not the write key", async () => {
      await engine.up("r", args());
      await deployment();
      emulator.requests.length = 0;
      expect(await engine.up("r", args({ label: "Renamed" }))).toBe("update");
      expect(emulator.requests.map((r) => r.fields)).toEqual([["label"]]);
    });

    it("a label renamed in the UI under ignoreChanges is never reverted, by an update or by the next up", async () => {
      await engine.up("r", args());
      const id = engine.state.get("r")!.id;
      emulator.seed({ ...live(id)!, label: "Renamed in the UI" }); // out of band
      await deployment();
      const ignore: UpOptions = { ignoreChanges: ["label"] };
      // An up that changes the events: the label travels, with its live value.
      expect(await engine.up("r", args({ filters: { emailEvents: ["open"] } }), ignore)).toBe("update");
      expect(live(id)).toMatchObject({ label: "Renamed in the UI", filters: { email_events: ["open"] } });
      // The next up, whose program did not change: nothing to do, nothing sent.
      await deployment();
      expect(await engine.up("r", args({ filters: { emailEvents: ["open"] } }), ignore)).toBe("same");
      expect(emulator.requests).toEqual([]);
      // After a refresh too.
      await deployment();
      expect(await engine.refresh("r")).toBe("refreshed");
      await deployment();
      expect(await engine.up("r", args({ filters: { emailEvents: ["open"] } }), ignore)).toBe("same");
      expect(live(id)!.label).toBe("Renamed in the UI");
    });

    it("outputs that drifted from the inputs under ignoreChanges: no change is shown", async () => {
      await engine.up("r", args());
      const entry = engine.state.get("r")!;
      // State as a provider that records live values leaves it: outputs differ from the inputs.
      const outputs = { ...entry.outputs, label: "Renamed in the UI" };
      engine.state.set("r", { ...entry, outputs });
      await deployment();
      emulator.requests.length = 0;
      const step = await engine.up("r", args(), { ignoreChanges: ["label"] });
      // The native plugin is given the ignored paths (DiffRequest.ignoreChanges); the dynamic runtime is not.
      expect(step).toBe(door === "native plugin" ? "same" : "update");
      expect(live(entry.id)!.label).toBe("Prod events");
    });

    it("a write key rotation sends the new key (and the live label) only", async () => {
      await engine.up("r", args());
      await deployment();
      await engine.up("r", args({ properties: { writeKey: WRITE_KEY_2, destinationRegion: "US" } }));
      expect(emulator.requests.map((r) => `${r.method} ${r.fields ?? ""}`)).toEqual([
        "GET ",
        "PATCH label,properties.write_key",
      ]);
    });
  });

  describe("state versions", () => {
    it("state written by a newer release: diff, refresh, update and delete fail, naming the upgrade, and send nothing", async () => {
      await engine.up("r", args());
      const entry = engine.state.get("r")!;
      expect(entry.outputs.stateVersion).toBe(3);
      engine.state.set("r", { ...entry, outputs: { ...entry.outputs, stateVersion: 4 } });
      // Each its own deployment (a run acts on a resource once).
      for (const run of [
        () => engine.up("r", args({ label: "x" })),
        () => engine.refresh("r"),
        () => server.update("r", entry.id, { ...entry.outputs, stateVersion: 4 }, entry.inputs),
        () => engine.destroy("r"),
      ]) {
        await deployment();
        const error = await rejectionOf(run());
        expect(error.message).toContain("written by a newer pulumi-sendgrid-segment (state version 4");
        expect(error.message).toContain("Upgrade pulumi-sendgrid-segment");
        expect(emulator.requests).toEqual([]);
      }
      expect(liveIds()).toEqual([entry.id]);
    });
  });

  describe("regions: a provider moved elsewhere never strands an integration (issue 22)", () => {
    it("an integration recorded in one region, under a provider now in the other: preview fails saying what to do, nothing sent", async () => {
      await engine.up("r", args());
      expect(engine.state.get("r")!.outputs.sendgridRegion).toBe("global");
      const eu = { "sendgrid:region": "eu" }; // the base URL stays the emulator's
      await deployment(eu);
      const error = await rejectionOf(engine.up("r", args()));
      expect(error.message).toContain('it lives in SendGrid region "global", but the account now uses region "eu"');
      expect(emulator.requests).toEqual([]);
      await deployment(eu);
      const refresh = await rejectionOf(engine.refresh("r"));
      expect(refresh.message).toContain("Set the region back");
      expect(emulator.requests).toEqual([]);
      await deployment(eu);
      const destroy = await rejectionOf(engine.destroy("r"));
      expect(destroy.message).toContain("Nothing was changed");
      expect(emulator.requests).toEqual([]);
      expect(engine.state.has("r")).toBe(true);
    });
  });
});
