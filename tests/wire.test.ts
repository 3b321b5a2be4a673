// A hostile network, through each front door's gRPC server as `pulumi up` drives it (the dynamic
// provider's, and the native plugin's; issue 18): each
// of the answers a proxy, a load balancer or a degraded API really sends, against each operation.
// After every scenario: one clear bounded error or a correct result; no secret, whole or in part,
// in the error or the provider's output; the provider still answers; live integrations equal
// state (no duplicate, no orphan, no phantom id); and nothing was sent to another origin.
import { createServer, type Server as HttpServer } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Emulator, type Fault, MALFORMED, REDIRECT_STATUSES, startEmulator } from "../emulator";
import { MAX_MESSAGE_LENGTH } from "../provider/errors";
import { type Served, serve } from "../provider/native";
import { RESOURCE_TOKEN } from "../provider/native/schema";
import { secret } from "../provider/native/secrets";
import { connect, type ProviderServer, startProviderServer } from "./support/engine.cjs";
import { type Door, withEngineSecrets } from "./support/engine-sim";
import { API_KEY, expectNoSecretPart, rejectionOf, WRITE_KEY, WRITE_KEY_2 } from "./support/fixtures";
import { REPO, rootProgramProvider } from "./support/programs";

type Props = Record<string, any>;
type Operation = "create" | "read" | "update" | "delete";
const OPERATIONS: Operation[] = ["create", "read", "update", "delete"];
const METHOD: Record<Operation, string> = { create: "POST", read: "GET", update: "PATCH", delete: "DELETE" };

let emulator: Emulator;
let server: Door;
let serializedProvider: string;
/** Another origin: a redirect target that must never receive anything. */
let elsewhere: { url: string; requests: string[]; http: HttpServer };
/** What the engine's state holds: resource id → outputs. */
const state = new Map<string, Props>();
let seq = 0;

const inputs = (extra: Props = {}) => ({
  label: "Prod events",
  filters: { emailEvents: ["open", "click"] },
  properties: { writeKey: WRITE_KEY, destinationRegion: "US" },
  ...extra,
  __provider: serializedProvider,
});

