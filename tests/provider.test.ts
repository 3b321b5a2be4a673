// Layer 2: the provider's methods against the emulator over real HTTP.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { type Emulator, startEmulator } from "../emulator";
import { keyDigest } from "../provider/client";
import * as provider from "../provider/dynamic";
import { PACKAGE_VERSION, versionFrom } from "../provider/package";
import { startFakeEngine } from "./support/engine.cjs";
import { API_KEY, configureRequest, desired, rejectionOf, WRITE_KEY, WRITE_KEY_2 } from "./support/fixtures";

let emulator: Emulator;
const BASE = "/v3/marketing/integrations";

beforeAll(async () => {
  emulator = await startEmulator({ apiKeys: [API_KEY] });
});
afterAll(() => emulator.close());
beforeEach(async () => {
  delete process.env.SENDGRID_API_KEY;
  provider.newDeployment();
  await provider.configure(
    configureRequest({ "sendgrid:apiKey": API_KEY, "sendgrid:apiBaseUrl": emulator.url }) as never,
  );
  for (const [account, list] of emulator.accounts()) {
    for (const i of list) await provider.delete(i.integration_id, { onBehalfOf: account || undefined });
  }
  emulator.requests.length = 0;
});
afterEach(() => {
  // Nothing any operation reported may hold a credential.
  const seen = JSON.stringify(emulator.requests);
  expect(seen).not.toContain(API_KEY);
});

async function created(overrides: Record<string, unknown> = {}) {
  const { inputs, failures } = await provider.check({}, desired(overrides));
  expect(failures).toEqual([]);
  const result = await provider.create(inputs);
  emulator.requests.length = 0;
  return result;
}

describe("create", () => {
  it("makes one POST and takes id and outputs from the response", async () => {
    const { inputs } = await provider.check({}, desired({ label: undefined }));
    const { id, outs } = await provider.create(inputs);
    expect(emulator.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`POST ${BASE}`]);
    const [stored] = emulator.integrations();
    expect(id).toBe(stored!.integration_id);
    expect(outs).toEqual({
      integrationId: id,
      userId: stored!.user_id,
      label: "Untitled Integration",
      destination: "Segment",
      filters: { emailEvents: ["click", "delivered", "open"] },
      properties: { writeKey: WRITE_KEY, destinationRegion: "US" },
      sendgridRegion: "global",
      sendgridKeyDigest: keyDigest(API_KEY),
      stateVersion: 3,
    });
  });

  it("sends snake_case on the wire and a User-Agent naming the package and version", async () => {
    await created();
    const [stored] = emulator.integrations();
    expect(stored).toMatchObject({
      label: "Prod events",
      destination: "Segment",
      filters: { email_events: ["click", "delivered", "open"] },
      properties: { write_key: WRITE_KEY, destination_region: "US" },
    });
    const { version } = JSON.parse(readFileSync(join(__dirname, "..", "package.json"), "utf8"));
    await provider.read(stored!.integration_id, { ...desired() });
    expect(emulator.requests[0]!.userAgent).toMatch(
      new RegExp(`^pulumi-sendgrid-segment/${version.replace(/\./g, "\\.")} `),
    );
  });

  it("creates a subuser's integration in the subuser's account (on-behalf-of)", async () => {
    const { outs } = await created({ onBehalfOf: "subuser-a" });
    expect(emulator.integrations("subuser-a")).toHaveLength(1);
    expect(emulator.integrations("")).toHaveLength(0);
    expect(outs.onBehalfOf).toBe("subuser-a");
  });

  it("at the account's limit of 10, names the limit and lists the existing integrations", async () => {
    const existing = [];
    for (let i = 0; i < 10; i++)
      existing.push((await created({ onBehalfOf: "full-account", label: `Existing ${i}` })).id);
    const { inputs } = await provider.check({}, desired({ onBehalfOf: "full-account" }));
    const error = await rejectionOf(provider.create(inputs));
    expect(error.code).toBe("ERR_SENDGRID_QUOTA");
    expect(error.message).toMatch(
      /^Unable to create SendGrid Segment integration "Prod events": subuser "full-account" already has 10 Segment integrations, SendGrid's limit is 10: /,
    );
    for (const [i, id] of existing.entries()) expect(error.message).toContain(`"Existing ${i}" (${id})`);
    expect(error.message).not.toMatch(/\n/);
    expect(emulator.integrations("full-account")).toHaveLength(10);
  });

  it("explains a 403 below the limit as a scope problem, with SendGrid's message", async () => {
    emulator.inject({ kind: "status", status: 403, method: "POST" });
    const { inputs } = await provider.check({}, desired());
    const error = await rejectionOf(provider.create(inputs));
    expect(error.code).toBe("ERR_SENDGRID_API");
    expect(error.message).toBe(
      'Unable to create SendGrid Segment integration "Prod events": HTTP 403 Forbidden: internal error. ' +
        "The account may be at its limit of 10 Segment integrations, or the API key lacks the marketing integrations scope",
    );
    expect(emulator.requests.map((r) => `${r.method} ${r.status}`)).toEqual(["POST 403", "GET 200"]);
  });

  it("reports SendGrid's validation message and field on a 400", async () => {
    // Bypass check, as an older or newer API might disagree with it.
    const error = await rejectionOf(
      provider.create({ ...desired(), properties: { writeKey: "short", destinationRegion: "US" } }),
    );
    expect(error.message).toContain(
      'HTTP 400 Bad Request: write_key must be between 6 and 51 characters (field "request")',
    );
  });

  it("reports a rejected API key without ever showing it", async () => {
    provider.newDeployment();
    await provider.configure(
      configureRequest({ "sendgrid:apiKey": `${API_KEY}-wrong`, "sendgrid:apiBaseUrl": emulator.url }) as never,
    );
    const { inputs } = await provider.check({}, desired());
    const error = await rejectionOf(provider.create(inputs));
    expect(error.message).toMatch(
      /HTTP 401 Unauthorized: authorization required\. SendGrid refused the API key \(sendgrid:apiKey\): it may be mistyped/,
    );
    expect(JSON.stringify({ m: error.message, s: error.stack, e: error })).not.toContain(API_KEY);
    expect(error.message).not.toContain(WRITE_KEY);
  });
});

