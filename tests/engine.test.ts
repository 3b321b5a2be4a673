// Layer 4: the engine protocol. The real dynamic-provider gRPC server shipped in @pulumi/pulumi is
// started in the program directory and driven Configure → Check → Create → Diff → Update → Read →
// Delete with the `__provider` that the root program really serialized, against the emulator.
// This is how the deployment path is proven without the Pulumi CLI.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../emulator";
import { type ProviderServer as Server, startProviderServer, UNKNOWN } from "./support/engine.cjs";
import { API_KEY, rejectionOf, WRITE_KEY, WRITE_KEY_2 } from "./support/fixtures";
import { loadStateFixture, runUpgrade } from "./support/lifecycle";
import { REPO, rootProgramProvider } from "./support/programs";

const BASE = "/v3/marketing/integrations";

let emulator: Emulator;
let server: Server;
let serializedProvider: string;

/** What the engine sends: the program's inputs with secrets unwrapped (the provider does not accept secrets). */
const inputs = (extra: Record<string, unknown> = {}) => ({
  label: "Prod events",
  filters: { emailEvents: ["open", "click", "open"] },
  properties: { writeKey: WRITE_KEY, destinationRegion: "US" },
  ...extra,
  __provider: serializedProvider,
});

beforeAll(async () => {
  serializedProvider = await rootProgramProvider();
  emulator = await startEmulator({ apiKeys: [API_KEY] });
  server = await startProviderServer({ programDir: REPO });
});
afterAll(async () => {
  await server?.stop();
  await emulator?.close();
  // Whatever the provider process printed must not hold a credential.
  expect(server.stderr).not.toContain(API_KEY);
  expect(server.stderr).not.toContain(WRITE_KEY);
});

/**
 * The next deployment (`pulumi refresh`, `destroy`: each its own engine run): the provider
 * process ends and a new one starts, configured the same, as the engine starts one per run.
 */
async function nextDeployment(): Promise<void> {
  await server.stop();
  expect(server.stderr).not.toContain(API_KEY);
  expect(server.stderr).not.toContain(WRITE_KEY);
  server = await startProviderServer({ programDir: REPO });
  await server.configure({ "sendgrid:apiKey": API_KEY, "sendgrid:apiBaseUrl": emulator.url });
}

