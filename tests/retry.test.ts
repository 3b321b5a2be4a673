// The retry policy that drives got's retries (provider/retry.ts).
import { describe, expect, it, vi } from "vitest";
import {
  DEFAULT_RETRY,
  DNS_ATTEMPTS,
  decideRetry,
  NEVER_SENT,
  neverSent,
  RATE_LIMIT_JITTER,
  RETRY_STATUS,
  rateLimitWait,
} from "../provider/retry";

const NOW = 1_800_000_000_000;
const tuning = { ...DEFAULT_RETRY, budgetMs: 60_000, rateLimitJitterMs: 0 };
const attempt = (over: Partial<Parameters<typeof decideRetry>[0]>) => ({
  attemptCount: 1,
  method: "GET",
  startedAt: NOW,
  ...over,
});
const decide = (over: Partial<Parameters<typeof decideRetry>[0]>, random = () => 0.5) =>
  decideRetry(attempt(over), tuning, NOW, random);

describe("retry policy", () => {
  it.each(["GET", "POST", "PATCH", "DELETE"])("retries a 429 for %s, waiting until X-RateLimit-Reset", (method) => {
    const reset = String((NOW + 7_000) / 1000);
    expect(decide({ method, status: 429, headers: { "x-ratelimit-reset": reset } }, () => 0).delayMs).toBe(7_000);
  });

  it("prefers Retry-After (seconds or HTTP date) over X-RateLimit-Reset", () => {
    const headers = { "retry-after": "2", "x-ratelimit-reset": String((NOW + 30_000) / 1000) };
    expect(decide({ status: 429, headers }, () => 0).delayMs).toBe(2_000);
    expect(rateLimitWait({ "retry-after": new Date(NOW + 5_000).toUTCString() }, NOW)).toBe(5_000);
  });

  it("adds at most rateLimitJitterMs to a short rate-limit wait", () => {
    const d = decideRetry(
      attempt({ status: 429, headers: { "retry-after": "1" } }),
      { ...tuning, rateLimitJitterMs: 300 },
      NOW,
      () => 0.999,
    );
    expect(d.delayMs).toBeGreaterThan(1_000);
    expect(d.delayMs).toBeLessThanOrEqual(1_300);
  });

  it("spreads a long rate-limit wait by up to a tenth of it, so waiters do not all return together", () => {
    const headers = { "retry-after": "10" };
    expect(RATE_LIMIT_JITTER).toBe(0.1);
    expect(decideRetry(attempt({ status: 429, headers }), tuning, NOW, () => 0).delayMs).toBe(10_000);
    expect(decideRetry(attempt({ status: 429, headers }), tuning, NOW, () => 0.5).delayMs).toBe(10_500);
    expect(decideRetry(attempt({ status: 429, headers }), tuning, NOW, () => 1).delayMs).toBe(11_000);
  });

  it.each([
    ["a reset already past (a local clock running fast)", { "x-ratelimit-reset": String((NOW - 5_000) / 1000) }],
    ["a reset right now", { "x-ratelimit-reset": String(NOW / 1000) }],
    ["Retry-After: 0", { "retry-after": "0" }],
    ["a Retry-After date already past", { "retry-after": new Date(NOW - 3_000).toUTCString() }],
  ])("a 429 whose wait is zero or less (%s) backs off as for a 5xx, never a tight loop", (_, headers) => {
    // The backoff grows with such 429s in a row, as a 5xx's grows with attempts.
    for (const pastResets of [0, 2, 5]) {
      const backoff = decide({ status: 503, attemptCount: pastResets + 1 }, () => 0).delayMs;
      const past = decide({ status: 429, headers, attemptCount: 9, pastResets }, () => 0);
      expect(past).toEqual({ delayMs: backoff, pastReset: true });
      expect(decide({ status: 429, headers, attemptCount: 9, pastResets }, () => 1).delayMs).toBe(backoff * 2);
    }
    expect(decide({ status: 429, headers, method: "POST" }, () => 0).delayMs).toBe(125); // a 429 was not processed
  });

  it("a reset that passed a moment ago costs one short step, however many waits came before", () => {
    const justPast = { "x-ratelimit-reset": String((NOW - 10) / 1000) };
    expect(decide({ status: 429, headers: justPast, attemptCount: 6 }, () => 1).delayMs).toBe(250);
    // A 429 with a wait ahead says nothing of past resets.
    const ahead = decide({ status: 429, headers: { "retry-after": "1" } }, () => 0);
    expect(ahead).toEqual({ delayMs: 1000 });
  });

  it("does not wait for a rate limit beyond the budget", () => {
    const reset = String((NOW + 61_000) / 1000);
    expect(decide({ status: 429, headers: { "x-ratelimit-reset": reset } })).toEqual({ delayMs: 0, reason: "budget" });
    expect(decide({ status: 429, headers: { "retry-after": "5" }, startedAt: NOW - 58_000 }).reason).toBe("budget");
  });

  it.each([500, 502, 503, 504])("backs off exponentially with jitter on %i for idempotent methods", (status) => {
    for (const method of ["GET", "PATCH", "DELETE"]) {
      const first = decide({ method, status, attemptCount: 1 }, () => 0).delayMs;
      const third = decide({ method, status, attemptCount: 3 }, () => 0).delayMs;
      expect(first).toBe(125); // half of the 250 ms step, no jitter drawn
      expect(third).toBe(500);
      expect(decide({ method, status, attemptCount: 3 }, () => 0.999).delayMs).toBeLessThanOrEqual(1_000);
    }
  });

  it("caps a single backoff step", () => {
    expect(decide({ status: 503, attemptCount: 30 }, () => 0.999).delayMs).toBeLessThanOrEqual(
      DEFAULT_RETRY.maxBackoffMs,
    );
  });

  it.each([400, 401, 403, 404, 405, 409, 422])("never retries %i", (status) => {
    for (const method of ["GET", "POST", "PATCH", "DELETE"]) expect(decide({ method, status }).delayMs).toBe(0);
  });

  it("retries timeouts and resets for GET, PATCH and DELETE", () => {
    for (const method of ["GET", "PATCH", "DELETE"]) {
      for (const code of ["ETIMEDOUT", "ECONNRESET", "EPIPE"])
        expect(decide({ method, code }).delayMs).toBeGreaterThan(0);
    }
  });

  it("leaves an ambiguous POST failure (5xx, timeout, reset) to reconciliation", () => {
    for (const failure of [{ status: 500 }, { status: 503 }, { code: "ETIMEDOUT" }, { code: "ECONNRESET" }]) {
      expect(decide({ method: "POST", ...failure })).toEqual({ delayMs: 0, reason: "ambiguous" });
    }
  });

  it("retries a POST that provably never left (connection refused, DNS)", () => {
    expect(decide({ method: "POST", code: "ECONNREFUSED" }).delayMs).toBeGreaterThan(0);
    expect(decide({ method: "POST", code: "EAI_AGAIN" }).delayMs).toBeGreaterThan(0);
  });

  it("does not retry unknown error codes, nor anything once the budget is spent", () => {
    expect(decide({ code: "ERR_TLS_CERT_ALTNAME_INVALID" }).delayMs).toBe(0);
    expect(decide({ status: 503, startedAt: NOW - 60_000 }).reason).toBe("budget");
  });
});

