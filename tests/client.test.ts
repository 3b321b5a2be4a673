// The HTTP client against a hand-made server, for the answers the emulator does not give: exact
// size limits, a chunked body, status 300, whitespace, and credentials echoed in headers.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertIntegrationId, IntegrationsClient, MAX_ANSWER_BYTES, scopeOf, USER_AGENT } from "../provider/client";
import { resolveSettings } from "../provider/config";
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