describe("engine protocol against the real dynamic-provider server", () => {
  let id: string;
  let state: Record<string, any>;

  it("Configure: takes stack config; the runtime strips secrets before they reach the provider", async () => {
    const res = await server.configure({ "sendgrid:apiKey": API_KEY, "sendgrid:apiBaseUrl": emulator.url });
    expect(res.acceptSecrets).toBe(false);
  });

  it("Check: normalizes, and reports bad fields with their paths before any API call", async () => {
    const ok = await server.check("prod-events", {}, inputs());
    expect(ok.failures).toEqual([]);
    expect(ok.inputs).toMatchObject({
      filters: { emailEvents: ["click", "open"] },
      destination: "Segment",
      __provider: serializedProvider,
    });

    const bad = await server.check(
      "prod-events",
      {},
      inputs({ filters: { emailEvents: ["open", "nope"] }, properties: { writeKey: "x", destinationRegion: "MARS" } }),
    );
    expect(bad.failures.map((f: { property: string }) => f.property).sort()).toEqual([
      "filters.emailEvents[1]",
      "properties.destinationRegion",
      "properties.writeKey",
    ]);
    expect(emulator.requests).toEqual([]);
  });

  it("Check during preview: unknown values are not failures", async () => {
    const res = await server.check(
      "prod-events",
      {},
      inputs({ properties: { writeKey: UNKNOWN, destinationRegion: "US" }, label: UNKNOWN }),
    );
    expect(res.failures).toEqual([]);
  });

  it("Create: one POST; the id is SendGrid's integration_id", async () => {
    const checked = (await server.check("prod-events", {}, inputs())).inputs;
    const res = await server.create("prod-events", checked);
    id = res.id;
    state = res.properties;
    const [live] = emulator.integrations();
    expect(id).toBe(live!.integration_id);
    expect(state).toMatchObject({
      integrationId: id,
      userId: live!.user_id,
      label: "Prod events",
      __provider: serializedProvider,
    });
    expect(emulator.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`POST ${BASE}`]);
  });

  it("Diff: reordered events are no change; label and write key update in place; onBehalfOf replaces; no API call", async () => {
    emulator.requests.length = 0;
    const same = await server.diff(
      "prod-events",
      id,
      state,
      inputs({ filters: { emailEvents: ["click", "open", "click"] } }),
    );
    expect(same.changes).toBe(false);
    const relabel = await server.diff("prod-events", id, state, inputs({ label: "Renamed" }));
    expect(relabel).toMatchObject({ changes: true, replaces: [] });
    const rotate = await server.diff(
      "prod-events",
      id,
      state,
      inputs({ properties: { writeKey: WRITE_KEY_2, destinationRegion: "US" } }),
    );
    expect(rotate).toMatchObject({ changes: true, replaces: [] });
    const move = await server.diff("prod-events", id, state, inputs({ onBehalfOf: "subuser-a" }));
    expect(move).toMatchObject({ changes: true, replaces: ["onBehalfOf"] });
    const preview = await server.diff("prod-events", id, state, inputs({ label: UNKNOWN }));
    expect(preview.changes).toBe(true);
    expect(emulator.requests).toEqual([]);
  });

  it.each([
    [
      ["click", "open"],
      ["bounce", "click"],
    ],
    [
      ["bounce", "click"],
      ["click", "open"],
    ],
    [
      ["click", "open"],
      ["click", "delivered", "open"],
    ],
    [
      ["click", "delivered", "open"],
      ["click", "open"],
    ],
  ])("Diff: events %j → %j is an in-place change the engine sees (DIFF_SOME, no replace)", async (before, after) => {
    const olds = { ...state, filters: { emailEvents: before } };
    const res = await server.diff("prod-events", id, olds, inputs({ filters: { emailEvents: after } }));
    expect(res).toMatchObject({ changes: true, replaces: [] });
  });

  it("Diff: a new release of the package (different __provider text) alone is not a change", async () => {
    const fromOldRelease = { ...state, __provider: `${serializedProvider}\n// an older release` };
    const res = await server.diff("prod-events", id, fromOldRelease, inputs());
    expect(res.changes).toBe(false);
  });

  it("Update: one PATCH /{id} with the full desired filters and properties", async () => {
    emulator.requests.length = 0;
    const news = (
      await server.check(
        "prod-events",
        state,
        inputs({ label: "Renamed", properties: { writeKey: WRITE_KEY_2, destinationRegion: "EU" } }),
      )
    ).inputs;
    const res = await server.update("prod-events", id, state, news);
    state = res.properties;
    expect(emulator.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`PATCH ${BASE}/${id}`]);
    expect(emulator.integrations()[0]).toMatchObject({
      label: "Renamed",
      filters: { email_events: ["click", "open"] },
      properties: { write_key: WRITE_KEY_2, destination_region: "EU" },
    });
    expect(state).toMatchObject({
      integrationId: id,
      label: "Renamed",
      properties: { writeKey: WRITE_KEY_2, destinationRegion: "EU" },
    });
  });

  it("Read: one list of the place; drift made outside Pulumi comes back", async () => {
    await nextDeployment(); // a refresh
    emulator.requests.length = 0;
    emulator.integrations()[0]!.label = "Changed in the UI";
    const res = await server.read("prod-events", id, state);
    expect(res.id).toBe(id);
    expect(res.properties).toMatchObject({ label: "Changed in the UI", __provider: serializedProvider });
    // Drift: the refreshed inputs come back through the protocol as well (ReadResponse.inputs).
    expect(res.inputs).toMatchObject({ label: "Changed in the UI", __provider: serializedProvider });
    expect(res.inputs).not.toHaveProperty("integrationId");
    expect(emulator.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`GET ${BASE}`]);
    state = res.properties;
  });

  it("Delete: one DELETE ?ids=<id>; then Read reports it gone and Delete again succeeds, each proven by the list", async () => {
    await nextDeployment(); // a destroy
    emulator.requests.length = 0;
    await server.delete("prod-events", id, state);
    expect(emulator.integrations()).toEqual([]);
    expect((await server.read("prod-events", id, state)).id).toBe("");
    await server.delete("prod-events", id, state);
    expect(emulator.requests.map((r) => `${r.method} ${r.ids ?? ""} ${r.status}`)).toEqual([
      `DELETE ${id} 204`,
      `GET  200`, // the read: absent from the place's list
      `DELETE ${id} 404`,
      `GET  200`, // the 404 proves nothing: the list does
    ]);
  });

  it("Errors reach the engine as one line with the status and SendGrid's message, never the key", async () => {
    for (let i = 0; i < 10; i++)
      emulator.seed(
        {
          label: `ui-${i}`,
          destination: "Segment",
          filters: { email_events: ["open"] },
          properties: { write_key: "wk_seeded", destination_region: "US" },
        },
        "full",
      );
    const checked = (await server.check("full", {}, inputs({ onBehalfOf: "full" }))).inputs;
    const error = await rejectionOf(server.create("full", checked));
    expect(error.message).toMatch(
      /Unable to create SendGrid Segment integration "Prod events": subuser "full" already has 10 Segment integrations, SendGrid's limit is 10: "ui-0" \(/,
    );
    expect(error.message).not.toContain(API_KEY);
    expect(error.message).not.toContain(WRITE_KEY);
  });
});