describe("retry policy: edges", () => {
  it("a 429 without any hint waits one second (plus jitter), never NaN", () => {
    expect(rateLimitWait({}, NOW)).toBe(1000);
    expect(decide({ status: 429, headers: {} }, () => 0).delayMs).toBe(1000);
    expect(
      decideRetry(attempt({ status: 429, headers: {} }), { ...tuning, rateLimitJitterMs: 50 }, NOW, () => 1).delayMs,
    ).toBe(1100); // a tenth of the wait is more than 50 ms
    expect(
      decideRetry(attempt({ status: 429, headers: {} }), { ...tuning, rateLimitJitterMs: 400 }, NOW, () => 1).delayMs,
    ).toBe(1400);
  });

  it("an unparseable Retry-After falls back to X-RateLimit-Reset, then to one second", () => {
    const reset = String((NOW + 7000) / 1000);
    expect(rateLimitWait({ "retry-after": "soon", "x-ratelimit-reset": reset }, NOW)).toBe(7000);
    expect(rateLimitWait({ "retry-after": "soon" }, NOW)).toBe(1000);
    expect(rateLimitWait({ "x-ratelimit-reset": "0" }, NOW)).toBe(1000);
    expect(rateLimitWait({ "x-ratelimit-reset": "abc" }, NOW)).toBe(1000);
    expect(rateLimitWait({ "retry-after": ["3", "9"] }, NOW)).toBe(3000);
    expect(rateLimitWait({ "x-ratelimit-reset": String((NOW - 5000) / 1000) }, NOW)).toBe(0);
    expect(rateLimitWait({ "retry-after": "-2" }, NOW)).toBe(0);
  });

  it("waits up to exactly the budget, and not a millisecond beyond", () => {
    const at = (elapsed: number) => decide({ status: 503, startedAt: NOW - elapsed }, () => 0);
    // First step: 250 ms with "equal jitter" and random 0 → 125 ms.
    expect(at(60_000 - 125)).toEqual({ delayMs: 125 });
    expect(at(60_000 - 124)).toEqual({ delayMs: 0, reason: "budget" });
  });

  it("backoff never shrinks below half a step, and doubles per attempt up to the cap", () => {
    const step = (attemptCount: number, random: number) => decide({ status: 500, attemptCount }, () => random).delayMs;
    expect(step(1, 0)).toBe(125);
    expect(step(1, 1)).toBe(250);
    expect(step(3, 0)).toBe(500);
    expect(step(3, 1)).toBe(1000);
    expect(step(20, 0)).toBe(5000);
    expect(step(20, 1)).toBe(10_000);
  });

  it("says why it stops: final for other statuses and codes, ambiguous for a sent POST, budget when spent", () => {
    expect(decide({ status: 400 })).toEqual({ delayMs: 0, reason: "final" });
    expect(decide({ code: "ENOTFOUND" })).toEqual({ delayMs: 0, reason: "final" });
    expect(decide({ method: "POST", status: 503 })).toEqual({ delayMs: 0, reason: "ambiguous" });
    expect(decide({ method: "POST", code: "ECONNRESET" })).toEqual({ delayMs: 0, reason: "ambiguous" });
    expect(decide({ method: "POST", code: "ECONNREFUSED" }).delayMs).toBeGreaterThan(0);
  });
});

