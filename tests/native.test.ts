// Issue 18: the native provider plugin's gRPC service, in process (so mutation testing sees it),
// driven as the engine drives a plugin: GetPluginInfo, GetSchema, CheckConfig, DiffConfig,
// Configure (secrets wrapped and not), Check, Diff (detailed), Create, Read (refresh and import's
// id-only Read), Update, Delete, Invoke, against the emulator.
import { readFileSync } from "node:fs";
import { createRequire, syncBuiltinESMExports } from "node:module";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../emulator";
import { checkConfig, configFrom, diffConfig, main, type Served, serve } from "../provider/native";
import { LIST_TOKEN, packageSchema, RESOURCE_TOKEN } from "../provider/native/schema";
import { isSecret, reveal, SECRET_SIG, SIG_KEY, secret } from "../provider/native/secrets";
import { connect, type ProviderClient, startFakeEngine } from "./support/engine.cjs";
import { SimEngine, withEngineSecrets } from "./support/engine-sim";
import { API_KEY, expectNoSecretPart, rejectionOf, WRITE_KEY, WRITE_KEY_2 } from "./support/fixtures";
import { runLifecycle } from "./support/lifecycle";

const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

const REPO = join(__dirname, "..");
const req = createRequire(join(REPO, "package.json"));
const VERSION = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")).version as string;

let emulator: Emulator;
let served: Served;
let client: ProviderClient;

const args = (extra: Record<string, unknown> = {}) => ({
  label: "Prod events",
  filters: { emailEvents: ["open", "click"] },
  properties: secret({ writeKey: WRITE_KEY, destinationRegion: "US" }),
  ...extra,
});
const settings = (extra: Record<string, unknown> = {}) => ({
  apiKey: secret(API_KEY),
  apiBaseUrl: emulator.url,
  requestTimeoutMs: "400",
  retryBudgetMs: "2000",
  version: VERSION,
  ...extra,
});
const liveIds = () => emulator.integrations().map((i) => i.integration_id);

beforeAll(async () => {
  emulator = await startEmulator({ apiKeys: [API_KEY] });
  served = await serve();
  client = connect({ port: served.port, req, type: RESOURCE_TOKEN });
});
afterAll(async () => {
  client?.close();
  await served?.stop();
  await emulator?.close();
});
beforeEach(async () => {
  emulator.clearFaults();
  for (const id of liveIds()) emulator.remove(id);
  await client.configureArgs(settings());
  emulator.requests.length = 0;
});

