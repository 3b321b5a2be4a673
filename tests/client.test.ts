// The HTTP client against a hand-made server, for the answers the emulator does not give: exact
// size limits, a chunked body, status 300, whitespace, and credentials echoed in headers.
import dns from "node:dns";
import { readFileSync } from "node:fs";
import http, { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { assertIntegrationId, IntegrationsClient, MAX_ANSWER_BYTES, scopeOf, USER_AGENT } from "../provider/client";
import { resolveSettings } from "../provider/config";
import { type Control, Stopped } from "../provider/control";
import * as provider from "../provider/dynamic";
import { InvalidIdError } from "../provider/errors";
import { listIntegrations } from "../provider/list";
import { toIntegrationInputs } from "../provider/schema";
import {
  API_KEY,
  configureRequest,
  desired,
  expectNoSecretPart,
  rejectionOf,
  WRITE_KEY,
  WRITE_KEY_2,
} from "./support/fixtures";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
let handle: Handler = (_req, res) => res.end();
let seen: IncomingMessage[] = [];
let server: Server;
let client: IntegrationsClient;

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req);
    handle(req, res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  client = await clientWith({ "sendgrid:retryBudgetMs": "0" });
});
afterAll(() => server.close());

const serverUrl = () => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
/** A client of the hand-made server with the API key and these settings. */
const clientWith = (settings: Record<string, string>) => {
  const config: Record<string, string> = {
    "sendgrid:apiKey": API_KEY,
    "sendgrid:apiBaseUrl": serverUrl(),
    ...settings,
  };
  return IntegrationsClient.create(resolveSettings((key) => config[key], {}));
};

/** Answer every request with this status, headers and body (the length is set unless chunked). */
const answer = (status: number, body: string | Buffer, headers: Record<string, string> = {}, chunked = false) => {
  seen = [];
  handle = (_req, res) => {
    const bytes = Buffer.from(body);
    res.writeHead(status, {
      "content-type": "application/json",
      ...(chunked ? {} : { "content-length": String(bytes.length) }),
      ...headers,
    });
    if (!chunked) return res.end(bytes);
    for (let i = 0; i < bytes.length; i += 64 * 1024) res.write(bytes.subarray(i, i + 64 * 1024));
    res.end();
  };
};

const integration = { integration_id: "i-1", label: "L", filters: { email_events: ["open"] } };
/** A valid list answer padded with spaces to exactly `size` bytes. */
const listOfSize = (size: number) => {
  const json = JSON.stringify({ result: [integration] });
  return json + " ".repeat(size - Buffer.byteLength(json));
};
const body = {
  label: "L",
  destination: "Segment",
  filters: { email_events: ["open" as const] },
  properties: { write_key: WRITE_KEY, destination_region: "US" as const },
};

describe("ids and scopes", () => {
  it("refuses an id that is not a string, before any request", () => {
    for (const id of [5, null, undefined, {}]) {
      expect(() => assertIntegrationId(id), String(id)).toThrow(InvalidIdError);
    }
    expect(() => assertIntegrationId("a/b")).toThrow(
      "Invalid SendGrid integration id \"a/b\": an id is 1 to 128 letters, digits, '-' or '_'",
    );
    expect(() => assertIntegrationId("a-B_9")).not.toThrow();
  });

  it("a scope is the first integration's subuser and every known write key", () => {
    expect(scopeOf()).toStrictEqual({ onBehalfOf: undefined, writeKeys: [] });
    const first = toIntegrationInputs(desired({ onBehalfOf: "sub" }));
    const keyless = toIntegrationInputs({ ...desired({ onBehalfOf: "other" }), properties: {} });
    const second = toIntegrationInputs(desired({ properties: { writeKey: WRITE_KEY_2, destinationRegion: "US" } }));
    expect(scopeOf(first, keyless, second)).toStrictEqual({
      onBehalfOf: "sub",
      writeKeys: [WRITE_KEY, WRITE_KEY_2],
    });
  });
});

describe("requests", () => {
  it("ask for JSON, with the API key and the User-Agent", async () => {
    answer(200, JSON.stringify({ result: [] }));
    await client.list();
    expect(seen[0]?.headers).toMatchObject({
      accept: "application/json",
      authorization: `Bearer ${API_KEY}`,
      "user-agent": USER_AGENT,
    });
  });
});

