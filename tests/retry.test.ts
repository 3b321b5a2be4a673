// The retry policy that drives got's retries (provider/retry.ts).
import { describe, expect, it } from "vitest";
import { DEFAULT_RETRY, decideRetry, rateLimitWait } from "../provider/retry";

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
    expect(decide({ method, status: 429, headers: { "x-ratelimit-reset": reset } }).delayMs).toBe(7_000);
  });

  it("prefers Retry-After (seconds or HTTP date) over X-RateLimit-Reset", () => {
    const headers = { "retry-after": "2", "x-ratelimit-reset": String((NOW + 30_000) / 1000) };
    expect(decide({ status: 429, headers }).delayMs).toBe(2_000);
    expect(rateLimitWait({ "retry-after": new Date(NOW + 5_000).toUTCString() }, NOW)).toBe(5_000);
  });

  it("adds at most rateLimitJitterMs to a rate-limit wait", () => {
    const d = decideRetry(
      attempt({ status: 429, headers: { "retry-after": "1" } }),
      { ...tuning, rateLimitJitterMs: 200 },
      NOW,
      () => 0.999,
    );
    expect(d.delayMs).toBeGreaterThan(1_000);
    expect(d.delayMs).toBeLessThanOrEqual(1_200);
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
