/**
 * The retry policy, as got's `retry.calculateDelay`: got performs every retry; this decides whether
 * and when. Pure, so it is tested on its own.
 *
 * - 429 was not processed, so every method (POST included) retries: it waits for `Retry-After`
 *   when present, else until `X-RateLimit-Reset` (a Unix timestamp in seconds), plus jitter of up to
 *   a tenth of the wait (at least `rateLimitJitterMs`) so waiting clients do not all arrive at once.
 *   A wait that comes out at zero or less (`Retry-After: 0`, a reset already past: a local clock
 *   running fast) backs off as for a 5xx instead, so a 429 is never retried in a tight loop; the
 *   backoff grows with such 429s in a row (`pastResets`), not with the waits already honoured, so
 *   a reset that passed a moment ago (a window boundary) costs one short step.
 * - 500/502/503/504, timeouts and connection errors back off exponentially with jitter, for GET,
 *   PATCH and DELETE (idempotent). For POST only errors that prove nothing was sent are retried
 *   here; an ambiguous POST failure is reconciled by the caller (see `create` in dynamic.ts).
 * - Other statuses (400, 401, 403, 404, ...) are final.
 * - Nothing waits beyond the overall retry budget, counted from the first attempt.
 */

export const RETRY_STATUS = [429, 500, 502, 503, 504] as const;

/** Connection failures that got reports by code. */
export const RETRY_ERROR_CODES = [
  "ETIMEDOUT",
  "ECONNRESET",
  "EPIPE",
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ENETUNREACH",
  "EADDRINUSE",
] as const;

/** Failures that happen before a request is written: safe to retry for any method. */
const NOT_SENT = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ENETUNREACH", "EADDRINUSE"]);

/**
 * The network failures after which a request may have reached the server: no answer in time, or
 * the connection broken once the request could have been written. An explicit list: any other
 * failure (a header Node refuses, a TLS certificate it rejects, an unknown local error) happens
 * before anything is sent, so it is final and certain.
 */
export const MAY_HAVE_BEEN_SENT = [
  "ETIMEDOUT",
  "ECONNRESET",
  "EPIPE",
  "ECONNABORTED",
  "ERR_STREAM_PREMATURE_CLOSE",
] as const;

/** Whether a request that failed with this network error code may have reached the server. */
export const mayHaveBeenSent = (code: string | undefined): boolean =>
  (MAY_HAVE_BEEN_SENT as readonly (string | undefined)[]).includes(code);

const IDEMPOTENT = new Set(["GET", "PATCH", "DELETE"]); // every method the client sends but POST

export interface RetryTuning {
  /** Overall time a call may spend, first attempt to last retry, in ms. */
  budgetMs: number;
  /** First backoff step in ms; doubles each attempt. */
  baseMs: number;
  /** Largest single backoff step in ms (rate-limit waits are bounded by the budget instead). */
  maxBackoffMs: number;
  /** Least jitter added to a rate-limit wait, in ms (a tenth of the wait when that is more). */
  rateLimitJitterMs: number;
}

export const DEFAULT_RETRY: RetryTuning = {
  budgetMs: 120_000,
  baseMs: 250,
  maxBackoffMs: 10_000,
  rateLimitJitterMs: 50,
};

/** What got tells calculateDelay about a failed attempt, reduced to what the policy uses. */
export interface FailedAttempt {
  attemptCount: number;
  method: string;
  status?: number;
  code?: string;
  headers?: Record<string, string | string[] | undefined>;
  /** When the first attempt started (ms since epoch). */
  startedAt: number;
  /** How many 429s in a row before this one had a wait of zero or less. */
  pastResets?: number;
}

export interface RetryDecision {
  delayMs: number;
  /** Why it stops, when delayMs is 0. */
  reason?: string;
  /** This 429's wait was zero or less (the caller counts these in a row, see `pastResets`). */
  pastReset?: boolean;
}

export function decideRetry(
  attempt: FailedAttempt,
  tuning: RetryTuning,
  now: number = Date.now(),
  random: () => number = Math.random,
): RetryDecision {
  const { status, code, method } = attempt;
  let delayMs: number;
  let pastReset = false;
  if (status === 429) {
    const wait = rateLimitWait(attempt.headers ?? {}, now);
    pastReset = wait <= 0;
    delayMs = pastReset
      ? backoff((attempt.pastResets ?? 0) + 1, tuning, random)
      : wait + random() * Math.max(tuning.rateLimitJitterMs, wait * RATE_LIMIT_JITTER);
  } else if (status !== undefined) {
    if (!(RETRY_STATUS as readonly number[]).includes(status)) return { delayMs: 0, reason: "final" };
    if (!IDEMPOTENT.has(method)) return { delayMs: 0, reason: "ambiguous" };
    delayMs = backoff(attempt.attemptCount, tuning, random);
  } else {
    if (!code || !(RETRY_ERROR_CODES as readonly string[]).includes(code)) return { delayMs: 0, reason: "final" };
    if (!IDEMPOTENT.has(method) && !NOT_SENT.has(code)) return { delayMs: 0, reason: "ambiguous" };
    delayMs = backoff(attempt.attemptCount, tuning, random);
  }
  const elapsed = now - attempt.startedAt;
  if (elapsed + delayMs > tuning.budgetMs) return { delayMs: 0, reason: "budget" };
  return { delayMs: Math.max(1, Math.round(delayMs)), ...(pastReset ? { pastReset } : {}) };
}

/**
 * The share of a rate-limit wait added at most as jitter: with at most 10 waiters per account
 * (client.ts), a 1 s wait spreads them about 10 ms apart, and a burst under a rate limit is not
 * slowed by more than that tenth.
 */
export const RATE_LIMIT_JITTER = 0.1;

/** Exponential backoff with "equal jitter": half fixed, half random, so waits never collapse to 0. */
function backoff(attemptCount: number, tuning: RetryTuning, random: () => number): number {
  const step = Math.min(tuning.maxBackoffMs, tuning.baseMs * 2 ** (attemptCount - 1));
  return step / 2 + random() * (step / 2);
}

/** How long a 429 asks us to wait: Retry-After (seconds or a date), else X-RateLimit-Reset. */
export function rateLimitWait(headers: Record<string, string | string[] | undefined>, now: number): number {
  const header = (name: string) => {
    const v = headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const retryAfter = header("retry-after"); // absent, it reads as NaN both ways and falls through
  const seconds = Number(retryAfter);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(String(retryAfter));
  if (!Number.isNaN(date)) return Math.max(0, date - now);
  const reset = Number(header("x-ratelimit-reset"));
  if (Number.isFinite(reset) && reset > 0) return Math.max(0, reset * 1000 - now);
  return 1000; // a 429 without a hint: wait a second
}