describe("read (refresh)", () => {
  it("lists the place once and brings back drift made outside Pulumi", async () => {
    const { id, outs } = await created();
    const live = emulator.integrations()[0]!;
    live.label = "Renamed in the UI";
    live.filters.email_events = ["bounce"];
    const result = await provider.read(id, outs);
    expect(emulator.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`GET ${BASE}`]);
    expect(result.id).toBe(id);
    expect(result.props).toMatchObject({ label: "Renamed in the UI", filters: { emailEvents: ["bounce"] } });
  });

  it("reports a write key changed outside Pulumi", async () => {
    const { id, outs } = await created();
    emulator.integrations()[0]!.properties.write_key = WRITE_KEY_2;
    expect((await provider.read(id, outs)).props).toMatchObject({ properties: { writeKey: WRITE_KEY_2 } });
  });

  it("keeps importId, the known write key when the API's is empty, and userId when the API omits it", async () => {
    const seeded = emulator.seed({
      user_id: undefined,
      label: "Adopted",
      destination: "Segment",
      filters: { email_events: ["open"] },
      properties: { write_key: "", destination_region: "US" },
    } as never);
    const id = seeded.integration_id;
    const state = {
      integrationId: id,
      userId: "1000001",
      importId: id,
      label: "Adopted",
      destination: "Segment",
      filters: { emailEvents: ["open"] },
      properties: { writeKey: WRITE_KEY, destinationRegion: "US" },
    };
    const { id: readId, props, inputs } = await provider.read(id, state);
    expect(readId).toBe(id);
    // nothing drifted: the empty key is not a change, userId kept; the state version is recorded
    expect(props).toEqual({
      ...state,
      sendgridRegion: "global",
      sendgridKeyDigest: keyDigest(API_KEY),
      stateVersion: 3,
    });
    expect(inputs).toBeUndefined();
  });

  it("leaves importId out of what it reads for an integration that was not imported", async () => {
    const { id, outs } = await created();
    const { props } = await provider.read(id, outs);
    expect(props).toStrictEqual(outs);
    expect(Object.keys(props)).not.toContain("importId");
  });

  it("reports an integration deleted outside Pulumi as gone (empty id)", async () => {
    const { id, outs } = await created();
    await provider.delete(id, outs);
    expect(await provider.read(id, outs)).toEqual({ id: "", props: {} });
  });

  it.each(["masked", "omitted"] as const)(
    "keeps the known write key when the API returns it %s",
    async (writeKeyMode) => {
      const masking = await startEmulator({ apiKeys: [API_KEY], writeKeyMode });
      try {
        provider.newDeployment();
        await provider.configure(
          configureRequest({ "sendgrid:apiKey": API_KEY, "sendgrid:apiBaseUrl": masking.url }) as never,
        );
        const { inputs } = await provider.check({}, desired());
        const { id, outs } = await provider.create(inputs);
        const { props } = await provider.read(id, outs);
        expect(props).toEqual(outs);
      } finally {
        await masking.close();
      }
    },
  );
});

