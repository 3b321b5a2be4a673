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
 * - 500/502/503/504 and gateways' 520-524, timeouts, resets, garbled answers and other passing
 *   network failures back off exponentially with jitter, for GET, PATCH and DELETE (idempotent).
 *   For POST only failures that prove nothing was sent (`NEVER_SENT`) are retried here; any other
 *   POST failure may have created the integration, and is settled by the caller (reconcile.ts).
 * - A host name that does not exist, a certificate the handshake refused, or a request Node would
 *   not send is final at once; a name that cannot be resolved for now gets `DNS_ATTEMPTS` quick
 *   tries. These come from settings, so the caller names the setting (client.ts).
 * - Other statuses (400, 401, 403, 404, ...) are final.
 * - Nothing waits beyond the overall retry budget, counted from when the call was made (time spent
 *   waiting for one of the account's concurrency slots counts).
 */

/**
 * Statuses worth another try for an idempotent call: rate limited, or a server or gateway that
 * failed (Cloudflare's 520-524 included: the origin may be fine a moment later).
 */
export const RETRY_STATUS = [429, 500, 502, 503, 504, 520, 521, 522, 523, 524] as const;

/**
 * Failures that prove the request never left this machine and may pass (a server restarting, a
 * network or name server coming back): retried, for any method.
 */
const PASSING_NEVER_SENT = [
  "EAI_AGAIN", // name resolution failing for now
  "ECONNREFUSED",
  "ENETUNREACH",
  "ENETDOWN",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "EADDRNOTAVAIL",
  "EADDRINUSE",
] as const;

/**
 * Failures that prove the request never left this machine, and that retrying only repeats: a name
 * that does not exist, a certificate the TLS handshake refused (the request is written only after
 * it), a request Node refused to send. Final at once, whatever the method.
 */
const FINAL_NEVER_SENT = [
  "ENOTFOUND",
  "EAI_FAIL",
  "EAI_NODATA",
  "EAI_NONAME",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_REVOKED",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "ERR_SSL_WRONG_VERSION_NUMBER",
  "ERR_INVALID_CHAR",
  "ERR_HTTP_INVALID_HEADER_VALUE",
  "ERR_INVALID_HTTP_TOKEN",
  "ERR_INVALID_URL",
] as const;

/**
 * Failures that prove the request never left this machine: the name did not resolve, the
 * connection was never made, the TLS handshake refused the server's certificate, or Node refused
 * the request itself. Nothing else proves it: a reset, a timeout, an answer no HTTP parser accepts
 * (`HPE_*`), an unknown code, all may follow a request the server received and committed.
 */
export const NEVER_SENT: readonly string[] = [...PASSING_NEVER_SENT, ...FINAL_NEVER_SENT];

/** Whether a request that failed with this network error code provably never reached the server. */
export const neverSent = (code: string | undefined): boolean =>
  (NEVER_SENT as readonly (string | undefined)[]).includes(code);

/** A name that does not exist: retrying cannot help, and the host comes from a setting. */
export const NO_SUCH_HOST = "ENOTFOUND";
/** Name resolution failing for now (no DNS reachable): a couple of quick tries, then give up. */
export const DNS_TRY_AGAIN = "EAI_AGAIN";
/** Attempts for a name that does not resolve for now: fails within about a second, not a budget. */
export const DNS_ATTEMPTS = 3;

const FINAL_CODES = new Set<string>(FINAL_NEVER_SENT);

/** Whether a network failure may be a passing one, worth another try for an idempotent call. */
const passing = (code: string) => !FINAL_CODES.has(code);

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
    // No answer: a network failure (got always gives one a code; an unknown one is not final).
    // Stryker disable next-line StringLiteral: a code in none of the lists ("" too) is passing and not never-sent alike
    const failure = code ?? "ERR_UNKNOWN";
    if (!passing(failure)) return { delayMs: 0, reason: "final" };
    if (failure === DNS_TRY_AGAIN && attempt.attemptCount >= DNS_ATTEMPTS) return { delayMs: 0, reason: "final" };
    if (!IDEMPOTENT.has(method) && !neverSent(failure)) return { delayMs: 0, reason: "ambiguous" };
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
