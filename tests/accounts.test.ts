// Several accounts in one program, through the real dynamic-provider gRPC server: each request
// goes to its account's host with its key; a 429 on one account does not slow another; key
// rotation works because nothing in state pins a key; a missing account fails at preview (check)
// and, for resources already in state, at the first operation that needs it, saying how to fix it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../emulator";
import { type ProviderServer as Server, startProviderServer } from "./support/engine.cjs";
import { API_KEY, rejectionOf, WRITE_KEY } from "./support/fixtures";
import { REPO, rootProgramProvider } from "./support/programs";

const EU_KEY = "SG.eu-brand-key-DO-NOT-LEAK-1a2b";
const EU_KEY_ROTATED = "SG.eu-brand-rotated-DO-NOT-LEAK-3c4d";
const BASE = "/v3/marketing/integrations";

let serializedProvider: string;
let global: Emulator;
let eu: Emulator;
/** The keys the EU host accepts; the test rotates them. */
const euKeys = [EU_KEY];
const servers: Server[] = [];

const config = (euAccount: Record<string, string> | undefined) => ({
  "sendgrid:apiKey": API_KEY,
  "sendgrid:apiBaseUrl": global.url,
  ...(euAccount ? { "sendgrid:accounts": JSON.stringify({ "eu-brand": euAccount }) } : {}),
});

async function provider(variables: Record<string, string>, env: Record<string, string> = {}): Promise<Server> {
  const server = await startProviderServer({ programDir: REPO, env });
  servers.push(server);
  await server.configure(variables);
  return server;
}

const inputs = (extra: Record<string, unknown> = {}) => ({
  label: "Events",
  filters: { emailEvents: ["open"] },
  properties: { writeKey: WRITE_KEY, destinationRegion: "EU" },
  ...extra,
  __provider: serializedProvider,
});

async function create(server: Server, name: string, extra: Record<string, unknown> = {}) {
  const checked = await server.check(name, {}, inputs({ label: name, ...extra }));
  expect(checked.failures).toEqual([]);
  return server.create(name, checked.inputs);
}

const calls = (emulator: Emulator) => emulator.requests.map((r) => `${r.method} ${r.onBehalfOf ?? "-"} ${r.status}`);

beforeAll(async () => {
  serializedProvider = await rootProgramProvider();
  global = await startEmulator({ apiKeys: [API_KEY] });
  eu = await startEmulator({ apiKeys: euKeys });
});
afterAll(async () => {
  for (const server of servers) {
    await server.stop();
    for (const key of [API_KEY, EU_KEY, EU_KEY_ROTATED, WRITE_KEY]) expect(server.stderr).not.toContain(key);
  }
  await global.close();
  await eu.close();
});

describe("several accounts in one program", () => {
  it("each operation goes to its account's host with its key, combined with onBehalfOf", async () => {
    const server = await provider(config({ apiKey: EU_KEY, region: "eu", apiBaseUrl: eu.url }));
    global.requests.length = 0;
    eu.requests.length = 0;
    const parent = await create(server, "global-parent");
    const sub = await create(server, "eu-sub", { account: "eu-brand", onBehalfOf: "marketing-eu" });
    expect(sub.properties).toMatchObject({ account: "eu-brand", onBehalfOf: "marketing-eu" });
    expect(calls(global)).toEqual(["POST - 201"]);
    expect(calls(eu)).toEqual(["POST marketing-eu 201"]); // a wrong key would have been a 401
    expect(eu.integrations("marketing-eu").map((i) => i.integration_id)).toEqual([sub.id]);

    const news = (
      await server.check(
        "eu-sub",
        sub.properties,
        inputs({ label: "Renamed", account: "eu-brand", onBehalfOf: "marketing-eu" }),
      )
    ).inputs;
    await server.update("eu-sub", sub.id, sub.properties, news);
    await server.read("eu-sub", sub.id, sub.properties);
    await server.delete("eu-sub", sub.id, sub.properties);
    await server.delete("global-parent", parent.id, parent.properties);
    expect(calls(eu)).toEqual([
      "POST marketing-eu 201",
      "PATCH marketing-eu 200",
      "GET marketing-eu 200",
      "DELETE marketing-eu 204",
    ]);
    expect(calls(global)).toEqual(["POST - 201", "DELETE - 204"]);
  });

  it("the environment form serves CI: SENDGRID_ACCOUNT_<NAME>_API_KEY and _API_BASE_URL", async () => {
    const server = await provider(config(undefined), {
      SENDGRID_ACCOUNT_EU_BRAND_API_KEY: EU_KEY,
      SENDGRID_ACCOUNT_EU_BRAND_API_BASE_URL: eu.url,
    });
    eu.requests.length = 0;
    const made = await create(server, "from-env", { account: "eu-brand" });
    expect(calls(eu)).toEqual(["POST - 201"]);
    await server.delete("from-env", made.id, made.properties);
  });

  it("changing account replaces the integration; no API call to decide it", async () => {
    const server = await provider(config({ apiKey: EU_KEY, apiBaseUrl: eu.url }));
    const olds = { ...inputs(), integrationId: "x1", userId: "1" };
    const diff = await server.diff("r", "x1", olds, inputs({ account: "eu-brand" }));
    expect(diff).toMatchObject({ changes: true, replaces: ["account"] });
  });

  it("a 429 on one account does not slow another", async () => {
    const slow = await startEmulator({ apiKeys: [EU_KEY], rateLimit: { limit: 1, windowSeconds: 3 } });
    try {
      const server = await provider(config({ apiKey: EU_KEY, apiBaseUrl: slow.url }));
      // Start at the beginning of a 3 s window, so the rate-limited call waits close to 3 s.
      await new Promise((r) => setTimeout(r, 3000 - (Date.now() % 3000) + 20));
      await fetch(`${slow.url}${BASE}`, { headers: { authorization: `Bearer ${EU_KEY}` } }); // spends the window
      let euDone = false;
      const euCreate = create(server, "limited", { account: "eu-brand" }).then((r) => {
        euDone = true;
        return r;
      });
      while (!slow.requests.some((r) => r.status === 429)) await new Promise((r) => setTimeout(r, 5));
      const fast = await create(server, "unlimited");
      expect(euDone).toBe(false); // the default account finished while the EU one still waits
      const limited = await euCreate;
      expect(slow.requests.map((r) => r.status)).toEqual([200, 429, 201]);
      expect(limited.id).not.toBe(fast.id);
    } finally {
      await slow.close();
    }
  });
});