describe("plugin info and configuration", () => {
  it("GetSchema answers the package schema of this version, with the resource and the function", async () => {
    const schema = await client.getSchema();
    expect(schema).toEqual(packageSchema(VERSION));
    expect(schema).toMatchObject({ name: "sendgrid-segment", version: VERSION });
    expect(Object.keys(schema.resources)).toEqual([RESOURCE_TOKEN]);
    expect(Object.keys(schema.functions)).toEqual([LIST_TOKEN]);
  });

  it("reports the package version", async () => {
    expect(await client.getPluginInfo()).toEqual({ version: VERSION });
  });

  it("accepts secrets, and answers previews of create and update itself (issue 22)", async () => {
    expect(await client.configureArgs(settings())).toEqual({
      acceptSecrets: true,
      supportsPreview: true,
      acceptResources: false,
      acceptOutputs: false,
    });
  });

  it("CheckConfig names every bad setting at once, and never shows the key", async () => {
    const { failures } = await client.checkConfig(
      {},
      {
        apiKey: secret(API_KEY),
        region: "mars",
        apiBaseUrl: "http://example.com",
        requestTimeoutMs: "0",
        retryBudgetMs: "soon",
        accounts: { "9bad": { apiKey: "x" } },
        apikey: "typo",
      },
    );
    expect(failures.map((f) => f.property).sort()).toEqual(
      ["accounts", "apiBaseUrl", "apikey", "region", "requestTimeoutMs", "retryBudgetMs"].sort(),
    );
    const reason = (property: string) => failures.find((f) => f.property === property)?.reason;
    expect(reason("region")).toBe(
      'Invalid sendgrid-segment:region: expected "global" or "eu", got a string of 4 characters',
    );
    expect(reason("apikey")).toBe("is not a setting of the sendgrid-segment provider");
    expect(reason("requestTimeoutMs")).toMatch(/^Invalid sendgrid-segment:requestTimeoutMs: expected whole/);
    expect(reason("accounts")).toMatch(
      /^Invalid sendgrid-segment:accounts: an account name \(a string of 4 characters\)/,
    );
    expectNoSecretPart(JSON.stringify(failures));
  });

  it("CheckConfig passes good settings through, the key and the accounts as secrets (they go into state)", async () => {
    const accounts = JSON.stringify({ brand: { apiKey: "k", region: "eu" } });
    const news = settings({ region: "eu", accounts });
    const { inputs, failures } = await client.checkConfig({}, news);
    expect(failures).toEqual([]);
    expect(inputs).toEqual({ ...news, accounts: secret(accounts) });
    expect(isSecret(inputs.apiKey)).toBe(true);
    // A key set without --secret still leaves CheckConfig as a secret.
    const plainKey = await client.checkConfig({}, { apiKey: API_KEY, region: "eu" });
    expect(plainKey.inputs).toEqual({ apiKey: secret(API_KEY), region: "eu" });
  });

  it("CheckConfig checks each named account's settings", () => {
    expect(checkConfig({ accounts: { brand: { region: "moon" } } })).toEqual([
      {
        property: "accounts",
        reason:
          'Invalid sendgrid-segment:accounts.brand.region: expected "global" or "eu", got a string of 4 characters',
      },
    ]);
    expect(checkConfig({ accounts: { brand: { apiKey: "k" } }, pluginDownloadURL: "x", version: "1" })).toEqual([]);
  });

  it("DiffConfig decides on the region the provider really uses, before and after (issue 22)", async () => {
    // No region (global) to eu is a move to another SendGrid API: every resource is replaced.
    expect(await client.diffConfig({ apiKey: secret("k") }, { apiKey: secret("k"), region: "eu" })).toEqual({
      changes: true,
      diffs: ["region"],
      replaces: ["region"],
    });
    // Old inputs that name none of this provider's settings (set up from the environment alone, or
    // the dynamic provider a stack moves from) decide nothing: each resource's recorded region does.
    expect(await client.diffConfig({ version: "0.3.0" }, { region: "eu" })).toEqual({
      changes: true,
      diffs: ["region"],
      replaces: [],
    });
    // eu in config to eu from the environment is no move at all.
    process.env.SENDGRID_REGION = "eu";
    try {
      expect(diffConfig({ region: "eu" }, {})).toEqual({ diffs: ["region"], replaces: [] });
      expect(diffConfig({ apiKey: "k" }, { apiKey: "k", region: "global" })).toEqual({
        diffs: ["region"],
        replaces: ["region"],
      });
    } finally {
      delete process.env.SENDGRID_REGION;
    }
    // A named account that moves replaces too; one added or removed does not.
    expect(
      diffConfig({ accounts: { a: { region: "global" } } }, { accounts: { a: { region: "eu" } } }).replaces,
    ).toEqual(["accounts"]);
    expect(diffConfig({ apiKey: "k" }, { apiKey: "k", accounts: { a: { region: "eu" } } }).replaces).toEqual([]);
    // Settings that do not parse are CheckConfig's to report: no replacement decided on them.
    expect(diffConfig({ region: "moon" }, { region: "eu" }).replaces).toEqual([]);
    expect(await client.diffConfig({ version: "3.0.0" }, { apiKey: secret("k") })).toEqual({
      changes: true,
      diffs: ["apiKey"],
      replaces: [],
    });
    expect(await client.diffConfig({ region: "eu" }, { region: "eu" })).toEqual({
      changes: false,
      diffs: [],
      replaces: [],
    });
  });

  it("DiffConfig: a provider whose named region changes replaces its resources", async () => {
    expect(await client.diffConfig({ region: "global" }, { region: "EU" })).toEqual({
      changes: true,
      diffs: ["region"],
      replaces: ["region"],
    });
    expect(diffConfig({ region: "eu" }, {})).toEqual({ diffs: ["region"], replaces: ["region"] });
    expect(diffConfig({ region: "global" }, {})).toEqual({ diffs: ["region"], replaces: [] }); // global either way
    expect(diffConfig({ region: "GLOBAL" }, { region: "global" }).replaces).toEqual([]);
    expect(diffConfig({ accounts: { a: { apiKey: "x" } } }, {})).toEqual({ diffs: ["accounts"], replaces: [] });
  });

  it('DiffConfig: old settings that are empty (null, "") name no region, and accounts that do not parse decide nothing', () => {
    // Empty old settings say nothing about where the integrations were: no replacement on them.
    expect(diffConfig({ region: "" }, { region: "eu" })).toEqual({ diffs: ["region"], replaces: [] });
    expect(diffConfig({ region: null }, { region: "eu" })).toEqual({ diffs: ["region"], replaces: [] });
    expect(diffConfig({ apiKey: "", region: null }, { region: "eu" })).toEqual({
      diffs: ["apiKey", "region"],
      replaces: [],
    });
    // Accounts that are not valid JSON (CheckConfig reports them) are no account at all, before or after.
    expect(diffConfig({ accounts: "{not json" }, { accounts: { a: { region: "eu" } } })).toEqual({
      diffs: ["accounts"],
      replaces: [],
    });
    expect(diffConfig({ region: "eu", accounts: { a: {} } }, { region: "eu", accounts: "[" })).toEqual({
      diffs: ["accounts"],
      replaces: [],
    });
  });

  it("DiffConfig: a named account that moves replaces even while the top-level settings are unknown (preview)", () => {
    expect(
      diffConfig(
        { region: "global", accounts: { a: { apiKey: "x", region: "global" } } },
        { region: UNKNOWN, accounts: { a: { apiKey: "x", region: "eu" } } },
      ),
    ).toEqual({ diffs: ["region", "accounts"], replaces: ["accounts"] });
  });

  it("settings still unknown at preview: no CheckConfig failure, and DiffConfig does not replace yet", async () => {
    const { failures } = await client.checkConfig(
      {},
      { region: UNKNOWN, apiBaseUrl: UNKNOWN, apiKey: secret(UNKNOWN) },
    );
    expect(failures).toEqual([]);
    // Go and YAML programs send accounts as an object: unknowns may sit anywhere inside it (issue 22).
    for (const accounts of [UNKNOWN, { brand: UNKNOWN }, { brand: { apiKey: UNKNOWN, region: "eu" } }]) {
      expect((await client.checkConfig({}, { accounts })).failures, JSON.stringify(accounts)).toEqual([]);
    }
    expect(
      diffConfig({ accounts: { a: { region: "global" } } }, { accounts: { a: { region: UNKNOWN } } }).replaces,
    ).toEqual([]);
    expect(await client.diffConfig({ region: "eu" }, { region: UNKNOWN })).toEqual({
      changes: true,
      diffs: ["region"],
      replaces: [],
    });
  });

  it("reads settings from Configure's args, secrets unwrapped, structured accounts as JSON text", () => {
    const config = configFrom({
      apiKey: secret("k"),
      requestTimeoutMs: 5000,
      accounts: secret({ a: { apiKey: "x" } }),
    });
    expect(config("sendgrid-segment:apiKey")).toBe("k");
    expect(config("sendgrid-segment:requestTimeoutMs")).toBe("5000");
    expect(config("sendgrid-segment:accounts")).toBe('{"a":{"apiKey":"x"}}');
    expect(config("sendgrid:apiKey")).toBeUndefined();
    expect(config("sendgrid-segment:region")).toBeUndefined();
  });
});