describe("update", () => {
  it("makes one PATCH carrying only the fields that changed", async () => {
    const { id, outs } = await created();
    const { inputs } = await provider.check(
      outs,
      desired({ label: "Renamed", properties: { writeKey: WRITE_KEY_2, destinationRegion: "EU" } }),
    );
    const result = await provider.update(id, outs, inputs);
    expect(emulator.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`PATCH ${BASE}/${id}`]);
    expect(emulator.requests[0]!.fields).toEqual(["label", "properties.write_key", "properties.destination_region"]);
    expect(emulator.integrations()[0]).toMatchObject({
      label: "Renamed",
      filters: { email_events: ["click", "delivered", "open"] },
      properties: { write_key: WRITE_KEY_2, destination_region: "EU" },
    });
    expect(result.outs).toMatchObject({
      integrationId: id,
      userId: outs.userId,
      label: "Renamed",
      properties: { destinationRegion: "EU" },
      stateVersion: 3,
    });
  });

  it("keeps what SendGrid holds for fields it did not send (a change made outside Pulumi stays)", async () => {
    const { id, outs } = await created();
    emulator.seed({ ...emulator.integrations()[0]!, label: "Renamed in the UI" });
    const { inputs } = await provider.check(outs, desired({ filters: { emailEvents: ["open"] } }));
    const { outs: after } = await provider.update(id, outs, inputs);
    // The label always travels (the spec's PATCH default): the live one, read from the place's list.
    expect(emulator.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`GET ${BASE}`, `PATCH ${BASE}/${id}`]);
    expect(emulator.requests[1]!.fields).toEqual(["label", "filters.email_events"]);
    expect(emulator.integrations()[0]).toMatchObject({
      label: "Renamed in the UI",
      filters: { email_events: ["open"] },
    });
    // Outputs record what this update changed; the label it did not change stays as state had it
    // (the engine keeps the old input there under ignoreChanges): the UI's label shows at refresh.
    expect(after).toMatchObject({ label: "Prod events", filters: { emailEvents: ["open"] } });
    const refreshed = await provider.read(id, after);
    expect(refreshed.props).toMatchObject({ label: "Renamed in the UI" });
  });

  it("an events-only update never renames, even where SendGrid applies the spec's PATCH label default (issue 23)", async () => {
    const defaulting = await startEmulator({ apiKeys: [API_KEY], patchLabelDefault: true });
    try {
      provider.newDeployment();
      await provider.configure(
        configureRequest({ "sendgrid:apiKey": API_KEY, "sendgrid:apiBaseUrl": defaulting.url }) as never,
      );
      const { inputs } = await provider.check({}, desired({ label: "Keep me" }));
      const { id, outs } = await provider.create(inputs);
      const news = (await provider.check(outs, desired({ label: "Keep me", filters: { emailEvents: ["open"] } })))
        .inputs;
      const { outs: after } = await provider.update(id, outs, news);
      expect(defaulting.integrations()[0]).toMatchObject({ label: "Keep me", filters: { email_events: ["open"] } });
      expect(after.label).toBe("Keep me");
    } finally {
      await defaulting.close();
    }
  });

  it("keeps importId in the outputs", async () => {
    const { id, outs } = await created();
    const { outs: after } = await provider.update(id, { ...outs, importId: id }, { ...outs, label: "Again" });
    expect(after.importId).toBe(id);
  });

  it("updates a subuser's integration in that account", async () => {
    const { id, outs } = await created({ onBehalfOf: "subuser-b" });
    const { inputs } = await provider.check(outs, desired({ onBehalfOf: "subuser-b", label: "Sub renamed" }));
    await provider.update(id, outs, inputs);
    expect(emulator.requests[0]!.onBehalfOf).toBe("subuser-b");
    expect(emulator.integrations("subuser-b")[0]!.label).toBe("Sub renamed");
  });
});

