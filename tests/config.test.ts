// Layer 1: configuration resolution (stack config over environment, regions, base URL safety).
import { describe, expect, it, vi } from "vitest";
import { accountExists, isLoopback, requireApiKey, resolveSettings } from "../provider/config";

const stack = (values: Record<string, string>) => (key: string) => values[key];

describe("configuration", () => {
  it("defaults to the global region, a 30 s request timeout and a 120 s retry budget", () => {
    expect(resolveSettings(stack({}), {})).toEqual({
      apiKey: undefined,
      region: "global",
      baseUrl: "https://api.sendgrid.com",
      requestTimeoutMs: 30000,
      retryBudgetMs: 120000,
      retryBudgetSetting: "sendgrid:retryBudgetMs",
      namespace: "sendgrid",
      sources: {
        apiKey: "sendgrid:apiKey or SENDGRID_API_KEY",
        region: "sendgrid:region or SENDGRID_REGION",
        apiBaseUrl: "sendgrid:apiBaseUrl or SENDGRID_API_BASE_URL",
        requestTimeoutMs: "sendgrid:requestTimeoutMs or SENDGRID_REQUEST_TIMEOUT_MS",
        retryBudgetMs: "sendgrid:retryBudgetMs or SENDGRID_RETRY_BUDGET_MS",
      },
    });
  });

  it("reads the retry budget (0 turns retries off) and rejects nonsense", () => {
    expect(resolveSettings(stack({ "sendgrid:retryBudgetMs": "0" }), {}).retryBudgetMs).toBe(0);
    expect(resolveSettings(stack({}), { SENDGRID_RETRY_BUDGET_MS: "5000" }).retryBudgetMs).toBe(5000);
    expect(() => resolveSettings(stack({ "sendgrid:retryBudgetMs": "-1" }), {})).toThrow(
      "Invalid sendgrid:retryBudgetMs: expected whole milliseconds from 0 to 3600000, got a string of 2 characters",
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

  it("rejects an API key holding a space or line break (a key pasted with its newline), naming the setting, never the key", () => {
    const key = "SG.abc.def-DO-NOT-LEAK-77";
    for (const bad of [`${key}\n`, ` ${key}`, `SG.abc def`, `${key}\u00e9`]) {
      expect(() => resolveSettings(stack({ "sendgrid:apiKey": bad }), {})).toThrow(
        /^Invalid sendgrid:apiKey: it holds a space, line break or other character no API key has \(a string of \d+ characters\); set the key alone$/,
      );
    }
    expect(() => resolveSettings(stack({}), { SENDGRID_API_KEY: `${key}\r\n` })).toThrow(/Invalid SENDGRID_API_KEY/);
    expect(resolveSettings(stack({ "sendgrid:apiKey": key }), {}).apiKey).toBe(key);
    expect(resolveSettings(stack({ "sendgrid:apiKey": "" }), {}).apiKey).toBeUndefined(); // unset, as ever
  });

  it("rejects an unknown region, naming the setting it came from", () => {
    expect(() => resolveSettings(stack({ "sendgrid:region": "us" }), {})).toThrow(
      'Invalid sendgrid:region: expected "global" or "eu", got a string of 2 characters',
    );
    expect(() => resolveSettings(stack({}), { SENDGRID_REGION: "apac" })).toThrow(/Invalid SENDGRID_REGION/);
    expect(() => resolveSettings(stack({ "sendgrid:region": "x" }), {})).toThrow(
      /^Invalid sendgrid:region: expected "global" or "eu", got a string of 1 character$/,
    );
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
    "https://user@example.com",
    "https://:pw@example.com",
    "http://[::2]:9000",
    "http://[fe80::1]:9000",
    "http://128.0.0.1",
    "http://localhost.example.com",
  ])("rejects base URL %s", (value) => {
    expect(() => resolveSettings(stack({}), { SENDGRID_API_BASE_URL: value })).toThrow(/Invalid SENDGRID_API_BASE_URL/);
  });

  it("says why a base URL is refused", () => {
    const reason = (value: string) => {
      try {
        resolveSettings(stack({ "sendgrid:apiBaseUrl": value }), {});
      } catch (error) {
        return (error as Error).message;
      }
      return "accepted";
    };
    const rule =
      "use https://<host>, or http:// only for a loopback address (e.g. http://127.0.0.1:8787 for the emulator)";
    // Never quoted (issue 23: a key pasted into the wrong setting must not be echoed): described.
    expect(reason("nope")).toBe(`Invalid sendgrid:apiBaseUrl: not a URL (a string of 4 characters); ${rule}`);
    // A host without a scheme parses with the scheme "localhost:".
    expect(reason("localhost:8787")).toBe(`Invalid sendgrid:apiBaseUrl: not an http(s) URL; ${rule}`);
    expect(reason("ftp://example.com/x")).toBe(`Invalid sendgrid:apiBaseUrl: not an http(s) URL; ${rule}`);
    expect(reason("SG.this-is-a-key-pasted-here")).toBe(
      `Invalid sendgrid:apiBaseUrl: not a URL (a string of 28 characters); ${rule}`,
    );
    expect(reason("https://user@example.com")).toBe(
      "Invalid sendgrid:apiBaseUrl: credentials in the URL are not allowed",
    );
    expect(reason("http://[::2]:1/path")).toBe(
      `Invalid sendgrid:apiBaseUrl: plain http to a host that is not this machine; ${rule}`,
    );
    expect(reason("https://api.sendgrid.com/?x=1")).toBe(
      "Invalid sendgrid:apiBaseUrl: a query or fragment is not allowed; use the API's root URL",
    );
    expect(reason("https://api.sendgrid.com/v3/marketing/integrations")).toBe(
      "Invalid sendgrid:apiBaseUrl: the URL goes into the API (…/v3/…); give its root, e.g. https://api.sendgrid.com",
    );
    expect(reason("http://127.255.0.9:1")).toBe("accepted");
  });

  it.each([
    ["https://api.sendgrid.com/v3", "https://api.sendgrid.com"],
    ["https://api.sendgrid.com/v3/", "https://api.sendgrid.com"],
    ["https://api.eu.sendgrid.com/V3", "https://api.eu.sendgrid.com"],
    ["https://proxy.example.com/sendgrid", "https://proxy.example.com/sendgrid"],
    ["https://proxy.example.com/sendgrid/v3", "https://proxy.example.com/sendgrid"],
    ["http://127.0.0.1:8787/", "http://127.0.0.1:8787"],
    // Slashes doubled by pasting a base and a path together, and a prefix that only starts like /v3.
    ["https://api.sendgrid.com/v3//", "https://api.sendgrid.com"],
    ["https://proxy.example.com///v3", "https://proxy.example.com"],
    ["https://proxy.example.com/v3proxy/", "https://proxy.example.com/v3proxy"],
  ])("takes the base URL %s as SendGrid's docs write it, as the API root %s (issue 23)", (value, root) => {
    expect(resolveSettings(stack({ "sendgrid:apiBaseUrl": value }), {}).baseUrl).toBe(root);
  });

  it("records where each setting came from, for messages", () => {
    const s = resolveSettings(stack({ "sendgrid:region": "eu" }), { SENDGRID_API_KEY: "SG.k" });
    expect(s.sources).toMatchObject({
      apiKey: "SENDGRID_API_KEY",
      region: "sendgrid:region",
      apiBaseUrl: "sendgrid:apiBaseUrl or SENDGRID_API_BASE_URL",
    });
  });

  it("an empty string, in stack config or the environment, means unset", () => {
    expect(resolveSettings(stack({ "sendgrid:region": "" }), { SENDGRID_REGION: "eu" }).region).toBe("eu");
    expect(resolveSettings(stack({ "sendgrid:apiKey": "" }), { SENDGRID_API_KEY: "" }).apiKey).toBeUndefined();
    expect(resolveSettings(stack({}), { SENDGRID_REQUEST_TIMEOUT_MS: "" }).requestTimeoutMs).toBe(30_000);
    expect(resolveSettings(stack({}), { SENDGRID_API_BASE_URL: "" }).baseUrl).toBe("https://api.sendgrid.com");
  });

  it("accepts timeouts and budgets up to their maximum and not beyond", () => {
    const s = (config: Record<string, string>) => resolveSettings(stack(config), {});
    expect(s({ "sendgrid:requestTimeoutMs": "1" }).requestTimeoutMs).toBe(1);
    expect(s({ "sendgrid:requestTimeoutMs": "600000" }).requestTimeoutMs).toBe(600_000);
    expect(() => s({ "sendgrid:requestTimeoutMs": "600001" })).toThrow(
      "Invalid sendgrid:requestTimeoutMs: expected whole milliseconds from 1 to 600000, got a string of 6 characters",
    );
    expect(s({ "sendgrid:retryBudgetMs": "3600000" }).retryBudgetMs).toBe(3_600_000);
    expect(() => s({ "sendgrid:retryBudgetMs": "3600001" })).toThrow(
      "Invalid sendgrid:retryBudgetMs: expected whole milliseconds from 0 to 3600000, got a string of 7 characters",
    );
    expect(() => s({ "sendgrid:retryBudgetMs": "1e3" })).not.toThrow();
    expect(() => s({ "sendgrid:retryBudgetMs": "ten" })).toThrow(/expected whole milliseconds/);
  });

  it("region is case-insensitive", () => {
    expect(resolveSettings(stack({ "sendgrid:region": "EU" }), {}).region).toBe("eu");
    expect(resolveSettings(stack({ "sendgrid:region": "Global" }), {}).baseUrl).toBe("https://api.sendgrid.com");
  });

  it("rejects a timeout that is not whole milliseconds", () => {
    expect(() => resolveSettings(stack({ "sendgrid:requestTimeoutMs": "1.5" }), {})).toThrow(
      /sendgrid:requestTimeoutMs/,
    );
    expect(() => resolveSettings(stack({}), { SENDGRID_REQUEST_TIMEOUT_MS: "0" })).toThrow(
      /SENDGRID_REQUEST_TIMEOUT_MS/,
    );
  });

  it("the default account's settings have no account key at all", () => {
    expect(Object.keys(resolveSettings(stack({}), {}))).not.toContain("account");
  });

  it("a command-line flag stands in for a setting, and errors name the flag", () => {
    const flags = { region: "--region", apiBaseUrl: "--api-base-url" } as const;
    const withFlags = (values: Record<string, string>, env: Record<string, string> = {}) =>
      resolveSettings(stack(values), env, undefined, flags);
    expect(withFlags({ "--region": "eu", "sendgrid:region": "global" }).baseUrl).toBe("https://api.eu.sendgrid.com");
    expect(withFlags({ "--region": "" }, { SENDGRID_REGION: "eu" }).region).toBe("eu");
    expect(() => withFlags({ "--region": "mars" })).toThrow(
      'Invalid --region: expected "global" or "eu", got a string of 4 characters',
    );
    expect(() => withFlags({ "--api-base-url": `not a url ${"x".repeat(100)}` })).toThrow(
      "Invalid --api-base-url: not a URL (a string of 110 characters); use https://<host>, or http:// only for a loopback address (e.g. http://127.0.0.1:8787 for the emulator)",
    );
  });

  it("strips every trailing slash from a base URL", () => {
    expect(resolveSettings(stack({ "sendgrid:apiBaseUrl": "https://proxy.example.com//" }), {}).baseUrl).toBe(
      "https://proxy.example.com",
    );
  });

  it("takes only loopback addresses as loopback, not names that look like them", () => {
    for (const host of ["localhost", "127.0.0.1", "127.9.9.9", "[::1]", "::1"])
      expect(isLoopback(host), host).toBe(true);
    for (const host of [
      "127.example.com",
      "localhost.example.com",
      "[::2]",
      "10.0.0.1",
      "example.com",
      "::ffff:7f00:1",
    ]) {
      expect(isLoopback(host), host).toBe(false);
    }
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
      retryBudgetSetting: "sendgrid:accounts.eu-brand.retryBudgetMs",
      namespace: "sendgrid",
      sources: {
        apiKey: "sendgrid:accounts.eu-brand.apiKey",
        region: "sendgrid:accounts.eu-brand.region",
        apiBaseUrl: "sendgrid:accounts.eu-brand.apiBaseUrl or SENDGRID_ACCOUNT_EU_BRAND_API_BASE_URL",
        requestTimeoutMs: "sendgrid:accounts.eu-brand.requestTimeoutMs",
        retryBudgetMs: "SENDGRID_ACCOUNT_EU_BRAND_RETRY_BUDGET_MS",
      },
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
      'Invalid sendgrid:accounts.b.region: expected "global" or "eu", got a string of 4 characters',
    );
    expect(() => resolveSettings(stack({}), { SENDGRID_ACCOUNT_B_API_BASE_URL: "http://example.com" }, "b")).toThrow(
      "Invalid SENDGRID_ACCOUNT_B_API_BASE_URL: plain http to a host that is not this machine",
    );
  });

  it("refuses an unknown account, a bad name, and malformed sendgrid:accounts", () => {
    expect(() => resolveSettings(stack({}), {}, "ghost")).toThrow('No SendGrid account "ghost" is configured');
    expect(() => resolveSettings(stack({}), {}, "1bad")).toThrow("Invalid account (a string of 4 characters)");
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
      "Invalid sendgrid:accounts: an account name (a string of 3 characters) is not 1 to 64 letters",
    );
  });

  it("says in full what is wrong with sendgrid:accounts, cutting long names", () => {
    const error = (value: string, account = "a") => {
      try {
        resolveSettings(stack({ "sendgrid:accounts": value }), {}, account);
      } catch (e) {
        return (e as Error).message;
      }
      return "accepted";
    };
    expect(error('{"a": {"apiKey": "SG.in-broken-json"')).toBe(
      "Invalid sendgrid:accounts: expected structured config, an object of accounts " +
        "(pulumi config set --path 'sendgrid:accounts.<name>.apiKey' --secret <key>)",
    );
    expect(error('"text"')).toBe("Invalid sendgrid:accounts: expected an object of accounts");
    expect(error("null")).toBe("Invalid sendgrid:accounts: expected an object of accounts");
    expect(error('{"a": null}')).toBe("Invalid sendgrid:accounts.a: expected an object");
    // Everything under accounts is secret: names and fields show only when they have a name's shape.
    expect(error(JSON.stringify({ [`9${"x".repeat(99)}`]: {} }))).toBe(
      "Invalid sendgrid:accounts: an account name (a string of 100 characters) is not 1 to 64 letters, digits, '-' or '_', starting with a letter",
    );
    expect(error(JSON.stringify({ a: { apiKey: "SG.a", regoin: "eu" } }))).toBe(
      "Invalid sendgrid:accounts.a.regoin: not a setting; an account has apiKey, region, apiBaseUrl, requestTimeoutMs, retryBudgetMs",
    );
    expect(error(JSON.stringify({ a: { apiKey: "SG.a", "SG.pasted-key.as-a-field": 1 } }))).toBe(
      "Invalid sendgrid:accounts.a field (a string of 24 characters): not a setting; an account has apiKey, region, apiBaseUrl, requestTimeoutMs, retryBudgetMs",
    );
    expect(error(JSON.stringify({ a: { apiKey: "SG.a", ["y".repeat(100)]: 1 } }))).toBe(
      "Invalid sendgrid:accounts.a field (a string of 100 characters): not a setting; an account has apiKey, region, apiBaseUrl, requestTimeoutMs, retryBudgetMs",
    );
    expect(error(JSON.stringify({ a: { apiKey: "SG.a", region: { name: "eu" } } }))).toBe(
      'Invalid sendgrid:accounts.a.region: expected "global" or "eu", got a string of 13 characters',
    );
    expect(error(`${"9".repeat(100)}`, `9${"z".repeat(99)}`)).toBe(
      "Invalid account (a string of 100 characters): 1 to 64 letters, digits, '-' or '_', starting with a letter",
    );
  });

  it("an empty sendgrid:accounts, a null field and an empty variable mean unset", () => {
    expect(() => resolveSettings(stack({ "sendgrid:accounts": "" }), {}, "a")).toThrow('No SendGrid account "a"');
    expect(accountExists("a", stack({ "sendgrid:accounts": "" }), { SENDGRID_ACCOUNT_A_API_KEY: "" })).toBe(false);
    expect(accountExists("a", stack({}), { SENDGRID_ACCOUNT_A_REGION: "eu" })).toBe(true);
    expect(resolveSettings(accounts({ a: { apiKey: "SG.a", region: null } }), {}, "a")).toStrictEqual({
      account: "a",
      apiKey: "SG.a",
      region: "global",
      baseUrl: "https://api.sendgrid.com",
      requestTimeoutMs: 30_000,
      retryBudgetMs: 120_000,
      retryBudgetSetting: "sendgrid:accounts.a.retryBudgetMs",
      namespace: "sendgrid",
      sources: {
        apiKey: "sendgrid:accounts.a.apiKey",
        region: "sendgrid:accounts.a.region or SENDGRID_ACCOUNT_A_REGION",
        apiBaseUrl: "sendgrid:accounts.a.apiBaseUrl or SENDGRID_ACCOUNT_A_API_BASE_URL",
        requestTimeoutMs: "sendgrid:accounts.a.requestTimeoutMs or SENDGRID_ACCOUNT_A_REQUEST_TIMEOUT_MS",
        retryBudgetMs: "sendgrid:accounts.a.retryBudgetMs or SENDGRID_ACCOUNT_A_RETRY_BUDGET_MS",
      },
    });
  });

  it("the default account ignores sendgrid:accounts entirely", () => {
    expect(resolveSettings(accounts({ a: { apiKey: "SG.a" } }), {}).apiKey).toBeUndefined();
  });
});

// What the module defines when it loads (the shapes of account names, field names and API keys, the
// setting names, the messages' helpers), seen through a module loaded afresh inside each test: the
// module the other tests imported was loaded once, before any of them.
describe("a configuration module loaded afresh", () => {
  const fresh = async () => {
    vi.resetModules();
    return await import("../provider/config.js");
  };
  const failure = (run: () => unknown) => {
    try {
      run();
    } catch (e) {
      return (e as Error).message;
    }
    return "accepted";
  };

  it("reads each setting from its stack config key or SENDGRID_ environment variable", async () => {
    const config = await fresh();
    expect(config.resolveSettings(stack({}), {}).sources).toEqual({
      apiKey: "sendgrid:apiKey or SENDGRID_API_KEY",
      region: "sendgrid:region or SENDGRID_REGION",
      apiBaseUrl: "sendgrid:apiBaseUrl or SENDGRID_API_BASE_URL",
      requestTimeoutMs: "sendgrid:requestTimeoutMs or SENDGRID_REQUEST_TIMEOUT_MS",
      retryBudgetMs: "sendgrid:retryBudgetMs or SENDGRID_RETRY_BUDGET_MS",
    });
    const env = {
      SENDGRID_ACCOUNT_EU_BRAND_API_KEY: "SG.eu",
      SENDGRID_ACCOUNT_EU_BRAND_REGION: "eu",
      SENDGRID_ACCOUNT_EU_BRAND_REQUEST_TIMEOUT_MS: "5000",
      SENDGRID_ACCOUNT_EU_BRAND_RETRY_BUDGET_MS: "0",
    };
    expect(config.resolveSettings(stack({}), env, "eu-brand")).toMatchObject({
      account: "eu-brand",
      apiKey: "SG.eu",
      baseUrl: "https://api.eu.sendgrid.com",
      requestTimeoutMs: 5000,
      retryBudgetMs: 0,
      retryBudgetSetting: "sendgrid:accounts.eu-brand.retryBudgetMs",
      sources: {
        apiKey: "SENDGRID_ACCOUNT_EU_BRAND_API_KEY",
        apiBaseUrl: "sendgrid:accounts.eu-brand.apiBaseUrl or SENDGRID_ACCOUNT_EU_BRAND_API_BASE_URL",
      },
    });
  });

  it("says how to configure an account that is not", async () => {
    const config = await fresh();
    expect(failure(() => config.resolveSettings(stack({}), {}, "b2"))).toBe(
      "No SendGrid account \"b2\" is configured: set it with `pulumi config set --secret --path 'sendgrid:accounts.b2.apiKey' <key>` (and region, apiBaseUrl as needed) or the SENDGRID_ACCOUNT_B2_API_KEY environment variable",
    );
  });

  it("takes account names of 1 to 64 letters, digits, '-' or '_' that start with a letter", async () => {
    const config = await fresh();
    const env = (name: string) => ({ [`SENDGRID_ACCOUNT_${name.toUpperCase().replace(/-/g, "_")}_REGION`]: "eu" });
    for (const name of ["a", "eu-brand", "Brand_2", `a${"b".repeat(63)}`]) {
      expect(config.resolveSettings(stack({}), env(name), name).account, name).toBe(name);
    }
    for (const name of ["1abc", "-ab", "ab!", "a b", `a${"b".repeat(64)}`]) {
      expect(
        failure(() => config.resolveSettings(stack({}), env(name), name)),
        name,
      ).toBe(
        `Invalid account (a string of ${name.length} character${name.length === 1 ? "" : "s"}): 1 to 64 letters, digits, '-' or '_', starting with a letter`,
      );
      expect(
        failure(() => config.resolveSettings(stack({ "sendgrid:accounts": JSON.stringify({ [name]: {} }) }), {}, "a")),
      ).toBe(
        `Invalid sendgrid:accounts: an account name (a string of ${name.length} characters) is not 1 to 64 letters, digits, '-' or '_', starting with a letter`,
      );
    }
  });

  it("names a wrong field of an account only when it looks like a field name, never like a key", async () => {
    const config = await fresh();
    const fieldError = (field: string) =>
      failure(() =>
        config.resolveSettings(
          stack({ "sendgrid:accounts": JSON.stringify({ a: { apiKey: "SG.a", [field]: 1 } }) }),
          {},
          "a",
        ),
      );
    const rest = ": not a setting; an account has apiKey, region, apiBaseUrl, requestTimeoutMs, retryBudgetMs";
    for (const field of ["regoin", "x", "apiKey2", `r${"e".repeat(31)}`]) {
      expect(fieldError(field)).toBe(`Invalid sendgrid:accounts.a.${field}${rest}`);
    }
    for (const field of ["2fa", "api_key", "api-key", "key!", `r${"e".repeat(32)}`]) {
      expect(fieldError(field)).toBe(
        `Invalid sendgrid:accounts.a field (a string of ${field.length} characters)${rest}`,
      );
    }
  });

  it("refuses an API key with a space or line break at either end, without quoting it", async () => {
    const config = await fresh();
    expect(config.resolveSettings(stack({ "sendgrid:apiKey": "SG.ok-key" }), {}).apiKey).toBe("SG.ok-key");
    for (const key of [" SG.ok-key", "SG.ok-key\n", "SG.ok key"]) {
      expect(failure(() => config.resolveSettings(stack({ "sendgrid:apiKey": key }), {}))).toBe(
        `Invalid sendgrid:apiKey: it holds a space, line break or other character no API key has (a string of ${key.length} characters); set the key alone`,
      );
    }
  });
});