describe("engine protocol: a fresh provider process", () => {
  it("answers many first calls at once with the full provider (configure installs every method first)", async () => {
    const fresh = await startProviderServer({ programDir: REPO });
    try {
      await fresh.configure({ "sendgrid:apiKey": API_KEY, "sendgrid:apiBaseUrl": emulator.url });
      const bad = inputs({ filters: { emailEvents: ["nope"] } });
      const results = await Promise.all([
        ...Array.from({ length: 8 }, (_, i) => fresh.check(`c${i}`, {}, bad)),
        ...Array.from({ length: 4 }, (_, i) => fresh.diff(`d${i}`, "id", { ...bad, label: "Old" }, bad)),
      ]);
      for (const r of results.slice(0, 8)) expect((r as { failures: unknown[] }).failures).toHaveLength(1);
      for (const r of results.slice(8)) expect((r as { changes?: boolean }).changes).toBe(true);
    } finally {
      await fresh.stop();
    }
  });
});

describe("engine protocol: configuration from the environment", () => {
  it("uses SENDGRID_API_KEY and SENDGRID_API_BASE_URL when stack config has none", async () => {
    const envServer = await startProviderServer({
      programDir: REPO,
      env: { SENDGRID_API_KEY: API_KEY, SENDGRID_API_BASE_URL: emulator.url },
    });
    try {
      await envServer.configure({});
      const checked = (await envServer.check("env", {}, inputs({ label: "From env" }))).inputs;
      const { id } = await envServer.create("env", checked);
      expect(emulator.integrations().map((i) => i.integration_id)).toContain(id);
    } finally {
      await envServer.stop();
    }
  });

  it("a missing key fails the first API operation, naming both ways to set it", async () => {
    const bare = await startProviderServer({ programDir: REPO, env: { SENDGRID_API_KEY: "" } });
    try {
      await bare.configure({ "sendgrid:apiBaseUrl": emulator.url });
      const checked = (await bare.check("nokey", {}, inputs())).inputs;
      const error = await rejectionOf(bare.create("nokey", checked));
      expect(error.message).toContain("sendgrid:apiKey");
      expect(error.message).toContain("SENDGRID_API_KEY");
    } finally {
      await bare.stop();
    }
  });
});

describe("upgrades", () => {
  it("state written by release 0.1.0 is refreshed, diffed, updated and deleted without replacement", async () => {
    const fixture = loadStateFixture("0.1.0");
    expect(fixture.outputs.__provider).toBe(fixture.inputs.__provider);
    // The upgrade's first run (a refresh, then an up), and the destroy that ends it: a new provider process each.
    await nextDeployment();
    const destroying = await startProviderServer({ programDir: REPO });
    try {
      await runUpgrade(server, emulator, fixture, serializedProvider, async () => {
        await destroying.configure({ "sendgrid:apiKey": API_KEY, "sendgrid:apiBaseUrl": emulator.url });
        return destroying;
      });
    } finally {
      await destroying.stop();
    }
    expect(destroying.stderr).not.toContain(API_KEY);
  });

  it("one process, two shims (0.1.0's and this release's): one deployment, one set of holdings (issue 22)", async () => {
    // The runtime configures each distinct serialized provider once (cmd/dynamic-provider getProvider):
    // the 0.1.0 resource's own shim configures again mid-deployment. A renamed resource: "old-name"
    // (written by 0.1.0) is no longer declared, "new-name" (identical) is created, its POST answered
    // 503 after committing nothing; reconciliation recognises old-name's integration; the delete of
    // old-name, through 0.1.0's shim, must then keep it for new-name.
    const fixture = loadStateFixture("0.1.0");
    const process = await startProviderServer({ programDir: REPO });
    try {
      await process.configure({ "sendgrid:apiKey": API_KEY, "sendgrid:apiBaseUrl": emulator.url });
      const o = fixture.outputs;
      emulator.seed({
        integration_id: fixture.id,
        user_id: o.userId,
        label: o.label,
        destination: o.destination,
        filters: { email_events: o.filters.emailEvents },
        properties: { write_key: o.properties.writeKey, destination_region: o.properties.destinationRegion },
      });
      const { __provider: _old, ...program } = fixture.inputs;
      const checked = (await process.check("new-name", {}, { ...program, __provider: serializedProvider })).inputs;
      emulator.inject({ kind: "status", status: 503, method: "POST" });
      const created = await process.create("new-name", checked);
      expect(created.id).toBe(fixture.id); // recognised: the 503 committed nothing
      emulator.requests.length = 0;
      await process.delete("prod-events", fixture.id, fixture.outputs); // 0.1.0's shim: configure again
      expect(emulator.requests).toEqual([]); // nothing deleted: new-name holds it
      expect(emulator.integrations().map((i) => i.integration_id)).toContain(fixture.id);
      await process.delete("new-name", created.id, created.properties);
    } finally {
      await process.stop();
    }
  });
});