describe("accounts in config change; state never pins a key", () => {
  let made: { id: string; properties: Record<string, any> };

  it("a rotated key in config is used for update and delete by the next deployment", async () => {
    const first = await provider(config({ apiKey: EU_KEY, apiBaseUrl: eu.url }));
    made = await create(first, "rotating", { account: "eu-brand" });
    expect(JSON.stringify(made.properties)).not.toContain(EU_KEY);
    euKeys.splice(0, euKeys.length, EU_KEY_ROTATED); // the old key is revoked

    const next = await provider(config({ apiKey: EU_KEY_ROTATED, apiBaseUrl: eu.url }));
    eu.requests.length = 0;
    const news = (
      await next.check("rotating", made.properties, inputs({ label: "After rotation", account: "eu-brand" }))
    ).inputs;
    made = { id: made.id, properties: (await next.update("rotating", made.id, made.properties, news)).properties };
    await next.delete("rotating", made.id, made.properties);
    expect(calls(eu)).toEqual(["PATCH - 200", "DELETE - 204"]);
  });

  it("a missing account fails check at preview, saying how to configure it, before any API call", async () => {
    const server = await provider(config(undefined), { SENDGRID_ACCOUNT_NOPE_API_KEY: "" });
    global.requests.length = 0;
    const checked = await server.check("typo", {}, inputs({ account: "nope" }));
    expect(checked.failures).toEqual([
      {
        property: "account",
        reason:
          "no SendGrid account \"nope\" is configured: set it with `pulumi config set --secret --path 'sendgrid:accounts.nope.apiKey' <key>` " +
          "(and region, apiBaseUrl as needed) or the SENDGRID_ACCOUNT_NOPE_API_KEY environment variable",
      },
    ]);
    const bad = await server.check("bad", {}, inputs({ account: "no spaces" }));
    expect(bad.failures.map((f: { property: string }) => f.property)).toEqual(["account"]);
    expect(global.requests).toEqual([]);
  });

  it("an account removed from config while state still uses it fails its delete clearly, and nothing is lost", async () => {
    const withAccount = await provider(config({ apiKey: EU_KEY_ROTATED, apiBaseUrl: eu.url }));
    const kept = await create(withAccount, "orphaned-account", { account: "eu-brand" });
    const without = await provider(config(undefined));
    const error = await rejectionOf(without.delete("orphaned-account", kept.id, kept.properties));
    expect(error.message).toContain(
      `Unable to delete SendGrid Segment integration ${kept.id}: No SendGrid account "eu-brand" is configured: set it with`,
    );
    expect(eu.integrations().map((i) => i.integration_id)).toContain(kept.id); // still live, still tracked
    await withAccount.delete("orphaned-account", kept.id, kept.properties);
  });

  it("an invalid sendgrid:accounts fails naming the setting", async () => {
    const server = await provider({
      ...config(undefined),
      "sendgrid:accounts": JSON.stringify({ "eu-brand": { apiKey: EU_KEY, regoin: "eu" } }),
    });
    const checked = await server.check("x", {}, inputs({ account: "eu-brand" }));
    expect(checked.failures).toEqual([
      {
        property: "account",
        reason:
          "Invalid sendgrid:accounts.eu-brand.regoin: not a setting; an account has apiKey, region, apiBaseUrl, requestTimeoutMs, retryBudgetMs",
      },
    ]);
  });
});
