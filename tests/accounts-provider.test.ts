// Named accounts in the provider's own methods, in-process (accounts.test.ts drives the same
// through the gRPC server): check at preview, per-account clients, and errors that say which
// operation a missing account stopped.
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { type Emulator, startEmulator } from "../emulator";
import { IntegrationsClient } from "../provider/client";
import * as provider from "../provider/dynamic";
import { API_KEY, configureRequest, desired, rejectionOf } from "./support/fixtures";

const EU_KEY = "SG.eu-inprocess-DO-NOT-LEAK-9z";
let global: Emulator;
let eu: Emulator;
beforeAll(async () => {
  global = await startEmulator({ apiKeys: [API_KEY] });
  eu = await startEmulator({ apiKeys: [EU_KEY] });
});
afterAll(async () => {
  await global.close();
  await eu.close();
});

const configure = (accounts?: unknown) => {
  provider.newDeployment();
  return provider.configure(
    configureRequest({
      "sendgrid:apiKey": API_KEY,
      "sendgrid:apiBaseUrl": global.url,
      ...(accounts === undefined
        ? {}
        : { "sendgrid:accounts": typeof accounts === "string" ? accounts : JSON.stringify(accounts) }),
    }) as never,
  );
};
beforeEach(async () => {
  delete process.env.SENDGRID_ACCOUNT_ENV_ONLY_API_KEY;
  await configure({ "eu-brand": { apiKey: EU_KEY, apiBaseUrl: eu.url } });
  global.requests.length = 0;
  eu.requests.length = 0;
});

describe("check and accounts", () => {
  it("a configured account passes; a missing one fails on account, naming how to configure it", async () => {
    expect((await provider.check({}, desired({ account: "eu-brand" }))).failures).toEqual([]);
    expect((await provider.check({}, desired({ account: "nope" }))).failures).toEqual([
      {
        property: "account",
        reason:
          "no SendGrid account \"nope\" is configured: set it with `pulumi config set --secret --path 'sendgrid:accounts.nope.apiKey' <key>` " +
          "(and region, apiBaseUrl as needed) or the SENDGRID_ACCOUNT_NOPE_API_KEY environment variable",
      },
    ]);
  });

  it("an account only in the environment passes", async () => {
    process.env.SENDGRID_ACCOUNT_ENV_ONLY_API_KEY = "SG.x";
    expect((await provider.check({}, desired({ account: "env-only" }))).failures).toEqual([]);
  });

  it("an invalid name is reported once, by the schema, without looking up accounts", async () => {
    await configure("{broken");
    expect((await provider.check({}, desired({ account: "1bad" }))).failures).toEqual([
      {
        property: "account",
        reason: "must be an account name: 1 to 64 letters, digits, '-' or '_', starting with a letter",
      },
    ]);
  });

  it("a missing account is reported beside the other fields' failures", async () => {
    const { failures } = await provider.check({}, desired({ label: "", account: "nope" }));
    expect(failures.map((f) => f.property)).toEqual(["label", "account"]);
  });

  it("a broken sendgrid:accounts is reported on account, not thrown", async () => {
    await configure("{broken");
    const { failures } = await provider.check({}, desired({ account: "eu-brand" }));
    expect(failures).toHaveLength(1);
    expect(failures[0]!.property).toBe("account");
    expect(failures[0]!.reason).toMatch(/^Invalid sendgrid:accounts: expected structured config/);
  });

  it("no account at all is never looked up", async () => {
    await configure("{broken");
    expect((await provider.check({}, desired())).failures).toEqual([]);
  });
});

describe("operations per account", () => {
  it("each account has its own client: the default and a named one go to their own hosts", async () => {
    const a = await provider.create((await provider.check({}, desired({ label: "Default" }))).inputs);
    const b = await provider.create((await provider.check({}, desired({ label: "EU", account: "eu-brand" }))).inputs);
    await provider.read(a.id, a.outs);
    await provider.read(b.id, b.outs);
    expect(global.requests.map((r) => r.method)).toEqual(["POST", "GET"]);
    expect(eu.requests.map((r) => r.method)).toEqual(["POST", "GET"]);
    expect(b.outs.account).toBe("eu-brand");
    expect(a.outs).not.toHaveProperty("account");
  });

  it("settings are resolved once per account and process: each account's client is reused", async () => {
    const resolved = vi.spyOn(IntegrationsClient, "create");
    try {
      const a = await provider.create((await provider.check({}, desired({ label: "Default" }))).inputs);
      const b = await provider.create((await provider.check({}, desired({ label: "EU", account: "eu-brand" }))).inputs);
      await provider.read(a.id, a.outs);
      await provider.read(b.id, b.outs);
      expect(resolved.mock.calls.map(([settings]) => settings.account)).toEqual([undefined, "eu-brand"]);
    } finally {
      resolved.mockRestore();
    }
  });

  it("a missing account stops each operation with a message naming the operation", async () => {
    const made = await provider.create(
      (await provider.check({}, desired({ label: "Kept", account: "eu-brand" }))).inputs,
    );
    await configure();
    const news = (await provider.check({}, desired({ label: "X", account: "eu-brand" }))).inputs;
    const cases: Array<[Promise<unknown>, string]> = [
      [
        provider.create(news),
        'Unable to create SendGrid Segment integration "X": No SendGrid account "eu-brand" is configured',
      ],
      [
        provider.read(made.id, made.outs),
        `Unable to read SendGrid Segment integration ${made.id}: No SendGrid account "eu-brand"`,
      ],
      [
        provider.update(made.id, made.outs, news),
        `Unable to update SendGrid Segment integration ${made.id}: No SendGrid account`,
      ],
      [
        provider.delete(made.id, made.outs),
        `Unable to delete SendGrid Segment integration ${made.id}: No SendGrid account`,
      ],
    ];
    for (const [pending, start] of cases) {
      const error = await rejectionOf(pending);
      expect(error.message.startsWith(start)).toBe(true);
      expect(error.code).toBe("ERR_SENDGRID_CONFIG");
    }
    expect(eu.integrations().map((i) => i.integration_id)).toContain(made.id);
  });

  it("after fixing the configuration, the next operation works (a failed client is not cached)", async () => {
    await configure();
    const news = (await provider.check({}, desired({ label: "Later", account: "eu-brand" }))).inputs;
    await rejectionOf(provider.create(news));
    process.env.SENDGRID_ACCOUNT_EU_BRAND_API_KEY = EU_KEY;
    process.env.SENDGRID_ACCOUNT_EU_BRAND_API_BASE_URL = eu.url;
    try {
      expect((await provider.create(news)).outs.account).toBe("eu-brand");
    } finally {
      delete process.env.SENDGRID_ACCOUNT_EU_BRAND_API_KEY;
      delete process.env.SENDGRID_ACCOUNT_EU_BRAND_API_BASE_URL;
    }
  });
});