/**
 * The engine's next run (`pulumi up`, `refresh`, `destroy`: one deployment each, which registers a
 * resource at most once): the plugin configured anew, as a new deployment's provider, state carried over.
 */
async function nextRun(engine: SimEngine): Promise<SimEngine> {
  await client.configureArgs(settings());
  return engine.next(client);
}

describe("the resource, as the engine drives it", () => {
  it("the lifecycle scenario the dynamic provider's engine test runs: one API call per operation", async () => {
    // The destroy is a deployment of its own: the plugin configured anew (a new provider).
    await runLifecycle(withEngineSecrets(client), emulator, "", "lifecycle", async () => {
      await client.configureArgs(settings());
      return withEngineSecrets(client);
    });
  });

  it("create → diff → update → refresh → delete, the write key a secret in every output", async () => {
    let engine = new SimEngine(client);
    expect(await engine.up("prod", args())).toBe("create");
    const [id] = liveIds();
    const state = engine.state.get("prod")!;
    expect(state.id).toBe(id);
    expect(isSecret(state.outputs.properties)).toBe(true);
    expect(reveal(state.outputs).plain.properties).toEqual({ writeKey: WRITE_KEY, destinationRegion: "US" });
    expect(state.outputs).toMatchObject({ integrationId: id, label: "Prod events", stateVersion: 3 });

    engine = await nextRun(engine);
    expect(await engine.up("prod", args({ filters: { emailEvents: ["click", "open", "open"] } }))).toBe("same");
    engine = await nextRun(engine);
    expect(await engine.up("prod", args({ label: "Renamed" }))).toBe("update");
    expect(emulator.integrations()[0]!.label).toBe("Renamed");
    expect(isSecret(engine.state.get("prod")!.outputs.properties)).toBe(true);

    engine = await nextRun(engine);
    expect(await engine.refresh("prod")).toBe("refreshed");
    engine = await nextRun(engine);
    await engine.destroy("prod");
    expect(liveIds()).toEqual([]);
  });

  it("an input a program made secret stays secret in every output (create, update, refresh)", async () => {
    let engine = new SimEngine(client);
    await engine.up("prod", args({ label: secret("Hidden label") }));
    expect(engine.state.get("prod")!.outputs.label).toEqual(secret("Hidden label"));
    engine = await nextRun(engine);
    await engine.up("prod", args({ label: secret("Hidden too") }));
    expect(engine.state.get("prod")!.outputs.label).toEqual(secret("Hidden too"));
    const { id, inputs, outputs } = engine.state.get("prod")!;
    const refreshed = await client.read("prod", id, outputs, inputs);
    expect(refreshed.properties.label).toEqual(secret("Hidden too"));
    expect(refreshed.inputs?.label).toEqual(secret("Hidden too"));
  });

  it("Check re-marks the secret object and names bad fields without their values", async () => {
    const checked = await client.check("prod", {}, args());
    expect(checked.failures).toEqual([]);
    expect(checked.inputs.properties).toEqual(
      secret({ writeKey: WRITE_KEY, destinationRegion: "US" }) as Record<string, unknown>,
    );
    // Even when a program passes it in the clear, it leaves Check as a secret.
    const clear = await client.check(
      "prod",
      {},
      { ...args(), properties: { writeKey: WRITE_KEY, destinationRegion: "US" } },
    );
    expect(isSecret(clear.inputs.properties)).toBe(true);
    const bad = await client.check(
      "prod",
      {},
      { ...args(), properties: secret({ writeKey: WRITE_KEY_2, destinationRegion: WRITE_KEY }) },
    );
    expect(bad.failures.map((f) => f.property)).toEqual(["properties.destinationRegion"]);
    expectNoSecretPart(JSON.stringify(bad.failures));
  });

  it("Diff is detailed: kinds, replaces, stables, and no change for reordered events", async () => {
    const engine = new SimEngine(client);
    await engine.up("prod", args());
    const { id, outputs } = engine.state.get("prod")!;
    const diff = async (news: Record<string, unknown>) =>
      client.diff("prod", id, outputs, (await client.check("prod", outputs, news)).inputs);

    const none = await diff(args({ filters: { emailEvents: ["click", "open"] } }));
    expect(none).toMatchObject({ changes: false, replaces: [], diffs: [], detailedDiff: {}, hasDetailedDiff: true });

    const inPlace = await diff(
      args({ label: "New", properties: secret({ writeKey: WRITE_KEY_2, destinationRegion: "US" }) }),
    );
    expect(inPlace).toMatchObject({
      changes: true,
      replaces: [],
      diffs: ["label", "properties"],
      stables: ["integrationId", "userId", "sendgridRegion"],
      deleteBeforeReplace: false,
      detailedDiff: {
        label: { kind: "UPDATE", inputDiff: true },
        "properties.writeKey": { kind: "UPDATE", inputDiff: true },
      },
    });

    const replacing = await diff(args({ onBehalfOf: "sub" }));
    expect(replacing).toMatchObject({
      changes: true,
      replaces: ["onBehalfOf"],
      stables: [],
      detailedDiff: { onBehalfOf: { kind: "ADD_REPLACE", inputDiff: true } },
    });
    expect((await diff({ ...args(), destination: "Segment" })).changes).toBe(false);
  });

  it("Diff at preview: a value not known yet is an update (replacing or not), never an add or a delete", async () => {
    const engine = new SimEngine(client);
    await engine.up("u", args());
    const { id, outputs } = engine.state.get("u")!;
    const res = await client.diff("u", id, outputs, { ...args(), properties: UNKNOWN, onBehalfOf: UNKNOWN });
    // properties (an object) unknown: its fields are updates; onBehalfOf, unset before, unknown now: it may stay unset.
    expect(res).toMatchObject({ changes: true, replaces: ["onBehalfOf"], diffs: ["properties", "onBehalfOf"] });
    expect(res.detailedDiff).toEqual({
      onBehalfOf: { kind: "UPDATE_REPLACE", inputDiff: true },
      "properties.destinationRegion": { kind: "UPDATE", inputDiff: true },
      "properties.writeKey": { kind: "UPDATE", inputDiff: true },
    });
  });

  it("Diff marks a removed replacing field DELETE_REPLACE and a removed label DELETE", async () => {
    const engine = new SimEngine(client);
    await engine.up("sub", args({ onBehalfOf: "sub", label: "L" }));
    const { id, outputs } = engine.state.get("sub")!;
    const { label: _label, ...rest } = args();
    const res = await client.diff("sub", id, outputs, rest);
    expect(res.detailedDiff).toEqual({
      label: { kind: "DELETE", inputDiff: true },
      onBehalfOf: { kind: "DELETE_REPLACE", inputDiff: true },
    });
  });

  it("import: a Read with only an id returns the integration's state and inputs", async () => {
    const ui = emulator.seed({
      label: "Made in the UI",
      destination: "Segment",
      filters: { email_events: ["open", "bounce"] },
      properties: { write_key: WRITE_KEY, destination_region: "EU" },
    });
    const read = await client.read("imported", ui.integration_id);
    expect(read.id).toBe(ui.integration_id);
    expect(read.inputs).toBeDefined();
    expect(reveal(read.inputs!).plain).toEqual({
      label: "Made in the UI",
      destination: "Segment",
      filters: { emailEvents: ["bounce", "open"] },
      properties: { writeKey: WRITE_KEY, destinationRegion: "EU" },
    });
    expect(isSecret(read.inputs!.properties)).toBe(true);
    expect(isSecret(read.properties.properties)).toBe(true);
    // The engine's next steps: Check(read's inputs) and Diff(read's state) show nothing to change.
    const checked = await client.check("imported", {}, read.inputs!);
    expect(checked.failures).toEqual([]);
    const diff = await client.diff("imported", read.id, read.properties, checked.inputs);
    expect(diff.changes).toBe(false);
    expect(emulator.requests.map((r) => `${r.method} ${r.path}`)).toEqual(["GET /v3/marketing/integrations"]);
  });

  it("import of an id that does not exist: gone, nothing else sent", async () => {
    const read = await client.read("imported", "no-such-id");
    expect(read).toEqual({ id: "", properties: {}, inputs: undefined });
  });

  it("refresh: a drifted integration comes back with its live inputs; an unchanged one with the old inputs", async () => {
    const engine = new SimEngine(client);
    await engine.up("prod", args());
    const { id, inputs, outputs } = engine.state.get("prod")!;
    const same = await client.read("prod", id, outputs);
    expect(same.inputs).toBeUndefined();
    emulator.integrations()[0]!.label = "Changed in the UI";
    await client.configureArgs(settings()); // the next deployment: it lists the place anew
    const drifted = await client.read("prod", id, outputs);
    expect(reveal(drifted.inputs!).plain.label).toBe("Changed in the UI");
    expect(inputs.label).toBe("Prod events");
  });

  it("refuses a resource type it does not have, before any API call", async () => {
    const other = connect({ port: served.port, req, type: "sendgrid-segment:index:Other" });
    const error = await rejectionOf(other.create("x", args()));
    other.close();
    expect(error.message).toBe(
      'Unknown resource type "sendgrid-segment:index:Other": this provider has sendgrid-segment:index:SegmentIntegration',
    );
    expect(emulator.requests).toEqual([]);
  });

  it("refuses a request whose URN has no type part, naming the empty type", async () => {
    const error = await rejectionOf(client.raw("create", "CreateRequest"));
    expect(error.message).toBe('Unknown resource type "": this provider has sendgrid-segment:index:SegmentIntegration');
    expect(emulator.requests).toEqual([]);
  });

  it("errors cross as their message only, with no secret in them", async () => {
    await client.configureArgs(settings({ apiKey: secret("SG.wrong-key-DO-NOT-LEAK") }));
    const error = await rejectionOf(client.create("prod", (await client.check("prod", {}, args())).inputs));
    expect(error.message).toMatch(/^Unable to create SendGrid Segment integration "Prod events": HTTP 401/);
    expect(error.message).not.toContain("wrong-key");
    expectNoSecretPart(error.message);
  });

  it("a missing key names the plugin's own setting", async () => {
    await client.configureArgs({ apiBaseUrl: emulator.url });
    const saved = process.env.SENDGRID_API_KEY;
    delete process.env.SENDGRID_API_KEY;
    try {
      const error = await rejectionOf(client.create("prod", (await client.check("prod", {}, args())).inputs));
      expect(error.message).toContain("pulumi config set --secret sendgrid-segment:apiKey <key>");
    } finally {
      if (saved !== undefined) process.env.SENDGRID_API_KEY = saved;
    }
  });

  it("a named account from the accounts setting", async () => {
    await client.configureArgs(
      settings({ accounts: { brand: { apiKey: secret(API_KEY), apiBaseUrl: emulator.url } } }),
    );
    const engine = new SimEngine(client);
    await engine.up("brand", args({ account: "brand" }));
    expect(engine.state.get("brand")!.outputs.account).toBe("brand");
    const missing = await client.check("x", {}, args({ account: "nope" }));
    expect(missing.failures[0]!.reason).toContain("sendgrid-segment:accounts.nope.apiKey");
  });
});

