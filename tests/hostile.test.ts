// The hostile-network faults of wire.test.ts, in-process against the provider's methods (so that
// mutation testing sees them): each answer a proxy or degraded API sends, per operation.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Emulator, MALFORMED, REDIRECT_STATUSES, startEmulator } from "../emulator";
import { MAX_ANSWER_BYTES } from "../provider/client";
import * as provider from "../provider/dynamic";
import { MAX_MESSAGE_LENGTH } from "../provider/errors";
import type { IntegrationOutputs } from "../provider/types";
import { API_KEY, configureRequest, desired, expectNoSecretPart, rejectionOf, WRITE_KEY_2 } from "./support/fixtures";

let emulator: Emulator;
let elsewhere: { url: string; hits: number; http: Server };

beforeAll(async () => {
  const http = createServer((_req, res) => {
    elsewhere.hits++;
    res.end("{}");
  });
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
  elsewhere = { url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`, hits: 0, http };
});
afterAll(() => elsewhere.http.close());
beforeEach(async () => {
  emulator = await startEmulator({ apiKeys: [API_KEY], allowEchoFault: true });
  provider.newDeployment();
  await provider.configure(
    configureRequest({
      "sendgrid:apiKey": API_KEY,
      "sendgrid:apiBaseUrl": emulator.url,
      "sendgrid:requestTimeoutMs": "300",
      "sendgrid:retryBudgetMs": "2000",
    }) as never,
  );
});
afterEach(async () => {
  expect(elsewhere.hits).toBe(0);
  await emulator.close();
});

const checked = async (o: Record<string, unknown> = {}) => (await provider.check({}, desired(o))).inputs;
async function existing(): Promise<{ id: string; outs: IntegrationOutputs }> {
  const r = await provider.create(await checked());
  emulator.requests.length = 0;
  return r;
}

describe("redirects are refused, for every operation", () => {
  it.each(REDIRECT_STATUSES)("%i: one request, an error naming only the target's origin", async (status) => {
    const { id, outs } = await existing();
    const location = `${elsewhere.url}/path?key=${API_KEY}`;
    const news = await checked({ label: "New" });
    const operations: Array<[string, () => Promise<unknown>]> = [
      ["POST", async () => provider.create(await checked({ label: "Other" }))],
      ["GET", () => provider.read(id, outs)],
      ["PATCH", () => provider.update(id, outs, news)],
      ["DELETE", () => provider.delete(id, outs)],
    ];
    for (const [method, run] of operations) {
      emulator.requests.length = 0;
      emulator.inject({ kind: "redirect", status, location, method });
      const error = await rejectionOf(run());
      expect(error.code).toBe("ERR_SENDGRID_REDIRECT");
      expect(error.message).toMatch(
        new RegExp(
          `: HTTP ${status} redirect to ${elsewhere.url.replaceAll(".", "\\.")} was not followed: the Integrations API never redirects \\(check the apiBaseUrl setting, or a proxy in between\\)$`,
        ),
      );
      expect(emulator.requests).toHaveLength(1);
    }
    expect(emulator.integrations().map((i) => i.label)).toEqual(["Prod events"]);
  });

  it("a redirect without Location, or with an invalid one, says so", async () => {
    const { id, outs } = await existing();
    emulator.inject({ kind: "redirect", status: 302, location: "", method: "GET" });
    expect((await rejectionOf(provider.read(id, outs))).message).toContain("redirect to nowhere (no Location header)");
    emulator.inject({ kind: "redirect", status: 302, location: "http://[bad", method: "GET" });
    expect((await rejectionOf(provider.read(id, outs))).message).toContain("redirect to an invalid Location");
  });
});

describe("unusable 2xx answers", () => {
  it.each(MALFORMED.filter((m) => m !== "foreign-id"))("create (%s): reconciled, one POST, adopted", async (body) => {
    emulator.inject({ kind: "malformed", body, method: "POST" });
    const { id, outs } = await provider.create(await checked());
    expect(emulator.requests.map((r) => r.method)).toEqual(["POST", "GET"]);
    expect(emulator.integrations().map((i) => i.integration_id)).toEqual([id]);
    expect(outs.integrationId).toBe(id);
  });

  it.each([
    ["truncated", /the answer \(HTTP 200, application\/json\) is not JSON$/],
    ["null", /the answer \(HTTP 200, application\/json\) cannot be used: it is null, not a list of integrations$/],
    ["text", /the answer \(HTTP 200, text\/plain\) is not JSON$/],
    ["empty", /the answer \(HTTP 200, no content type\) is empty$/],
  ] as const)(
    "read (%s): the place's list cannot be used: one error saying what is wrong, ERR_SENDGRID_RESPONSE",
    async (body, pattern) => {
      const { id, outs } = await existing();
      emulator.inject({ kind: "malformed", body, method: "GET" });
      const error = await rejectionOf(provider.read(id, outs));
      expect(error.code).toBe("ERR_SENDGRID_RESPONSE");
      expect(error.message).toMatch(
        new RegExp(`^Unable to read SendGrid Segment integration ${id}: listing the account failed: `),
      );
      expect(error.message).toMatch(pattern);
    },
  );

  it.each(["no-id", "wrong-types", "foreign-id"] as const)(
    "read (%s at the list's top level, which the spec lets the list carry): read as listed",
    async (body) => {
      const { id, outs } = await existing();
      emulator.inject({ kind: "malformed", body, method: "GET" });
      expect((await provider.read(id, outs)).id).toBe(id);
    },
  );

  it.each(MALFORMED)("update (%s): read back and recorded", async (body) => {
    const { id, outs } = await existing();
    emulator.inject({ kind: "malformed", body, method: "PATCH" });
    const { outs: updated } = await provider.update(id, outs, await checked({ label: "Updated" }));
    expect(updated).toMatchObject({ integrationId: id, label: "Updated" });
    expect(emulator.requests.map((r) => r.method)).toEqual(["PATCH", "GET"]);
  });

  it("update: when the read-back shows the update was not applied, the answer's error stands", async () => {
    const { id, outs } = await existing();
    emulator.inject(
      { kind: "malformed", body: "null", method: "PATCH" },
      { kind: "malformed", body: "null", method: "GET" },
    );
    const error = await rejectionOf(provider.update(id, outs, await checked({ label: "Updated" })));
    // The PATCH's answer said nothing, and the listing to check it could not be used either.
    expect(error.code).toBe("ERR_SENDGRID_UNPROVEN");
    expect(error.message).toMatch(
      /^Unable to update SendGrid Segment integration .*: the answer \(HTTP 200, application\/json\) cannot be used: it is null, not an integration\. It may have been updated, and listing the account to check also failed \(Unable to list SendGrid integrations: the answer \(HTTP 200, application\/json\) cannot be used: it is null, not a list of integrations\)/,
    );
    emulator.inject({ kind: "status", status: 400, method: "PATCH" });
    const api = await rejectionOf(provider.update(id, outs, await checked({ label: "Again" })));
    expect(api.code).toBe("ERR_SENDGRID_API");
  });

  it("update: a 2xx that applied nothing: the read-back shows the old state, and the answer's error stands", async () => {
    const { id, outs } = await existing();
    emulator.inject({ kind: "status", status: 200, method: "PATCH" });
    const error = await rejectionOf(provider.update(id, outs, await checked({ label: "Not applied" })));
    expect(error.code).toBe("ERR_SENDGRID_RESPONSE");
    expect(error.message).toMatch(
      new RegExp(`^Unable to update SendGrid Segment integration ${id}: the answer \\(HTTP 200`),
    );
    expect(emulator.requests.map((r) => r.method)).toEqual(["PATCH", "GET"]);
    expect(emulator.integrations()[0]!.label).toBe(outs.label);
  });

  it("update: an oversized error answer is not an unusable success: no read-back", async () => {
    const { id, outs } = await existing();
    emulator.inject({ kind: "oversized", method: "PATCH" });
    const error = await rejectionOf(provider.update(id, outs, await checked({ label: "Never" })));
    expect(error.code).toBe("ERR_SENDGRID_RESPONSE");
    expect(emulator.requests.map((r) => r.method)).toEqual(["PATCH"]);
  });

  it("update: a redirect is not an unusable success: no read-back", async () => {
    const { id, outs } = await existing();
    // The PATCH "succeeds" but applies nothing: its answer is unusable, and the read-back is the old state.
    emulator.inject({ kind: "redirect", status: 307, method: "PATCH" });
    const redirected = await rejectionOf(provider.update(id, outs, await checked({ label: "Never" })));
    expect(redirected.code).toBe("ERR_SENDGRID_REDIRECT");
    expect(emulator.requests.map((r) => r.method)).toEqual(["PATCH"]);
  });

  it.each(MALFORMED)("delete (%s): any 2xx means deleted", async (body) => {
    const { id, outs } = await existing();
    emulator.inject({ kind: "malformed", body, method: "DELETE" });
    await provider.delete(id, outs);
    expect(emulator.integrations()).toEqual([]);
  });
});

describe("stalls, size and echoes", () => {
  it("a stalled body is a timeout: retried for reads, reconciled for creates", async () => {
    const { id, outs } = await existing();
    emulator.inject({ kind: "stall", method: "GET" });
    expect((await provider.read(id, outs)).id).toBe(id);
    expect(emulator.requests.map((r) => r.fault ?? r.status)).toEqual(["stall", 200]);
    emulator.requests.length = 0;
    emulator.inject({ kind: "stall", method: "POST" });
    await provider.create(await checked({ label: "Second" }));
    expect(emulator.requests.map((r) => r.fault ?? r.status)).toEqual(["stall", 200]);
  });

  it("when every answer stalls, the error says it timed out and how long it tried", async () => {
    const { id, outs } = await existing();
    emulator.inject({ kind: "stall", method: "GET", times: 100 });
    const error = await rejectionOf(provider.read(id, outs));
    expect(error.code).toBe("ERR_SENDGRID_REQUEST");
    expect(error.message).toMatch(
      /: request timed out \(Timeout awaiting 'request' for 300ms\) \(gave up after \d+ attempts in \d\.\d s; the retry budget \(sendgrid:retryBudgetMs\) is spent\)$/,
    );
    emulator.clearFaults();
  });

  it("an oversized error answer is not read past the cap, and the error is bounded", async () => {
    const { id, outs } = await existing();
    emulator.inject({ kind: "oversized", method: "DELETE" });
    const error = await rejectionOf(provider.delete(id, outs));
    expect(error.code).toBe("ERR_SENDGRID_RESPONSE");
    expect(error.message).toBe(
      `Unable to delete SendGrid Segment integration ${id}: the answer (HTTP 400) is larger than ${MAX_ANSWER_BYTES / 1024} KiB; it was not read`,
    );
  });

  it("an oversized answer to a read also fails bounded", async () => {
    const { id, outs } = await existing();
    emulator.inject({ kind: "oversized", method: "GET" });
    const error = await rejectionOf(provider.read(id, outs));
    expect(error.message.length).toBeLessThanOrEqual(MAX_MESSAGE_LENGTH);
  });

  it("one listing shared by two reads: each error is redacted with every key known when it fails, not only the first reader's", async () => {
    const slow = await startEmulator({ apiKeys: [API_KEY], allowEchoFault: true, latencyMs: 300 });
    const configureFor = async () => {
      provider.newDeployment();
      await provider.configure(
        configureRequest({ "sendgrid:apiKey": API_KEY, "sendgrid:apiBaseUrl": slow.url }) as never,
      );
    };
    try {
      await configureFor();
      // b first: a list's echo quotes the place's first integration, b's key.
      const b = await provider.create(
        await checked({ label: "B", properties: { writeKey: WRITE_KEY_2, destinationRegion: "US" } }),
      );
      const a = await provider.create(await checked({ label: "A" }));
      await configureFor(); // a refresh: a new deployment, which has seen no key yet
      slow.inject({ kind: "echo", method: "GET" });
      const first = rejectionOf(provider.read(a.id, a.outs)); // lists the place, knowing a's key only
      await new Promise((r) => setTimeout(r, 100));
      const second = rejectionOf(provider.read(b.id, b.outs)); // shares that list
      for (const error of await Promise.all([first, second])) {
        expect(error.message).toContain("write_key=[redacted]");
        expectNoSecretPart(error.message);
      }
      expect(slow.requests.filter((r) => r.method === "GET")).toHaveLength(1);
    } finally {
      await slow.close();
    }
  });

  it.each(["create", "read", "update", "delete"] as const)(
    "%s: echoed credentials are redacted whole and in part",
    async (operation) => {
      const { id, outs } = await existing();
      const method = { create: "POST", read: "GET", update: "PATCH", delete: "DELETE" }[operation];
      emulator.inject({ kind: "echo", method });
      const news = await checked({ label: "New", properties: { writeKey: WRITE_KEY_2, destinationRegion: "US" } });
      const run = {
        create: () => provider.create(news),
        read: () => provider.read(id, outs),
        update: () => provider.update(id, outs, news),
        delete: () => provider.delete(id, outs),
      }[operation];
      const error = await rejectionOf(run());
      expectNoSecretPart(error.message);
      expect(error.message).toContain("invalid request with Authorization: Bearer [redacted] and write_key=[redacted]");
      expect(error.message).toContain('write key rejected (field "write_key=[redacted]")');
    },
  );
});
