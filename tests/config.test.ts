// Layer 1: configuration resolution (stack config over environment, regions, base URL safety).
import { describe, expect, it } from "vitest";
import { requireApiKey, resolveSettings } from "../provider/config";

const stack = (values: Record<string, string>) => (key: string) => values[key];

describe("configuration", () => {
  it("defaults to the global region, a 30 s request timeout and a 120 s retry budget", () => {
    expect(resolveSettings(stack({}), {})).toEqual({
      apiKey: undefined,
      region: "global",
      baseUrl: "https://api.sendgrid.com",
      requestTimeoutMs: 30000,
      retryBudgetMs: 120000,
    });
  });

  it("reads the retry budget (0 turns retries off) and rejects nonsense", () => {
    expect(resolveSettings(stack({ "sendgrid:retryBudgetMs": "0" }), {}).retryBudgetMs).toBe(0);
    expect(resolveSettings(stack({}), { SENDGRID_RETRY_BUDGET_MS: "5000" }).retryBudgetMs).toBe(5000);
    expect(() => resolveSettings(stack({ "sendgrid:retryBudgetMs": "-1" }), {})).toThrow(
      'Invalid sendgrid:retryBudgetMs "-1": expected whole milliseconds from 0 to 3600000',
    );
  });

  it("maps region eu to api.eu.sendgrid.com, from config or environment", () => {
    expect(resolveSettings(stack({ "sendgrid:region": "eu" }), {}).baseUrl).toBe("https://api.eu.sendgrid.com");
    expect(resolveSettings(stack({}), { SENDGRID_REGION: "EU" }).baseUrl).toBe("https://api.eu.sendgrid.com");
  });

  it("lets stack config win over the environment, key by key", () => {
    const s = resolveSettings(stack({ "sendgrid:apiKey": "SG.from-config", "sendgrid:region": "global" }), {
      SENDGRID_API_KEY: "SG.from-env",
      SENDGRID_REGION: "eu",
      SENDGRID_REQUEST_TIMEOUT_MS: "5000",
    });
    expect(s).toMatchObject({ apiKey: "SG.from-config", region: "global", requestTimeoutMs: 5000 });
  });

  it("rejects an unknown region, naming the setting it came from", () => {
    expect(() => resolveSettings(stack({ "sendgrid:region": "us" }), {})).toThrow(
      'Invalid sendgrid:region "us": expected "global" or "eu"',
    );
    expect(() => resolveSettings(stack({}), { SENDGRID_REGION: "apac" })).toThrow(/Invalid SENDGRID_REGION/);
  });

  it.each([
    ["http://127.0.0.1:8787", "http://127.0.0.1:8787"],
    ["http://localhost:9000/", "http://localhost:9000"],
    ["http://[::1]:9000", "http://[::1]:9000"],
    ["https://proxy.example.com/sendgrid/", "https://proxy.example.com/sendgrid"],
  ])("accepts base URL %s", (value, expected) => {
    expect(resolveSettings(stack({ "sendgrid:apiBaseUrl": value }), {}).baseUrl).toBe(expected);
  });

  it.each([
    "http://api.sendgrid.com",
    "http://10.0.0.1:8080",
    "ftp://127.0.0.1",
    "not a url",
    "https://user:pw@example.com",
  ])("rejects base URL %s", (value) => {
    expect(() => resolveSettings(stack({}), { SENDGRID_API_BASE_URL: value })).toThrow(/Invalid SENDGRID_API_BASE_URL/);
  });

  it("rejects a timeout that is not whole milliseconds", () => {
    expect(() => resolveSettings(stack({ "sendgrid:requestTimeoutMs": "1.5" }), {})).toThrow(
      /sendgrid:requestTimeoutMs/,
    );
    expect(() => resolveSettings(stack({}), { SENDGRID_REQUEST_TIMEOUT_MS: "0" })).toThrow(
      /SENDGRID_REQUEST_TIMEOUT_MS/,
    );
  });

  it("requires an API key only when asked, naming both ways to set it", () => {
    const s = resolveSettings(stack({}), {});
    expect(() => requireApiKey(s)).toThrow(/sendgrid:apiKey.*SENDGRID_API_KEY/);
    expect(requireApiKey(resolveSettings(stack({}), { SENDGRID_API_KEY: "SG.x" }))).toBe("SG.x");
  });
});

describe("named accounts", () => {
  const accounts = (value: unknown) => stack({ "sendgrid:accounts": JSON.stringify(value) });

  it("reads an account from sendgrid:accounts with the top-level rules, config winning over its variables", () => {
    const s = resolveSettings(
      accounts({ "eu-brand": { apiKey: "SG.eu", region: "eu", requestTimeoutMs: 5000 } }),
      {
        SENDGRID_ACCOUNT_EU_BRAND_API_KEY: "SG.env",
        SENDGRID_ACCOUNT_EU_BRAND_RETRY_BUDGET_MS: "7000",
        SENDGRID_API_KEY: "SG.default",
      },
      "eu-brand",
    );
    expect(s).toEqual({
      account: "eu-brand",
      apiKey: "SG.eu",
      region: "eu",
      baseUrl: "https://api.eu.sendgrid.com",
      requestTimeoutMs: 5000,
      retryBudgetMs: 7000,
    });
  });

  it("an account only in the environment exists; it never borrows the default account's key", () => {
    const s = resolveSettings(stack({ "sendgrid:apiKey": "SG.default" }), { SENDGRID_ACCOUNT_B2_REGION: "eu" }, "b2");
    expect(s).toMatchObject({ account: "b2", apiKey: undefined, region: "eu" });
    expect(() => requireApiKey(s)).toThrow(
      "No API key for SendGrid account \"b2\": set it with `pulumi config set --secret --path 'sendgrid:accounts.b2.apiKey' <key>` (and region, apiBaseUrl as needed) or the SENDGRID_ACCOUNT_B2_API_KEY environment variable",
    );
  });

  it("names the account's own settings in errors", () => {
    expect(() => resolveSettings(accounts({ b: { region: "mars" } }), {}, "b")).toThrow(
      'Invalid sendgrid:accounts.b.region "mars": expected "global" or "eu"',
    );
    expect(() => resolveSettings(stack({}), { SENDGRID_ACCOUNT_B_API_BASE_URL: "http://example.com" }, "b")).toThrow(
      'Invalid SENDGRID_ACCOUNT_B_API_BASE_URL "http://example.com"',
    );
  });

  it("refuses an unknown account, a bad name, and malformed sendgrid:accounts", () => {
    expect(() => resolveSettings(stack({}), {}, "ghost")).toThrow('No SendGrid account "ghost" is configured');
    expect(() => resolveSettings(stack({}), {}, "1bad")).toThrow('Invalid account "1bad"');
    expect(() => resolveSettings(stack({ "sendgrid:accounts": "{not json" }), {}, "a")).toThrow(
      "Invalid sendgrid:accounts: expected structured config",
    );
    expect(() => resolveSettings(accounts([1]), {}, "a")).toThrow(
      "Invalid sendgrid:accounts: expected an object of accounts",
    );
    expect(() => resolveSettings(accounts({ a: "SG.x" }), {}, "a")).toThrow(
      "Invalid sendgrid:accounts.a: expected an object",
    );
    expect(() => resolveSettings(accounts({ "a b": {} }), {}, "a")).toThrow(
      'Invalid sendgrid:accounts account name "a b"',
    );
  });

  it("the default account ignores sendgrid:accounts entirely", () => {
    expect(resolveSettings(accounts({ a: { apiKey: "SG.a" } }), {}).apiKey).toBeUndefined();
  });
});