describe("the rest of the protocol", () => {
  it.each([
    ["handshake", "ProviderHandshakeRequest", "Handshake"],
    ["parameterize", "ParameterizeRequest", "Parameterize"],
    ["call", "CallRequest", "Call"],
    ["construct", "ConstructRequest", "Construct"],
    ["attach", "PluginAttach", "Attach"],
    ["getMapping", "GetMappingRequest", "GetMapping"],
    ["getMappings", "GetMappingsRequest", "GetMappings"],
  ])("%s: UNIMPLEMENTED (the engine reads it as not supported)", async (method, request, what) => {
    const error = await rejectionOf(client.raw(method, request));
    expect(error.message.toLowerCase()).toContain(what.toLowerCase());
    expect((error as { grpc?: { code: number } }).grpc?.code).toBe(12); // UNIMPLEMENTED
  });

  it("cancel is answered", async () => {
    await expect(client.raw("cancel")).resolves.toBeDefined();
  });

  it("Configure from an older engine's variables alone", async () => {
    await client.configureVariables({
      "sendgrid-segment:config:apiKey": API_KEY,
      "sendgrid-segment:apiBaseUrl": emulator.url,
    });
    const engine = new SimEngine(client);
    expect(await engine.up("vars", args())).toBe("create");
    expect(liveIds()).toHaveLength(1);
  });

  it("a resource under a parent component (its URN's type has the parent's before a $)", async () => {
    const nested = connect({ port: served.port, req, type: `my:index:Component$${RESOURCE_TOKEN}` });
    try {
      expect((await nested.check("x", {}, args())).failures).toEqual([]);
    } finally {
      nested.close();
    }
  });

  it("main: without an engine address it prints how it is run and sets exit code 1, starting nothing", async () => {
    const errors: string[] = [];
    const error = console.error;
    console.error = (text: string) => errors.push(text);
    try {
      await main([]);
      await main(["--tracing"]);
    } finally {
      console.error = error;
    }
    expect(errors).toEqual([
      "usage: pulumi-resource-sendgrid-segment <engine address> (the Pulumi engine starts this plugin)",
      "usage: pulumi-resource-sendgrid-segment <engine address> (the Pulumi engine starts this plugin)",
    ]);
    expect(process.exitCode).toBe(1);
    process.exitCode = 0;
  });

  it("main: with an engine address it prints only the port it serves on", async () => {
    const engine = await startFakeEngine({ req });
    // main writes the port to file descriptor 1 (fs.writeSync: process.stdout fails on a pipe under Wine).
    const written: string[] = [];
    const fs = createRequire(__filename)("node:fs") as typeof import("node:fs");
    const writeSync = fs.writeSync;
    fs.writeSync = ((fd: number, text: string) => (fd === 1 ? written.push(text) : writeSync(fd, text))) as never;
    syncBuiltinESMExports(); // the plugin's `import("node:fs")` sees the replacement
    let started: Served | undefined;
    try {
      started = await main(["-v=9", engine.address], { exit: () => undefined });
    } finally {
      fs.writeSync = writeSync;
      syncBuiltinESMExports();
    }
    expect(written).toEqual([`${started!.port}\n`]);
    const other = connect({ port: started!.port, req, type: RESOURCE_TOKEN });
    expect(await other.getPluginInfo()).toEqual({ version: VERSION });
    other.close();
    await started!.stop();
    await engine.close();
  });

  it("main: exits when its engine is gone, as Go SDK plugins do; stays while it answers (issue 22)", async () => {
    const engine = await startFakeEngine({ req });
    const exits: number[] = [];
    const errors: string[] = [];
    const error = console.error;
    console.error = (text: string) => errors.push(text);
    const fs = createRequire(__filename)("node:fs") as typeof import("node:fs");
    const writeSync = fs.writeSync;
    fs.writeSync = ((fd: number, text: string) => (fd === 1 ? text.length : writeSync(fd, text))) as never;
    syncBuiltinESMExports(); // the port is not printed into the test's output
    let started: Served | undefined;
    try {
      started = await main([engine.address], { healthIntervalMs: 30, exit: (code) => exits.push(code) });
    } finally {
      fs.writeSync = writeSync;
      syncBuiltinESMExports();
    }
    try {
      await new Promise((r) => setTimeout(r, 150));
      expect(engine.healthChecks).toBeGreaterThanOrEqual(2);
      expect(exits).toEqual([]);
      await engine.close();
      for (let i = 0; i < 50 && exits.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(exits).toEqual([0]);
      expect(errors.join("\n")).toMatch(/^pulumi-resource-sendgrid-segment: the engine at 127\.0\.0\.1:\d+ is gone/);
      // Operations that were to start after are refused: nobody would receive them.
      const other = connect({ port: started!.port, req, type: RESOURCE_TOKEN });
      await expect(other.getPluginInfo()).rejects.toThrow();
      other.close();
    } finally {
      console.error = error;
      await started?.stop();
    }
  });
});

describe("Invoke: listSegmentIntegrations", () => {
  it.each([
    ["masked", false],
    ["omitted", true],
  ] as const)(
    "lists answers whose write key is %s (region omitted: %s): what the schema allows is carried, nothing crashes (issue 23)",
    async (writeKeyMode, omitRegion) => {
      emulator.seed({
        label: "Hidden",
        destination: "Segment",
        filters: { email_events: ["open"] },
        properties: { write_key: WRITE_KEY, destination_region: "EU" },
      });
      emulator.setMode({ writeKeyMode, omitRegion });
      try {
        const res = await client.invoke(LIST_TOKEN, {});
        expect(res.failures).toEqual([]);
        expect(res.return!.integrations).toEqual([
          expect.objectContaining({
            label: "Hidden",
            properties: omitRegion ? {} : { destinationRegion: "EU" },
          }),
        ]);
        expect(JSON.stringify(res)).not.toContain(WRITE_KEY.slice(-4));
      } finally {
        emulator.setMode({ writeKeyMode: "full", omitRegion: false });
      }
    },
  );

  it("lists without write keys", async () => {
    const engine = new SimEngine(client);
    await engine.up("prod", args());
    const res = await client.invoke(LIST_TOKEN, {});
    expect(res.failures).toEqual([]);
    expect(res.return).toEqual({
      integrations: [
        {
          integrationId: liveIds()[0],
          userId: expect.any(String),
          label: "Prod events",
          destination: "Segment",
          filters: { emailEvents: ["click", "open"] },
          properties: { destinationRegion: "US" },
        },
      ],
    });
    expect(JSON.stringify(res)).not.toContain(WRITE_KEY);
  });

  it("takes a subuser (onBehalfOf) and a named account; empty arguments mean the defaults", async () => {
    await client.configureArgs(
      settings({ accounts: { brand: { apiKey: secret(API_KEY), apiBaseUrl: emulator.url } } }),
    );
    const engine = new SimEngine(client);
    await engine.up("sub", args({ onBehalfOf: "sub-a" }));
    emulator.requests.length = 0;
    const listed = async (a: Record<string, unknown>) =>
      ((await client.invoke(LIST_TOKEN, a)).return!.integrations as { onBehalfOf?: string; account?: string }[]).map(
        (i) => [i.onBehalfOf ?? "", i.account ?? ""],
      );
    expect(await listed({ onBehalfOf: "sub-a" })).toEqual([["sub-a", ""]]);
    expect(await listed({ onBehalfOf: "sub-a", account: "brand" })).toEqual([["sub-a", "brand"]]);
    expect(await listed({ onBehalfOf: "", account: "" })).toEqual([]);
    expect(await listed({ onBehalfOf: 7 })).toEqual([]);
    expect(emulator.requests.filter((r) => r.method === "GET").map((r) => r.onBehalfOf ?? "")).toEqual([
      "sub-a",
      "sub-a",
      "",
      "",
    ]);
  });

  it("names unknown arguments and unknown functions", async () => {
    expect((await client.invoke(LIST_TOKEN, { onBehalfof: "x" })).failures).toEqual([
      { property: "onBehalfof", reason: `is not an argument of ${LIST_TOKEN}` },
    ]);
    const error = await rejectionOf(client.invoke("sendgrid-segment:index:nope", {}));
    expect(error.message).toBe(`Unknown function sendgrid-segment:index:nope: this provider has ${LIST_TOKEN}`);
  });
});

describe("secrets on the wire", () => {
  it("uses the SDK's own signature key and secret marker", () => {
    const rpc = req("@pulumi/pulumi/runtime/rpc");
    expect([SIG_KEY, SECRET_SIG]).toEqual([rpc.specialSigKey, rpc.specialSecretSig]);
  });

  it("reveal unwraps nested secrets and remembers the top-level keys; conceal marks them again", () => {
    const { plain, secrets } = reveal({ a: secret({ b: secret("x") }), c: [secret(1)], d: "e" });
    expect(plain).toEqual({ a: { b: "x" }, c: [1], d: "e" });
    expect([...secrets].sort()).toEqual(["a", "c"]);
    expect(secret("v")).toEqual({ [SIG_KEY]: SECRET_SIG, value: "v" });
    expect(isSecret({ [SIG_KEY]: "other", value: 1 })).toBe(false);
  });
});

describe("serve's options", () => {
  it("an engine-gone handler without an engine address: served as usual, nothing watched", async () => {
    const gone: string[] = [];
    const own = await serve({ onEngineGone: (why) => gone.push(why), healthIntervalMs: 10 });
    const other = connect({ port: own.port, req, type: RESOURCE_TOKEN });
    try {
      expect(await other.getPluginInfo()).toEqual({ version: VERSION });
      await new Promise((r) => setTimeout(r, 50));
      expect(gone).toEqual([]);
    } finally {
      other.close();
      await own.stop();
    }
  });

  it("main without an exit of its own exits the process (code 0) once its engine is gone", async () => {
    const engine = await startFakeEngine({ req });
    const exits: unknown[] = [];
    const exit = process.exit;
    process.exit = ((code?: number) => {
      exits.push(code);
    }) as never;
    const error = console.error;
    console.error = () => undefined;
    const fs = createRequire(__filename)("node:fs") as typeof import("node:fs");
    const writeSync = fs.writeSync;
    fs.writeSync = ((fd: number, text: string) => (fd === 1 ? text.length : writeSync(fd, text))) as never;
    syncBuiltinESMExports();
    let started: Served | undefined;
    try {
      started = await main([engine.address], { healthIntervalMs: 30 });
      fs.writeSync = writeSync;
      syncBuiltinESMExports();
      await engine.close();
      for (let i = 0; i < 50 && exits.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(exits).toEqual([0]);
    } finally {
      fs.writeSync = writeSync;
      syncBuiltinESMExports();
      process.exit = exit;
      console.error = error;
      await started?.stop();
    }
  });
});

describe("the engine's controls (issue 22)", () => {
  const hung = async (timeout: number) => {
    emulator.inject({ kind: "hang", method: "POST", times: 10 });
    const inputs = (await client.check("slow", {}, args({ label: "Slow" }))).inputs;
    const started = Date.now();
    const error = await rejectionOf(client.create("slow", inputs, { timeout }));
    return { error, ms: Date.now() - started };
  };

  it("a custom timeout bounds the whole create: requests, retries, settle waits and reconciliation", async () => {
    // Without it, a hanging API costs up to 3 POSTs, each with a settle wait and listings (≈ 3.6 s here).
    const { error } = await hung(0.3);
    expect(error.message).toMatch(/^Unable to create SendGrid Segment integration "Slow": /);
    expect(error.message).toContain("the create's custom timeout (0.3 s, customTimeouts) ran out");
    expect(error.message).toContain("It may have been created");
    // One POST, and nothing sent after the time ran out.
    expect(emulator.requests.filter((r) => r.method === "POST")).toHaveLength(1);
  });

  it("Cancel stops a create under way: it fails saying so, and what may exist; later operations are refused", async () => {
    emulator.inject({ kind: "hang", method: "POST", times: 10 });
    const inputs = (await client.check("c", {}, args({ label: "Cancelled" }))).inputs;
    const pending = rejectionOf(client.create("c", inputs));
    await new Promise((r) => setTimeout(r, 100));
    await client.cancel();
    const error = await pending;
    expect(error.message).toContain("Pulumi cancelled the deployment");
    expect(error.message).toContain("It may have been created");
    expect(emulator.requests.filter((r) => r.method === "POST")).toHaveLength(1);
    const after = await rejectionOf(client.create("d", inputs));
    expect(after.message).toContain("Pulumi cancelled the deployment; nothing was sent");
    emulator.clearFaults();
  });

  it("without a link to an engine (none given), an import that warns still succeeds", async () => {
    const hidden = await startEmulator({ apiKeys: [API_KEY], writeKeyMode: "omitted", omitRegion: true });
    try {
      await client.configureArgs({ apiKey: secret(API_KEY), apiBaseUrl: hidden.url });
      const ui = hidden.seed({
        label: "Hidden",
        destination: "Segment",
        filters: { email_events: ["open"] },
        properties: { write_key: WRITE_KEY, destination_region: "EU" },
      });
      const read = await client.read("h", ui.integration_id);
      expect(read.id).toBe(ui.integration_id);
      expect(reveal(read.inputs!).plain).toMatchObject({ label: "Hidden", properties: {} });
    } finally {
      await hidden.close();
    }
  });

  it("a custom timeout on delete, read and update bounds them too", async () => {
    const engine = new SimEngine(client);
    await engine.up("t", args());
    const { id, inputs, outputs } = engine.state.get("t")!;
    emulator.inject({ kind: "hang", method: "*", times: 50 });
    for (const [what, run] of [
      ["read", () => client.read("t", id, outputs, inputs, { timeout: 0.2 })],
      ["update", () => client.update("t", id, outputs, { ...inputs, label: "x" }, { timeout: 0.2 })],
      ["delete", () => client.delete("t", id, outputs, { timeout: 0.2 })],
    ] as const) {
      const error = await rejectionOf(run());
      // The message names the operation whose time ran out.
      expect(error.message).toContain(`the ${what}'s custom timeout (0.2 s, customTimeouts) ran out`);
    }
    emulator.clearFaults();
  });

  it("Invoke keeps secret what arrived secret: a secret subuser makes the answer secret", async () => {
    const engine = new SimEngine(client);
    await engine.up("s", args({ onBehalfOf: "secret-sub" }));
    const res = await client.invoke(LIST_TOKEN, { onBehalfOf: secret("secret-sub") });
    expect(isSecret(res.return!.integrations)).toBe(true);
    const open = await client.invoke(LIST_TOKEN, { onBehalfOf: "secret-sub" });
    expect(isSecret(open.return!.integrations)).toBe(false);
  });

  it("import ids say where the integration lives: `<subuser>/<id>`, `<account>:<subuser>/<id>`", async () => {
    await client.configureArgs(
      settings({ accounts: { brand: { apiKey: secret(API_KEY), apiBaseUrl: emulator.url } } }),
    );
    const ui = emulator.seed(
      {
        label: "Subuser's",
        destination: "Segment",
        filters: { email_events: ["open"] },
        properties: { write_key: WRITE_KEY, destination_region: "US" },
      },
      "sub-x",
    );
    const read = await client.read("i", `sub-x/${ui.integration_id}`);
    expect(read.id).toBe(ui.integration_id);
    expect(reveal(read.inputs!).plain).toMatchObject({ onBehalfOf: "sub-x", label: "Subuser's" });
    const named = await client.read("j", `brand:sub-x/${ui.integration_id}`);
    expect(reveal(named.inputs!).plain).toMatchObject({ onBehalfOf: "sub-x", account: "brand" });
    // From the parent account, the id alone is not there: the import finds nothing.
    expect((await client.read("k", ui.integration_id)).id).toBe("");
    const bad = await rejectionOf(client.read("l", `bad\tname/${ui.integration_id}`));
    expect(bad.message).toContain('the subuser before its "/" is not');
  });

  it("an import of an integration whose write key SendGrid hides succeeds, saying what to set", async () => {
    const engine = await startFakeEngine({ req });
    const hidden = await startEmulator({ apiKeys: [API_KEY], writeKeyMode: "omitted", omitRegion: true });
    const own = await serve({ engineAddress: engine.address });
    const other = connect({ port: own.port, req, type: RESOURCE_TOKEN });
    try {
      await other.configureArgs({ apiKey: secret(API_KEY), apiBaseUrl: hidden.url });
      const ui = hidden.seed({
        label: "Hidden",
        destination: "Segment",
        filters: { email_events: ["open"] },
        properties: { write_key: WRITE_KEY, destination_region: "EU" },
      });
      const read = await other.read("h", ui.integration_id);
      expect(read.id).toBe(ui.integration_id);
      expect(reveal(read.inputs!).plain).toEqual({
        label: "Hidden",
        destination: "Segment",
        filters: { emailEvents: ["open"] },
        properties: {},
      });
      expect(engine.logs.map((l) => l.message).join("\n")).toContain(
        "set properties.writeKey (SendGrid does not show the write key) and properties.destinationRegion",
      );
      // `pulumi import`: Check(read's inputs) only warns; the `import` option then diffs the program.
      const checked = await other.check(
        "h",
        read.inputs!,
        args({ label: "Hidden", filters: { emailEvents: ["open"] } }),
      );
      const diff = await other.diff("h", read.id, read.properties, checked.inputs);
      expect(diff.changes).toBe(true); // an Update after the import sets the key: it does not fail
      expect(diff.replaces).toEqual([]);
    } finally {
      other.close();
      await own.stop();
      await hidden.close();
      await engine.close();
    }
  });
});