describe("network errors: sent or not", () => {
  it("never-sent is an explicit list: DNS, the connection, the TLS handshake, Node's own refusals", () => {
    expect(NEVER_SENT).toContain("ECONNREFUSED");
    expect(NEVER_SENT).toContain("ENOTFOUND");
    expect(NEVER_SENT).toContain("CERT_HAS_EXPIRED");
    expect(NEVER_SENT).toContain("ERR_INVALID_CHAR");
    for (const sent of [
      "ETIMEDOUT",
      "ECONNRESET",
      "EPIPE",
      "ECONNABORTED",
      "ERR_STREAM_PREMATURE_CLOSE",
      "HPE_INVALID_CONSTANT",
    ])
      expect(NEVER_SENT).not.toContain(sent);
  });

  it.each([
    // [code, provably never sent, GET retried, POST retried]
    ["ECONNREFUSED", true, true, true],
    ["ENETUNREACH", true, true, true],
    ["EHOSTUNREACH", true, true, true],
    ["EADDRINUSE", true, true, true],
    ["EAI_AGAIN", true, true, true],
    // A host that does not exist, a certificate refused, a request Node refused: final at once.
    ["ENOTFOUND", true, false, false],
    ["ERR_TLS_CERT_ALTNAME_INVALID", true, false, false],
    ["CERT_HAS_EXPIRED", true, false, false],
    ["ERR_INVALID_CHAR", true, false, false],
    // After sending, or not known: may have reached the server. Idempotent calls retry; POST settles.
    ["ETIMEDOUT", false, true, false],
    ["ECONNRESET", false, true, false],
    ["EPIPE", false, true, false],
    ["ECONNABORTED", false, true, false],
    ["ERR_STREAM_PREMATURE_CLOSE", false, true, false],
    ["HPE_INVALID_CONSTANT", false, true, false],
    ["HPE_UNEXPECTED_CONTENT_LENGTH", false, true, false],
    ["ERR_SOMETHING_NEW", false, true, false],
    [undefined, false, true, false],
  ] as const)("%s: never sent %s; GET retried %s; POST retried %s", (code, never, get, post) => {
    expect(neverSent(code)).toBe(never);
    expect(decide({ method: "GET", code }).delayMs > 0).toBe(get);
    expect(decide({ method: "DELETE", code }).delayMs > 0).toBe(get);
    expect(decide({ method: "POST", code }).delayMs > 0).toBe(post);
    if (never && !post) expect(decide({ method: "POST", code }).reason).toBe("final");
    if (!never && !post) expect(decide({ method: "POST", code }).reason).toBe("ambiguous");
  });

  it(`a name that cannot be resolved for now gets ${DNS_ATTEMPTS} quick tries, not a whole budget`, () => {
    expect(decide({ code: "EAI_AGAIN", attemptCount: DNS_ATTEMPTS - 1 }).delayMs).toBeGreaterThan(0);
    expect(decide({ code: "EAI_AGAIN", attemptCount: DNS_ATTEMPTS })).toEqual({ delayMs: 0, reason: "final" });
    expect(decide({ method: "POST", code: "EAI_AGAIN", attemptCount: DNS_ATTEMPTS })).toEqual({
      delayMs: 0,
      reason: "final",
    });
    // Other passing failures go on until the budget.
    expect(decide({ code: "ECONNREFUSED", attemptCount: DNS_ATTEMPTS }).delayMs).toBeGreaterThan(0);
  });

  it("gateways' 520-524 are retried like 502 and 504 for idempotent calls, and settled for POST", () => {
    expect(RETRY_STATUS).toEqual([429, 500, 502, 503, 504, 520, 521, 522, 523, 524]);
    for (const status of [520, 521, 522, 523, 524]) {
      expect(decide({ method: "PATCH", status }).delayMs).toBeGreaterThan(0);
      expect(decide({ method: "POST", status })).toEqual({ delayMs: 0, reason: "ambiguous" });
    }
    expect(decide({ method: "GET", status: 501 })).toEqual({ delayMs: 0, reason: "final" });
  });
});