beforeAll(async () => {
  serializedProvider = await rootProgramProvider();
  // Scenarios leave their integrations live and tracked: room for all of them in one account.
  emulator = await startEmulator({ apiKeys: [API_KEY], limit: 1000, allowEchoFault: true });
  const requests: string[] = [];
  const http = createServer((req, res) => {
    requests.push(`${req.method} ${req.url} ${req.headers.authorization ? "with" : "without"} authorization`);
    res.writeHead(201, { "content-type": "application/json" }).end('{"integration_id":"phantom-1"}');
  });
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
  elsewhere = { url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`, requests, http };
});

const SETTINGS = {
  "sendgrid:apiKey": API_KEY,
  "sendgrid:requestTimeoutMs": "400",
  "sendgrid:retryBudgetMs": "4000",
};
afterAll(async () => {
  await emulator?.close();
  elsewhere?.http.close();
});

beforeEach(() => {
  emulator.requests.length = 0;
});

/** A resource as state holds it after a clean create. */
async function existing(): Promise<{ name: string; id: string }> {
  const name = `wire-${++seq}`;
  const checked = (await server.check(name, {}, inputs({ label: name }))).inputs;
  const { id, properties } = await server.create(name, checked);
  state.set(id, properties);
  emulator.requests.length = 0;
  return { name, id };
}

/** Run `operation` through the engine the way `pulumi up` would, updating state on success. */
async function run(operation: Operation): Promise<void> {
  if (operation === "create") {
    // Its own label: integrations left live by earlier scenarios must not look like this one.
    const name = `wire-${++seq}`;
    const checked = (await server.check(name, {}, inputs({ label: name }))).inputs;
    emulator.requests.length = 0;
    const pending = server.create(name, checked);
    const { id, properties } = await pending;
    state.set(id, properties);
    return;
  }
  const { name, id } = await existing();
  const olds = state.get(id)!;
  if (operation === "read") {
    const read = await server.read(name, id, olds);
    if (read.id) state.set(id, read.properties);
    else state.delete(id);
  } else if (operation === "update") {
    const news = (
      await server.check(
        name,
        olds,
        inputs({ label: `${name} updated`, properties: { writeKey: WRITE_KEY_2, destinationRegion: "EU" } }),
      )
    ).inputs;
    emulator.requests.length = 0;
    state.set(id, (await server.update(name, id, olds, news)).properties);
  } else {
    await server.delete(name, id, olds);
    state.delete(id);
  }
}

/** Inject the fault into the operation's own request (set up after any create it needs). */
async function runWith(operation: Operation, fault: Fault): Promise<void> {
  const withFault = { ...fault, method: METHOD[operation] } as Fault;
  if (operation === "create") {
    emulator.inject(withFault);
    return run(operation);
  }
  // Arm the fault only once the setup create is done: inject on the first request of that method.
  const original = emulator.requests.push.bind(emulator.requests);
  let armed = false;
  emulator.requests.push = (...entries) => {
    const n = original(...entries);
    if (!armed && entries.some((e) => e.method === "POST" && e.status === 201)) {
      armed = true;
      emulator.inject(withFault);
    }
    return n;
  };
  try {
    return await run(operation);
  } finally {
    emulator.requests.push = original;
  }
}

function expectLiveEqualsState() {
  const live = emulator.integrations();
  expect(live.map((i) => i.integration_id).sort()).toEqual([...state.keys()].sort());
  for (const i of live) {
    const s = state.get(i.integration_id)!;
    expect({
      id: s.integrationId,
      label: i.label,
      events: i.filters.email_events,
      key: i.properties.write_key,
    }).toEqual({ id: i.integration_id, label: s.label, events: s.filters.emailEvents, key: s.properties.writeKey });
  }
}

async function expectStillAnswers() {
  const checked = await server.check("alive", {}, inputs({ filters: { emailEvents: ["nope"] } }));
  expect(checked.failures.map((f: { property: string }) => f.property)).toEqual(["filters.emailEvents[0]"]);
}

/** One clear line: bounded, naming the operation, holding no secret or part of one. */
async function expectCleanFailure(operation: Operation, pending: Promise<void>, pattern: RegExp): Promise<string> {
  const error = await rejectionOf(pending);
  expect(error.message.length).toBeLessThanOrEqual(MAX_MESSAGE_LENGTH + 200); // the runtime adds its prefix
  expect(error.message).not.toMatch(/\n/);
  expect(error.message).toMatch(new RegExp(`Unable to ${operation} SendGrid Segment integration`));
  expect(error.message).toMatch(pattern);
  expectNoSecretPart(error.message);
  return error.message;
}

/** The two front doors, each started once for this file and stopped with its checks. */
const DOORS: [string, () => Promise<{ door: Door; stop: () => Promise<void> }>][] = [
  [
    "dynamic provider",
    async () => {
      const dynamic: ProviderServer = await startProviderServer({ programDir: REPO });
      await dynamic.configure({ ...SETTINGS, "sendgrid:apiBaseUrl": emulator.url });
      return {
        door: dynamic,
        stop: async () => {
          await dynamic.stop();
          // The dynamic-provider runtime prints failed operations to its stderr, i.e. into CI logs.
          expect(dynamic.stderr).toContain("Bearer [redacted] and write_key=[redacted]"); // it did print the echoes
          expectNoSecretPart(dynamic.stderr);
        },
      };
    },
  ],
  [
    "native plugin",
    async () => {
      const served: Served = await serve();
      const client = connect({
        port: served.port,
        req: createRequire(join(REPO, "package.json")),
        type: RESOURCE_TOKEN,
      });
      await client.configureArgs({
        apiKey: secret(API_KEY),
        apiBaseUrl: emulator.url,
        requestTimeoutMs: "400",
        retryBudgetMs: "4000",
      });
      return {
        door: withEngineSecrets(client),
        stop: async () => {
          client.close();
          await served.stop();
        },
      };
    },
  ],
];

describe.each(DOORS)("%s", (_name, start) => {
  let stop: () => Promise<void>;
  beforeAll(async () => {
    ({ door: server, stop } = await start());
  });
  afterAll(() => stop());

  afterEach(async () => {
    emulator.clearFaults();
    expectLiveEqualsState();
    await expectStillAnswers();
    expect(elsewhere.requests).toEqual([]);
  });

  describe.each(REDIRECT_STATUSES)("a %i redirect to another origin", (status) => {
    it.each(OPERATIONS)(
      "%s: not followed; one error naming the status and the target origin only",
      async (operation) => {
        const message = await expectCleanFailure(
          operation,
          runWith(operation, {
            kind: "redirect",
            status,
            location: `${elsewhere.url}/v3/marketing/integrations?token=${WRITE_KEY}`,
          }),
          new RegExp(`HTTP ${status} redirect to ${elsewhere.url.replaceAll(".", "\\.")} was not followed`),
        );
        expect(message).not.toContain("/v3/marketing/integrations?");
        expect(emulator.requests.filter((r) => r.fault === "redirect")).toHaveLength(1);
      },
    );
  });

  describe.each(MALFORMED)("a 2xx whose body is %s", (body) => {
    // A create answer whose id was rewritten (foreign-id) cannot be told from a true one without a
    // read-back after every create: docs/reliability.md states this limit. Read and update do detect it.
    it.skipIf(body === "foreign-id")(
      "create: the integration was committed, so it is found and adopted: tracked once, no orphan",
      async () => {
        await runWith("create", { kind: "malformed", body });
        const posts = emulator.requests.filter((r) => r.method === "POST");
        expect(posts).toHaveLength(1); // never created twice
        expect(emulator.requests.map((r) => r.method)).toEqual(["POST", "GET"]);
      },
    );

    // Refresh reads the place's list: a list's own fields broken this way (no-id, wrong-types and
    // foreign-id change fields of the list object, which the spec lets it carry) leave it usable.
    const listUsable = body === "no-id" || body === "wrong-types" || body === "foreign-id";
    it.skipIf(listUsable)("read: one error saying what is wrong with the answer; state keeps what it had", async () => {
      await expectCleanFailure(
        "read",
        runWith("read", { kind: "malformed", body }),
        /listing the account failed: the answer \(HTTP 200, [^)]+\) (is empty|is not JSON|cannot be used: .+)/,
      );
    });

    it.runIf(listUsable)("read: the place's list is still usable, so the integration is read from it", async () => {
      await runWith("read", { kind: "malformed", body });
    });

    it("update: PATCH is idempotent, so the live integration is read back and recorded", async () => {
      await runWith("update", { kind: "malformed", body });
      expect(emulator.requests.map((r) => r.method)).toEqual(["PATCH", "GET"]);
    });

    it("delete: any 2xx means deleted", async () => {
      await runWith("delete", { kind: "malformed", body });
    });
  });

  describe("a body that stalls after the headers (the change was made)", () => {
    it("create: times out, then finds the committed integration and adopts it", async () => {
      await runWith("create", { kind: "stall" });
      expect(emulator.requests.map((r) => `${r.method} ${r.fault ?? r.status}`)).toEqual(["POST stall", "GET 200"]);
    });

    it.each(["read", "update", "delete"] as const)("%s: counts as a timeout and is retried", async (operation) => {
      await runWith(operation, { kind: "stall" });
      const own = emulator.requests.filter((r) => r.method === METHOD[operation]);
      expect(own[0]!.fault).toBe("stall");
      expect(own.length).toBeGreaterThanOrEqual(2);
    });

    it("when every answer stalls, the final error says it timed out", async () => {
      await expectCleanFailure(
        "read",
        runWith("read", { kind: "stall", times: 100 }),
        /request timed out .*gave up after \d+ attempts/,
      );
    });
  });

  describe("an oversized error answer (about 5 MB: thousands of errors, long fields)", () => {
    it.each(OPERATIONS)("%s: one error of at most ~1 KiB; the provider keeps answering", async (operation) => {
      await expectCleanFailure(operation, runWith(operation, { kind: "oversized" }), /HTTP 400|larger than 256 KiB/);
    });
  });

  describe("an error answer that quotes the credentials back", () => {
    it.each(OPERATIONS)("%s: API key and write key redacted, whole and in part", async (operation) => {
      const message = await expectCleanFailure(
        operation,
        runWith(operation, { kind: "echo" }),
        /HTTP 400 Bad Request: invalid request with Authorization/,
      );
      expect(message).toContain("[redacted]");
    });
  });
});