describe("the size limit", () => {
  it(`reads an answer of exactly ${MAX_ANSWER_BYTES} bytes, and refuses one byte more`, async () => {
    answer(200, listOfSize(MAX_ANSWER_BYTES));
    expect((await client.list()).integrations).toHaveLength(1);
    answer(200, listOfSize(MAX_ANSWER_BYTES + 1));
    const error = await rejectionOf(client.list());
    expect(error.message).toBe(
      "Unable to list SendGrid integrations: the answer (HTTP 200) is larger than 256 KiB; it was not read",
    );
  });

  it("cuts off an answer sent without a length (chunked) that never ends, at the cap", async () => {
    seen = [];
    handle = (_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      const timer = setInterval(() => res.write(Buffer.alloc(64 * 1024, 32)), 5);
      res.on("close", () => clearInterval(timer));
    };
    const error = await rejectionOf(client.list({ onBehalfOf: "sub" }));
    expect(error.code).toBe("ERR_SENDGRID_RESPONSE");
    expect(error.message).toBe(
      'Unable to list SendGrid integrations of "sub": the answer (HTTP 200) is larger than 256 KiB; it was not read',
    );
  });
});

describe("answers that cannot be used", () => {
  it("a 300 is a redirect like any other 3xx", async () => {
    answer(300, "{}", { location: "https://elsewhere.example.com/x?y=1" });
    const error = await rejectionOf(client.list());
    expect(error.code).toBe("ERR_SENDGRID_REDIRECT");
    expect(error.message).toMatch(
      /^Unable to list SendGrid integrations: HTTP 300 redirect to https:\/\/elsewhere\.example\.com was not followed/,
    );
  });

  it("a body of only whitespace is empty", async () => {
    answer(200, "  \n ");
    const error = await rejectionOf(client.list());
    expect(error.message).toBe(
      "Unable to list SendGrid integrations: the answer (HTTP 200, application/json) is empty",
    );
  });

  it("names the operation and what it was about", async () => {
    answer(200, "not json");
    expect((await rejectionOf(client.create(body))).message).toBe(
      'Unable to create SendGrid Segment integration "L": the answer (HTTP 200, application/json) is not JSON',
    );
    expect((await rejectionOf(client.update("i-1", body))).message).toBe(
      "Unable to update SendGrid Segment integration i-1: the answer (HTTP 200, application/json) is not JSON",
    );
    expect((await rejectionOf(client.list({ onBehalfOf: "sub" }))).message).toBe(
      'Unable to list SendGrid integrations of "sub": the answer (HTTP 200, application/json) is not JSON',
    );
  });

  it("redacts the API key and every write key in scope, even from a content type", async () => {
    answer(200, "not json", { "content-type": `text/${API_KEY}` });
    expectNoSecretPart((await rejectionOf(client.list())).message);
    answer(200, "not json", { "content-type": `text/${WRITE_KEY_2}` });
    const update = await rejectionOf(client.update("i-1", body, { writeKeys: [WRITE_KEY_2] }));
    expectNoSecretPart(update.message);
    expect(update.message).toMatch(/^Unable to update SendGrid Segment integration i-1: the answer \(HTTP 200, text\//);
  });

  it("redacts the write key being replaced when an error quotes it", async () => {
    answer(400, JSON.stringify({ errors: [{ field: "properties", message: `old key ${WRITE_KEY_2} in use` }] }));
    const error = await rejectionOf(client.update("i-1", body, { writeKeys: [WRITE_KEY_2] }));
    expect(error.code).toBe("ERR_SENDGRID_API");
    expectNoSecretPart(error.message);
  });
});

describe("timeouts", () => {
  it("say the request timed out, and after how long", async () => {
    const hasty = await clientWith({ "sendgrid:requestTimeoutMs": "200", "sendgrid:retryBudgetMs": "0" });
    handle = () => undefined; // never answers
    const error = await rejectionOf(hasty.list());
    expect(error.code).toBe("ERR_SENDGRID_REQUEST");
    expect((error as { causeCode?: string }).causeCode).toBe("ETIMEDOUT");
    expect(error.message).toBe(
      "Unable to list SendGrid integrations: request timed out (Timeout awaiting 'request' for 200ms)",
    );
  });
});

describe("429s whose reset has passed", () => {
  it("a clock running fast (every reset in the past) backs off exponentially: a few requests, not a tight loop", async () => {
    const patient = await clientWith({ "sendgrid:retryBudgetMs": "3000" });
    handle = (_req, res) => {
      const past = String(Math.floor(Date.now() / 1000) - 5);
      res.writeHead(429, { "content-type": "application/json", "x-ratelimit-reset": past }).end('{"errors":[]}');
    };
    seen = [];
    await rejectionOf(patient.list());
    // Steps of 250, 500, 1000, 2000 ms (half random) fit at most 5 retries in 3 s; a fixed short step would fit 12 or more.
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(seen.length).toBeLessThanOrEqual(6);
  });
});

describe("the provider's update over a hand-made server", () => {
  it("a 300 is not an unusable success: no read-back", async () => {
    provider.newDeployment();
    await provider.configure(
      configureRequest({ "sendgrid:apiKey": API_KEY, "sendgrid:apiBaseUrl": serverUrl() }) as never,
    );
    const news = (await provider.check({}, desired({ label: "Renamed" }))).inputs; // the label travels: no listing
    const outs = { ...news, label: "Prod events", integrationId: "i-1", userId: "1" };
    answer(300, "{}", { location: "https://elsewhere.example.com/" });
    const error = await rejectionOf(provider.update("i-1", outs, news));
    expect(error.code).toBe("ERR_SENDGRID_REDIRECT");
    expect(seen.map((r) => r.method)).toEqual(["PATCH"]);
  });
});

describe("the retry note", () => {
  it("says how many attempts were made, and blames the budget only when the budget stopped them", async () => {
    const patient = await clientWith({ "sendgrid:retryBudgetMs": "60000" });
    let calls = 0;
    handle = (_req, res) => {
      calls++;
      res.writeHead(calls < 3 ? 503 : 400, { "content-type": "application/json" });
      res.end(JSON.stringify({ errors: [{ message: "no" }] }));
    };
    const error = await rejectionOf(patient.list());
    expect(calls).toBe(3);
    expect(error.message).toMatch(
      /^Unable to list SendGrid integrations: HTTP 400 Bad Request: no \(gave up after 3 attempts in \d+\.\d s\)/,
    );
    expect(error.message).not.toContain("budget");
  });
});

describe("one limiter per account, whoever calls (issue 23)", () => {
  it("50 list calls at once from the list function (50 clients) keep to 10 requests under way", async () => {
    let now = 0;
    let most = 0;
    seen = [];
    handle = (_req, res) => {
      now++;
      most = Math.max(most, now);
      setTimeout(() => {
        now--;
        res.writeHead(200, { "content-type": "application/json" }).end('{"result":[]}');
      }, 20);
    };
    const settings = resolveSettings(
      (key) => ({ "sendgrid:apiKey": API_KEY, "sendgrid:apiBaseUrl": serverUrl() })[key],
      {},
    );
    await Promise.all(Array.from({ length: 50 }, () => listIntegrations(settings)));
    expect(seen).toHaveLength(50);
    expect(most).toBe(10);
  });

  it("time spent waiting for a slot counts toward the retry budget", async () => {
    // Ten slow calls fill the account's slots; the eleventh waits ~600 ms for one, past its 400 ms
    // budget: it is tried once, and never retried (counted from its own start, the first backoff
    // step of at most 250 ms would fit: it would have been retried).
    const patient = await clientWith({ "sendgrid:retryBudgetMs": "400" });
    let calls = 0;
    seen = [];
    handle = (_req, res) => {
      calls++;
      const slow = calls <= 10;
      setTimeout(
        () => res.writeHead(slow ? 200 : 503, { "content-type": "application/json" }).end('{"result":[]}'),
        slow ? 600 : 0,
      );
    };
    const slow = Array.from({ length: 10 }, () => patient.list());
    const late = rejectionOf(patient.list());
    await Promise.all(slow);
    const error = await late;
    expect(error.message).toContain("HTTP 503");
    expect(calls).toBe(11); // no retry: the budget was spent waiting
  });
});

describe("a list route that answers 404 (a wrong base URL)", () => {
  it("is a configuration error naming the route and the setting; it says when the 404 was not even SendGrid's", async () => {
    answer(404, JSON.stringify({ errors: [{ message: "not found", field: null }] }));
    const error = await rejectionOf(client.list());
    expect(error.code).toBe("ERR_SENDGRID_CONFIG");
    expect(error.message).toBe(
      `Unable to list SendGrid integrations: HTTP 404 at ${serverUrl()}/v3/marketing/integrations, the Integrations ` +
        `API's list route: the API is not at ${serverUrl()}. Check sendgrid:apiBaseUrl (the API's root, e.g. ` +
        "https://api.sendgrid.com); nothing was changed",
    );
    answer(404, "<html>404</html>", { "content-type": "text/html" });
    expect((await rejectionOf(client.list())).message).toMatch(
      /; nothing was changed \(the answer was not even in SendGrid's error shape\)$/,
    );
  });

  it("never shows the API key, even one pasted into the base URL", async () => {
    const misplaced = await clientWith({ "sendgrid:apiBaseUrl": `${serverUrl()}/${API_KEY}` });
    answer(404, JSON.stringify({ errors: [{ message: "not found" }] }));
    const error = await rejectionOf(misplaced.list());
    expect(error.code).toBe("ERR_SENDGRID_CONFIG");
    expectNoSecretPart(error.message);
    expect(error.message).toContain(`HTTP 404 at ${serverUrl()}/[redacted]/v3/marketing/integrations`);
  });
});

describe("one account's calls do not wait for another's", () => {
  it("ten calls under way with one API key leave another key's call free to go", async () => {
    const other = await clientWith({ "sendgrid:apiKey": "SG.another-account-key-0001" });
    let release = () => undefined as void;
    const released = new Promise<void>((r) => {
      release = r;
    });
    let under = 0;
    let most = 0;
    seen = [];
    handle = (req, res) => {
      under++;
      most = Math.max(most, under);
      const done = () => {
        under--;
        res.writeHead(200, { "content-type": "application/json" }).end('{"result":[]}');
      };
      // The other account's call arriving frees them all; a second later they answer anyway.
      if (req.headers.authorization !== `Bearer ${API_KEY}`) {
        release();
        done();
      } else void Promise.race([released, new Promise((r) => setTimeout(r, 1000))]).then(done);
    };
    const busy = Array.from({ length: 10 }, () => client.list());
    while (seen.length < 10) await new Promise((r) => setTimeout(r, 5));
    await Promise.all([...busy, other.list({}, { signal: new AbortController().signal })]);
    expect(most).toBe(11); // the eleventh was the other account's, sent while the ten were under way
  });
});

describe("the environment's proxy", () => {
  it("plain http never goes through Node's global agent, where Node puts a proxy from the environment", async () => {
    const original = http.globalAgent;
    const proxied: string[] = [];
    const envProxy = new http.Agent();
    envProxy.createConnection = (options) => {
      proxied.push(String(options.host));
      throw new Error("sent through the global agent");
    };
    http.globalAgent = envProxy;
    try {
      answer(200, JSON.stringify({ result: [] }));
      expect((await client.list()).integrations).toEqual([]);
      expect(proxied).toEqual([]);
    } finally {
      http.globalAgent = original;
    }
  });
});

describe("a request stopped from outside (the engine's Cancel or custom timeout)", () => {
  it("says why it stopped, while under way; its cause code is ERR_ABORTED", async () => {
    const controller = new AbortController();
    const control: Control = { signal: controller.signal };
    seen = [];
    handle = () => controller.abort(new Stopped("Pulumi cancelled the deployment")); // never answers
    const error = await rejectionOf(client.list({}, control));
    expect(error.message).toBe(
      "Unable to list SendGrid integrations: Pulumi cancelled the deployment while the request was under way",
    );
    expect((error as { causeCode?: string }).causeCode).toBe("ERR_ABORTED");
    expect(seen).toHaveLength(1);
  });
});

describe("retries within an operation's own time limit (its custom timeout)", () => {
  // Date.now stands still: no time passes between attempts for the budget, so each decision
  // depends on the limits alone. Every first backoff step is 125 to 250 ms, the second 250 to 500.
  const NOW = 1_900_000_000_000;
  const frozen = async <T>(run: () => Promise<T>): Promise<T> => {
    const now = vi.spyOn(Date, "now").mockReturnValue(NOW);
    try {
      return await run();
    } finally {
      now.mockRestore();
    }
  };
  /** 503s, then (after `failures`) 200s: a call that retries long enough succeeds. */
  const failingThen = (failures: number) => {
    seen = [];
    handle = (_req, res) => {
      const failing = seen.length <= failures;
      res.writeHead(failing ? 503 : 200, { "content-type": "application/json" });
      res.end(failing ? JSON.stringify({ errors: [{ message: "busy" }] }) : '{"result":[]}');
    };
  };
  const until = (ms: number): Control => ({ signal: new AbortController().signal, deadline: NOW + ms });

  it("no retry fits in a time limit shorter than the first backoff step, however large the budget", async () => {
    const patient = await clientWith({ "sendgrid:retryBudgetMs": "60000" });
    failingThen(5);
    const error = await frozen(() => rejectionOf(patient.list({}, until(100))));
    expect(error.message).toBe("Unable to list SendGrid integrations: HTTP 503 Service Unavailable: busy");
    expect(seen).toHaveLength(1);
  });

  it("retries until the time limit leaves no room, and says so when it is shorter than the budget", async () => {
    const patient = await clientWith({ "sendgrid:retryBudgetMs": "60000" });
    failingThen(5);
    const error = await frozen(() => rejectionOf(patient.list({}, until(300))));
    expect(error.message).toMatch(
      /^Unable to list SendGrid integrations: HTTP 503 Service Unavailable: busy \(gave up after [23] attempts in 0\.0 s; the operation's custom timeout leaves no time for another\)$/,
    );
  });

  it("blames the retry budget when it is no longer than the time limit", async () => {
    const brief = await clientWith({ "sendgrid:retryBudgetMs": "300" });
    for (const limit of [300, 60_000]) {
      failingThen(5);
      const error = await frozen(() => rejectionOf(brief.list({}, until(limit))));
      expect(error.message, String(limit)).toMatch(
        /^Unable to list SendGrid integrations: HTTP 503 Service Unavailable: busy \(gave up after [23] attempts in 0\.0 s; the retry budget \(sendgrid:retryBudgetMs\) is spent\)$/,
      );
    }
  });
});

describe("network failures name the setting to check", () => {
  /** Name resolution answers `code` for `host` (as the system resolver would), and as usual for any other. */
  const resolving = async <T>(host: string, code: string, run: () => Promise<T>): Promise<T> => {
    const real = dns.lookup;
    const lookup = vi.spyOn(dns, "lookup").mockImplementation(((name: string, ...rest: unknown[]) => {
      if (name !== host) return (real as (...a: unknown[]) => void)(name, ...rest);
      const callback = rest.at(-1) as (error: Error) => void;
      process.nextTick(() =>
        callback(Object.assign(new Error(`getaddrinfo ${code} ${name}`), { code, hostname: name })),
      );
    }) as typeof dns.lookup);
    try {
      return await run();
    } finally {
      lookup.mockRestore();
    }
  };
  const HOST = "api.no-such-host.example";
  const SETTINGS = "sendgrid:apiBaseUrl, or sendgrid:region or SENDGRID_REGION";

  it("a host that does not exist", async () => {
    const lost = await clientWith({ "sendgrid:apiBaseUrl": `https://${HOST}` });
    const error = await resolving(HOST, "ENOTFOUND", () => rejectionOf(lost.list()));
    expect(error.message).toBe(
      `Unable to list SendGrid integrations: request failed (ENOTFOUND): the host ${HOST} does not exist; check ${SETTINGS}`,
    );
    expect((error as { causeCode?: string }).causeCode).toBe("ENOTFOUND");
  });

  it("a host name that cannot be resolved for now", async () => {
    const lost = await clientWith({ "sendgrid:apiBaseUrl": `https://${HOST}`, "sendgrid:retryBudgetMs": "0" });
    const error = await resolving(HOST, "EAI_AGAIN", () => rejectionOf(lost.list()));
    expect(error.message).toBe(
      `Unable to list SendGrid integrations: request failed (EAI_AGAIN): the host ${HOST} could not be resolved ` +
        `(no DNS answer); check the network, and ${SETTINGS}`,
    );
  });

  it("a certificate the TLS handshake refuses: nothing was sent", async () => {
    const tls = createTlsServer({ key: SELF_SIGNED.key, cert: SELF_SIGNED.cert }, (_req, res) => res.end("{}"));
    await new Promise<void>((r) => tls.listen(0, "127.0.0.1", r));
    try {
      const url = `https://127.0.0.1:${(tls.address() as AddressInfo).port}`;
      const refused = await clientWith({ "sendgrid:apiBaseUrl": url });
      const error = await rejectionOf(refused.list());
      expect(error.message).toBe(
        "Unable to list SendGrid integrations: request failed (DEPTH_ZERO_SELF_SIGNED_CERT): the TLS connection to " +
          `127.0.0.1:${(tls.address() as AddressInfo).port} was refused; nothing was sent. Check sendgrid:apiBaseUrl, and any proxy or certificate settings`,
      );
    } finally {
      tls.close();
    }
  });

  it("other failures name no setting", async () => {
    const closed = await clientWith({ "sendgrid:apiBaseUrl": "http://127.0.0.1:9", "sendgrid:retryBudgetMs": "0" });
    expect((await rejectionOf(closed.list())).message).toBe(
      "Unable to list SendGrid integrations: request failed (ECONNREFUSED)",
    );
  });
});

/** A throwaway self-signed certificate for 127.0.0.1 (valid 2000 to 2100): its key guards nothing. */
const SELF_SIGNED = {
  key: `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgp2Ua9x38gi0sEZzD
eJmpmjzUbx/nr/giip6ZXVsF1D+hRANCAAScZ7Z+BeFrfR4HDk/3CV+3enBDejIp
CVgZbQOUjdoqxCzjrgz8uzoILIylKTZealx9t+fC4sW4dWusBMAHZIA7
-----END PRIVATE KEY-----
`,
  cert: `-----BEGIN CERTIFICATE-----
MIIBXDCCAQKgAwIBAgIBATAKBggqhkjOPQQDAjAUMRIwEAYDVQQDDAkxMjcuMC4w
LjEwIBcNMDAwMTAxMDAwMDAwWhgPMjEwMDAxMDEwMDAwMDBaMBQxEjAQBgNVBAMM
CTEyNy4wLjAuMTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABJxntn4F4Wt9HgcO
T/cJX7d6cEN6MikJWBltA5SN2irELOOuDPy7OggsjKUpNl5qXH2358Lixbh1a6wE
wAdkgDujQzBBMA8GA1UdEQQIMAaHBH8AAAEwDwYDVR0TAQH/BAUwAwEB/zAdBgNV
HQ4EFgQU15v3v+kv4OJ97A39COCIOsihJ2YwCgYIKoZIzj0EAwIDSAAwRQIgXkdb
vV1iJR4RuLKuKosV+30POcWHh9wbFkuS4kUMNkECIQD5BGrW0xjlhGgNDqxOYVAe
5yhDAePsvnCKNQ60NPWpJA==
-----END CERTIFICATE-----
`,
};

// What the client module defines when it loads (the User-Agent, the keep-alive agent, the per-account
// limiters, the subjects of messages, the answer schemas of wire.ts), seen through a module loaded
// afresh inside the test: the module the other tests imported was loaded once, before any of them.
describe("a client module loaded afresh", () => {
  const fresh = async () => {
    vi.resetModules();
    const { IntegrationsClient: Client } = await import("../provider/client.js");
    const { resolveSettings: resolve } = await import("../provider/config.js");
    const { Stopped: FreshStopped } = await import("../provider/control.js");
    const make = (apiKey = API_KEY) => {
      const config: Record<string, string> = {
        "sendgrid:apiKey": apiKey,
        "sendgrid:apiBaseUrl": serverUrl(),
        "sendgrid:retryBudgetMs": "0",
      };
      return Client.create(resolve((key) => config[key], {}));
    };
    return { make, Stopped: FreshStopped };
  };

  it("sends the package's name and version as User-Agent, the subuser, over one kept-alive connection", async () => {
    const { make } = await fresh();
    const fresher = await make();
    answer(200, JSON.stringify({ result: [] }));
    await fresher.list({ onBehalfOf: "sub" });
    await fresher.list();
    expect(seen).toHaveLength(2);
    expect(seen[0]?.headers["user-agent"]).toBe(
      `pulumi-sendgrid-segment/${JSON.parse(readFileSync("package.json", "utf8")).version} (+pulumi dynamic provider; node ${process.version})`,
    );
    expect(seen[0]?.headers["on-behalf-of"]).toBe("sub");
    expect(seen[1]?.headers["on-behalf-of"]).toBeUndefined();
    expect(seen[0]?.headers.connection).toBe("keep-alive");
    expect(seen[1]?.socket).toBe(seen[0]?.socket); // the second request reused the first's connection
  });

  it("names what each call was about, and redacts the write key it sends from an answer quoting it", async () => {
    const { make } = await fresh();
    const fresher = await make();
    answer(400, JSON.stringify({ errors: [{ field: "properties", message: `key ${WRITE_KEY} refused` }] }));
    const created = await rejectionOf(fresher.create(body));
    expect(created.message).toMatch(/^Unable to create SendGrid Segment integration "L": /);
    expectNoSecretPart(created.message);
    const updated = await rejectionOf(fresher.update("i-1", body));
    expect(updated.message).toMatch(/^Unable to update SendGrid Segment integration i-1: /);
    expectNoSecretPart(updated.message);
  });

  it("refuses answers that do not fit the API's integration shape", async () => {
    const { make } = await fresh();
    const fresher = await make();
    const refused = async (answerBody: unknown) => {
      answer(200, JSON.stringify(answerBody));
      return (await rejectionOf(fresher.list())).message;
    };
    expect(await refused({ result: 5 })).toMatch(/result is a number, expected Array/);
    expect(await refused({ result: [{ integration_id: "a/b" }] })).toMatch(
      /result\[0\]\.integration_id is a string outside the allowed values/,
    );
    expect(await refused({ result: [{ filters: { email_events: ["nope"] } }] })).toMatch(
      /result\[0\]\.filters\.email_events\[0\] is a string outside the allowed values, expected/,
    );
    expect(await refused({ result: [{ properties: { destination_region: "MARS" } }] })).toMatch(
      /result\[0\]\.properties\.destination_region is a string outside the allowed values, expected/,
    );
  });

  it("a key's digest: the same for the same key, another for another, never the key", async () => {
    const { make } = await fresh();
    const one = (await make()).keyDigest;
    expect(one).toMatch(/^[0-9a-f]{32}$/);
    expect((await make()).keyDigest).toBe(one);
    expect((await make("SG.another-account-key-0001")).keyDigest).not.toBe(one);
  });

  it("a call stopped before it was sent says so, with its own code", async () => {
    const { make, Stopped: FreshStopped } = await fresh();
    const fresher = await make();
    const controller = new AbortController();
    controller.abort(new FreshStopped("Pulumi cancelled the deployment"));
    seen = [];
    const error = await rejectionOf(fresher.list({}, { signal: controller.signal }));
    expect(error.message).toMatch(/nothing was sent/);
    expect((error as { causeCode?: string }).causeCode).toBe("ERR_STOPPED_BEFORE_SENDING");
    expect(seen).toHaveLength(0);
  });

  it("ten calls under way with one API key leave another key's call free to go", async () => {
    const { make } = await fresh();
    const mine = await make();
    const other = await make("SG.another-account-key-0001");
    let release = () => undefined as void;
    const released = new Promise<void>((r) => {
      release = r;
    });
    let under = 0;
    let most = 0;
    seen = [];
    handle = (req, res) => {
      under++;
      most = Math.max(most, under);
      const done = () => {
        under--;
        res.writeHead(200, { "content-type": "application/json" }).end('{"result":[]}');
      };
      if (req.headers.authorization !== `Bearer ${API_KEY}`) {
        release();
        done();
      } else void Promise.race([released, new Promise((r) => setTimeout(r, 1000))]).then(done);
    };
    const busy = Array.from({ length: 10 }, () => mine.list());
    while (seen.length < 10) await new Promise((r) => setTimeout(r, 5));
    await Promise.all([...busy, other.list()]);
    expect(most).toBe(11);
  });
});