describe("delete", () => {
  it("makes one DELETE ?ids=<id>; a 404 counts as deleted only once the place's list proves it absent", async () => {
    const { id, outs } = await created();
    await provider.delete(id, outs);
    await provider.delete(id, outs);
    expect(emulator.requests.map((r) => `${r.method} ${r.path} ${r.ids} ${r.status}`)).toEqual([
      `DELETE ${BASE} ${id} 204`,
      `DELETE ${BASE} ${id} 404`,
      `GET ${BASE} undefined 200`,
    ]);
    expect(emulator.integrations()).toEqual([]);
  });

  it.each(["", "a,b", "a&ids=b", "../x", "a b", "x".repeat(129)])("refuses id %j before any request", async (id) => {
    const { outs } = await created();
    await expect(provider.delete(id, outs)).rejects.toMatchObject({ code: "ERR_SENDGRID_INVALID_ID" });
    await expect(provider.read(id, outs)).rejects.toMatchObject({ code: "ERR_SENDGRID_INVALID_ID" });
    await expect(provider.update(id, outs, outs)).rejects.toMatchObject({ code: "ERR_SENDGRID_INVALID_ID" });
    expect(emulator.requests).toEqual([]);
    expect(emulator.integrations()).toHaveLength(1);
  });
});

describe("state written by a newer release (issue 16)", () => {
  it("diff, read, update and delete refuse it and send nothing", async () => {
    const { id, outs } = await created();
    emulator.requests.length = 0;
    const newer = { ...outs, stateVersion: 4 };
    for (const [doing, call] of [
      ["diff", () => provider.diff(id, newer, desired())],
      ["read", () => provider.read(id, newer)],
      ["update", () => provider.update(id, newer, desired({ label: "x" }))],
      ["delete", () => provider.delete(id, newer)],
    ] as const) {
      const error = await rejectionOf(call());
      expect(error.code).toBe("ERR_SENDGRID_STATE_VERSION");
      expect(error.message).toMatch(
        new RegExp(`^Unable to ${doing} SendGrid Segment integration ${id}: its state was written by a newer`),
      );
    }
    expect(emulator.requests).toEqual([]);
    expect(emulator.integrations()).toHaveLength(1);
  });

  it("state from 0.1.0 and 0.2.0 (no version) and 0.3.0 (version 2) is read and written back as version 3", async () => {
    const { id, outs } = await created();
    const { stateVersion: _v, sendgridRegion: _r, ...old } = outs;
    expect((await provider.read(id, old)).props).toMatchObject({ stateVersion: 3, sendgridRegion: "global" });
    expect((await provider.read(id, { ...old, stateVersion: 2 })).props).toMatchObject({ stateVersion: 3 });
  });
});

describe("a 404 that is not SendGrid's (issue 16)", () => {
  it("refresh fails and does not report the integration gone", async () => {
    const { id, outs } = await created();
    emulator.inject({ kind: "html", status: 404, method: "GET" });
    const error = await rejectionOf(provider.read(id, outs));
    expect(error.code).toBe("ERR_SENDGRID_CONFIG");
    expect(error.message).toMatch(
      new RegExp(`^Unable to read SendGrid Segment integration ${id}: listing the account failed: HTTP 404 at`),
    );
    expect(error.message).toContain("Check sendgrid:apiBaseUrl");
    expect(error.message).toContain("the answer was not even in SendGrid's error shape");
  });

  it("delete fails; the integration stays", async () => {
    const { id, outs } = await created();
    emulator.inject({ kind: "html", status: 404, method: "DELETE" });
    await rejectionOf(provider.delete(id, outs));
    expect(emulator.integrations()).toHaveLength(1);
  });
});