// What the module defines as it loads (its lists of codes and methods, the default tuning, the
// helpers built as constants): loaded afresh inside each test, so the test reads what that load made.
describe("the policy as the module loads", () => {
  const fresh = async () => {
    vi.resetModules();
    return import("../provider/retry.js");
  };

  it("GET, PATCH and DELETE are retried after a 503; POST is left to reconciliation", async () => {
    const { decideRetry } = await fresh();
    const after503 = (method: string) => decideRetry(attempt({ method, status: 503 }), tuning, NOW, () => 0);
    expect(["GET", "PATCH", "DELETE", "POST"].map(after503)).toEqual([
      { delayMs: 125 },
      { delayMs: 125 },
      { delayMs: 125 },
      { delayMs: 0, reason: "ambiguous" },
    ]);
  });

  it("a reset is retried for GET; a refused connection, never sent, for POST too; a name that does not exist never", async () => {
    const { decideRetry, neverSent, NO_SUCH_HOST } = await fresh();
    const failing = (method: string, code: string) => decideRetry(attempt({ method, code }), tuning, NOW, () => 0);
    expect(failing("GET", "ECONNRESET")).toEqual({ delayMs: 125 });
    expect(failing("POST", "ECONNREFUSED")).toEqual({ delayMs: 125 });
    expect(neverSent("ECONNREFUSED")).toBe(true);
    expect(neverSent("ECONNRESET")).toBe(false);
    expect(failing("GET", NO_SUCH_HOST)).toEqual({ delayMs: 0, reason: "final" });
    expect(failing("GET", "ENOTFOUND")).toEqual({ delayMs: 0, reason: "final" });
  });

  it(`a name that cannot be resolved for now stops after ${DNS_ATTEMPTS} tries`, async () => {
    const { decideRetry, DNS_TRY_AGAIN } = await fresh();
    const tryAgain = (attemptCount: number) =>
      decideRetry(attempt({ code: DNS_TRY_AGAIN, attemptCount }), tuning, NOW, () => 0);
    expect(DNS_TRY_AGAIN).toBe("EAI_AGAIN");
    expect(tryAgain(DNS_ATTEMPTS - 1).delayMs).toBeGreaterThan(0);
    expect(tryAgain(DNS_ATTEMPTS)).toEqual({ delayMs: 0, reason: "final" });
  });

  it("the default tuning: a 250 ms first step doubling up to 10 s, rate-limit jitter of at least 50 ms, 2 minutes in all", async () => {
    const { decideRetry, DEFAULT_RETRY: defaults } = await fresh();
    const at = (over: Partial<Parameters<typeof decideRetry>[0]>, now = NOW) =>
      decideRetry(attempt(over), defaults, now, () => 1).delayMs;
    expect(at({ status: 503 })).toBe(250);
    expect(at({ status: 503, attemptCount: 3 })).toBe(1_000);
    expect(at({ status: 503, attemptCount: 12 })).toBe(10_000);
    expect(at({ status: 429, headers: { "retry-after": "0.2" } })).toBe(250);
    expect(at({ status: 503 }, NOW + 119_750)).toBe(250);
    expect(at({ status: 503 }, NOW + 119_751)).toBe(0);
  });
});