describe("check at preview (issue 16)", () => {
  it("an account still unknown is not looked up", async () => {
    expect((await provider.check({}, desired({ account: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" }))).failures).toEqual(
      [],
    );
  });
});

describe("configuration at deployment time", () => {
  it("check and diff need no API key and make no API call", async () => {
    provider.newDeployment();
    await provider.configure(configureRequest({}) as never);
    const { inputs } = await provider.check({}, desired());
    await provider.diff("id", inputs, inputs);
    expect(emulator.requests).toEqual([]);
  });

  it("a missing key fails the first operation that needs it, naming both ways to set it", async () => {
    provider.newDeployment();
    await provider.configure(configureRequest({ "sendgrid:apiBaseUrl": emulator.url }) as never);
    const { inputs } = await provider.check({}, desired());
    await expect(provider.create(inputs)).rejects.toThrow(
      "No SendGrid API key: set it with `pulumi config set --secret sendgrid:apiKey <key>` or the SENDGRID_API_KEY environment variable",
    );
    expect(emulator.requests).toEqual([]);
  });

  it("falls back to SENDGRID_API_KEY and SENDGRID_API_BASE_URL", async () => {
    provider.newDeployment();
    await provider.configure(configureRequest({}) as never);
    process.env.SENDGRID_API_KEY = API_KEY;
    process.env.SENDGRID_API_BASE_URL = emulator.url;
    try {
      await created();
      expect(emulator.integrations()).toHaveLength(1);
    } finally {
      delete process.env.SENDGRID_API_BASE_URL;
    }
  });

  it("gives up on a slow request after sendgrid:requestTimeoutMs, saying so", async () => {
    const { id, outs } = await created();
    const slow = await startEmulator({ apiKeys: [API_KEY], latencyMs: 400 });
    try {
      const settings = {
        "sendgrid:apiKey": API_KEY,
        "sendgrid:apiBaseUrl": slow.url,
        "sendgrid:requestTimeoutMs": "100",
      };
      provider.newDeployment();
      await provider.configure(configureRequest({ ...settings, "sendgrid:retryBudgetMs": "0" }) as never);
      const started = Date.now();
      const error = await rejectionOf(provider.read(id, outs));
      expect(error).toMatchObject({ code: "ERR_SENDGRID_REQUEST" });
      expect(error.message).toMatch(
        new RegExp(`^Unable to read SendGrid Segment integration ${id}: listing the account failed: request timed out`),
      );
      expect(Date.now() - started).toBeLessThan(400);
    } finally {
      await slow.close();
    }
  });

  it("stack config wins over the environment", async () => {
    process.env.SENDGRID_API_KEY = "SG.env-key-that-the-emulator-rejects";
    await created();
    expect(emulator.integrations()).toHaveLength(1);
  });
});

describe("one deployment, configured once per serialized provider (cmd/dynamic-provider getProvider)", () => {
  const settings = () => configureRequest({ "sendgrid:apiKey": API_KEY, "sendgrid:apiBaseUrl": emulator.url }) as never;

  /** An integration a resource of an earlier deployment created, adopted (importId) by a renamed resource now. */
  async function adoptedByRename() {
    const old = await created();
    provider.newDeployment();
    await provider.configure(settings());
    const { inputs } = await provider.check({}, desired({ importId: old.id }));
    const renamed = await provider.create(inputs);
    expect(renamed.id).toBe(old.id);
    emulator.requests.length = 0;
    return old;
  }

  it("the same stack config again (another release's shim in the same process) keeps what the deployment holds", async () => {
    const old = await adoptedByRename();
    await provider.configure(settings()); // 0.1.0's shim, carried by the old resource's state
    await provider.delete(old.id, old.outs);
    expect(emulator.requests).toEqual([]); // the renamed resource holds it: nothing deleted
    expect(emulator.integrations().map((i) => i.integration_id)).toEqual([old.id]);
  });

  it("another stack config makes new operations, which every method then uses", async () => {
    await provider.configure(
      configureRequest({ "sendgrid:apiKey": `${API_KEY}-wrong`, "sendgrid:apiBaseUrl": emulator.url }) as never,
    );
    const { inputs } = await provider.check({}, desired());
    expect((await rejectionOf(provider.create(inputs))).message).toMatch(/HTTP 401 Unauthorized/);
    await provider.configure(settings());
    await provider.create(inputs);
    expect(emulator.integrations()).toHaveLength(1);
  });

  it("a stack config that changes only the accounts makes new operations, which see the new accounts", async () => {
    const withAccounts = (name: string) =>
      configureRequest({
        "sendgrid:apiKey": API_KEY,
        "sendgrid:apiBaseUrl": emulator.url,
        "sendgrid:accounts": JSON.stringify({ [name]: { apiKey: API_KEY, apiBaseUrl: emulator.url } }),
      }) as never;
    await provider.configure(withAccounts("brand"));
    const { inputs } = await provider.check({}, desired({ account: "other" }));
    expect((await rejectionOf(provider.create(inputs))).message).toContain('No SendGrid account "other" is configured');
    await provider.configure(withAccounts("other"));
    await provider.create(inputs);
    expect(emulator.integrations()).toHaveLength(1);
  });

  it("run by the dynamic-provider runtime, warnings reach the engine's log before the operation answers", async () => {
    const old = await created();
    const engine = await startFakeEngine({ req: createRequire(__filename) });
    // The runtime is `node <...>/@pulumi/pulumi/cmd/dynamic-provider/index.js <engine address>`.
    const entry = join("node_modules", "@pulumi", "pulumi", "cmd", "dynamic-provider", "index.js");
    const { argv, mainModule } = process;
    process.argv = [process.execPath, entry, engine.address];
    process.mainModule = { filename: entry } as never;
    vi.resetModules();
    try {
      const runtime: typeof provider = await import("../provider/dynamic/index.js");
      await runtime.configure(settings());
      const { inputs } = await runtime.check({}, desired({ importId: old.id }));
      await runtime.create(inputs);
      expect(engine.logs).toEqual([]);
      await runtime.delete(old.id, old.outs);
      expect(engine.logs).toEqual([
        {
          severity: 2,
          message: expect.stringMatching(
            new RegExp(`^Integration ${old.id} was kept, not deleted: a resource created`),
          ),
          urn: "",
        },
      ]);
    } finally {
      process.argv = argv;
      process.mainModule = mainModule;
      await engine.close();
    }
  });
});

describe("userId", () => {
  const sparse = () =>
    emulator.seed({
      user_id: undefined,
      label: "Sparse",
      destination: "Segment",
      filters: { email_events: ["open"] },
      properties: { write_key: WRITE_KEY, destination_region: "US" },
    } as never);
  const stateOf = (id: string, extra: Record<string, unknown> = {}) => ({
    integrationId: id,
    label: "Sparse",
    destination: "Segment",
    filters: { emailEvents: ["open"] },
    properties: { writeKey: WRITE_KEY, destinationRegion: "US" },
    ...extra,
  });

  it("is empty when neither the answer nor state has one", async () => {
    const { integration_id: id } = sparse();
    expect((await provider.read(id, stateOf(id))).props).toMatchObject({ userId: "" });
    const news = (await provider.check({}, desired({ label: "Sparse 2", filters: { emailEvents: ["open"] } }))).inputs;
    expect((await provider.update(id, stateOf(id), news)).outs.userId).toBe("");
  });

  it("update takes it from the answer over what state had", async () => {
    const { id, outs } = await created();
    const news = (await provider.check({}, desired({ label: "Renamed" }))).inputs;
    const { outs: updated } = await provider.update(id, { ...outs, userId: "stale" }, news);
    expect(updated.userId).toBe(emulator.integrations()[0]!.user_id);
  });
});

describe("the methods the shim installs", () => {
  it("are exactly the provider's named methods", () => {
    expect(provider.methods).toStrictEqual({
      check: provider.check,
      diff: provider.diff,
      create: provider.create,
      read: provider.read,
      update: provider.update,
      delete: provider.delete,
    });
  });
});

describe("diff, as the engine receives it", () => {
  it("answers changes, replaces and deleteBeforeReplace, and nothing else", async () => {
    const { id, outs } = await created();
    const same = (await provider.check({}, desired())).inputs;
    expect(await provider.diff(id, outs, same)).toStrictEqual({
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });
    const moved = (await provider.check({}, desired({ label: "New", onBehalfOf: "sub" }))).inputs;
    expect(await provider.diff(id, outs, moved)).toStrictEqual({
      changes: true,
      replaces: ["onBehalfOf"],
      deleteBeforeReplace: false,
    });
  });
});

describe("the package version (User-Agent)", () => {
  const roots: string[] = [];
  afterAll(() => {
    for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
  });
  const layout = (files: Record<string, string>) => {
    const root = mkdtempSync(join(tmpdir(), "pkg-"));
    roots.push(root);
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    return root;
  };

  it("is this package's, read from the sources' layout", () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, "..", "package.json"), "utf8"));
    expect(PACKAGE_VERSION).toBe(pkg.version);
  });

  it("is found one level up (sources) or two (dist/), and is unknown when neither has one", () => {
    const root = layout({ "package.json": '{"version":"1.2.3"}', "provider/x": "", "dist/provider/x": "" });
    expect(versionFrom(join(root, "provider"))).toBe("1.2.3");
    expect(versionFrom(join(root, "dist", "provider"))).toBe("1.2.3");
    expect(versionFrom(join(layout({ "a/b/c/x": "" }), "a", "b", "c"))).toBe("unknown");
    const broken = layout({
      "package.json": '{"version":"9.9.9"}',
      "dist/package.json": "{not json",
      "dist/provider/x": "",
    });
    expect(versionFrom(join(broken, "dist", "provider"))).toBe("9.9.9");
    const unversioned = layout({
      "package.json": '{"version":"4.5.6"}',
      "dist/package.json": "{}",
      "dist/provider/x": "",
    });
    expect(versionFrom(join(unversioned, "dist", "provider"))).toBe("4.5.6");
  });
});
