/**
 * The one HTTP client for the Integrations API, on `got`: base URL, Bearer auth, JSON, a timeout
 * per attempt covering the whole answer (a body that stalls times out too), and a User-Agent
 * naming this package and version. Each method is one logical API call; retries are got's,
 * driven by the policy in `retry.ts`, never loops here.
 *
 * Nothing on the wire is trusted: redirects are never followed (the API never redirects, and
 * following one would send the body and key elsewhere), answers are read up to `MAX_ANSWER_BYTES`,
 * and every 2xx body is validated (`wire.ts`) before it is returned. Errors are `ApiError`,
 * `ResponseError` or `RequestError`, redacted of the API key and the write keys in scope, and
 * name the setting to check where one is the likely cause (a host that does not resolve, a key
 * refused, a route that does not exist).
 *
 * Plain http goes straight to its (loopback) host through an agent of our own, never through a
 * proxy the environment names (Node 24's NODE_USE_ENV_PROXY): the Authorization header must not
 * travel in clear text to another process. https uses Node's global agent, so a proxy is used
 * only when the user turns that on (NODE_USE_ENV_PROXY with HTTPS_PROXY); TLS is end to end.
 *
 * Every call of one account (API key and host) goes through the same concurrency limiter, in
 * whatever part of the process it is made (operations, the list function, the plugin's Invoke).
 * Each call may carry a `Control` (control.ts): the engine's custom timeout or Cancel stops its
 * requests and its retry waits.
 */
import { createHash } from "node:crypto";
import { Agent as HttpAgent } from "node:http";
import type { Settings } from "./config";
import { requireApiKey } from "./config";
import { type Control, type Stopped, stoppedBy, UNBOUNDED } from "./control";
import {
  ApiError,
  clip,
  type ErrorAdvice,
  InvalidIdError,
  ListRouteError,
  type Operation,
  RequestError,
  ResponseError,
} from "./errors";
import { PACKAGE_NAME, PACKAGE_VERSION } from "./package";
import { DEFAULT_RETRY, DNS_TRY_AGAIN, decideRetry, NO_SUCH_HOST, neverSent, type RetryTuning } from "./retry";
import { INTEGRATION_ID, type IntegrationInputs } from "./types";
import {
  type IdentifiedWireIntegration,
  type Listing,
  parseIntegration,
  parseIntegrationList,
  type UnusableAnswer,
  type WireIntegrationInput,
  type WireIntegrationPatch,
} from "./wire";

export type { Listing };

// got is ESM-only; this CommonJS module names its types through import-mode type queries.
type Got = import("got", { with: { "resolution-mode": "import" }}).Got;
type GotResponse = import("got", { with: { "resolution-mode": "import" }}).Response<unknown>;
type GotPromise = import("got", { with: { "resolution-mode": "import" }}).CancelableRequest<GotResponse>;
type LimitFunction = import("p-limit", { with: { "resolution-mode": "import" }}).LimitFunction;

const PATH = "v3/marketing/integrations";

/** The largest answer read; a list of 10 integrations is a few KiB. */
export const MAX_ANSWER_BYTES = 256 * 1024;

/**
 * API calls one account has under way at once; more wait their turn. A call keeps its place
 * while it waits to retry, so a burst of 429s wakes at most this many callers at once.
 */
export const MAX_CONCURRENT_CALLS = 10;

export function assertIntegrationId(id: unknown): asserts id is string {
  if (typeof id !== "string" || !INTEGRATION_ID.test(id)) throw new InvalidIdError(id);
}

/** Who a call acts for, and the write keys it may touch (redacted from every error it raises). */
export interface Scope {
  onBehalfOf?: string | undefined;
  writeKeys?: readonly (string | undefined)[];
}

/**
 * The scope of a call about integrations described by `known` (desired state first, then any state
 * it replaces): the first one's subuser, and every write key among them.
 */
export function scopeOf(...known: IntegrationInputs[]): Scope {
  return {
    onBehalfOf: known[0]?.onBehalfOf,
    writeKeys: known.map((k) => k.properties.writeKey).filter((key) => typeof key === "string"),
  };
}

/**
 * Per-call bookkeeping, carried across got's retries as `options.context.call` (got copies the
 * context object itself, so the record is one level down to be shared by reference).
 */
interface CallContext {
  /** When the call was made: time spent waiting for a concurrency slot counts toward the budget. */
  startedAt: number;
  attempts: number;
  stopReason?: string;
  /** 429s in a row whose wait was zero or less (see retry.ts). */
  pastResets: number;
  control: Control;
}

/**
 * The limiter of each account (API key at a host), shared by every client of this process. Keyed
 * by a digest: no key is kept in a map's keys.
 */
const limiters = new Map<string, LimitFunction>();
const limiterKey = (settings: Settings, apiKey: string) =>
  createHash("sha256").update(`${settings.baseUrl}\0${apiKey}`).digest("hex");

/**
 * What state records of the API key that last saw an integration (`sendgridKeyDigest`, a Pulumi
 * secret): a one-way digest, so state can tell the same key from another without holding it. A key
 * belongs to one SendGrid account for good, so a listing made with the same key is that account's.
 */
export const keyDigest = (apiKey: string): string =>
  createHash("sha256").update(`pulumi-sendgrid-segment key\0${apiKey}`).digest("hex").slice(0, 32);

/** Plain http (loopback only, see config.ts) goes direct: never to a proxy from the environment. */
const directHttp = new HttpAgent({ keepAlive: true });

/** A Stopped operation's requests that had not left yet fail with this code: nothing was sent. */
export const STOPPED_BEFORE_SENDING = "ERR_STOPPED_BEFORE_SENDING";

/**
 * Start loading got without waiting for it. Called from configure: the engine's first API call
 * comes a little later (after check, usually after the program registers resources), so loading
 * got's ESM graph (~75 ms cold) overlaps with that instead of delaying the first create.
 */
// Stryker disable next-line BlockStatement: loading early only saves time; the first request loads got anyway
export function preloadHttp(): void {
  // a real failure surfaces at the first request
  // Stryker disable next-line ArrayDeclaration: (as above) the first request loads both modules anyway
  Promise.all([import("got"), import("p-limit")]).catch(() => undefined);
}

export class IntegrationsClient {
  private constructor(
    private readonly http: Got,
    private readonly apiKey: string,
    private readonly limit: LimitFunction,
    /** The settings this client was made from: host, region, and where each was set (for messages). */
    readonly settings: Settings,
  ) {}

  /** The digest of this client's API key (see `keyDigest`). */
  get keyDigest(): string {
    return keyDigest(this.apiKey);
  }

  /**
   * How long a server may still be working on a request after its attempt timed out: one
   * request timeout. Reconciliation waits this long before it concludes a write was not made.
   */
  get settleMs(): number {
    return this.settings.requestTimeoutMs;
  }

  /** What an error names as the settings to check. */
  get advice(): ErrorAdvice {
    const host = new URL(this.settings.baseUrl).host;
    return {
      apiKey: this.settings.sources.apiKey,
      apiBaseUrl: this.settings.sources.apiBaseUrl,
      region: this.settings.sources.region,
      regionName: this.settings.region,
      host,
      baseUrl: this.settings.baseUrl,
    };
  }

  /** got is ESM-only: it is imported when the first client is made, in the provider process. */
  static async create(settings: Settings): Promise<IntegrationsClient> {
    const apiKey = requireApiKey(settings);
    const policy: RetryTuning = { ...DEFAULT_RETRY, budgetMs: settings.retryBudgetMs };
    const [{ default: got }, { default: pLimit }] = await Promise.all([import("got"), import("p-limit")]);
    const key = limiterKey(settings, apiKey);
    let limit = limiters.get(key);
    if (!limit) {
      limit = pLimit(MAX_CONCURRENT_CALLS);
      limiters.set(key, limit);
    }
    const http = got.extend({
      prefixUrl: settings.baseUrl,
      headers: {
        authorization: `Bearer ${apiKey}`,
        "user-agent": USER_AGENT,
        accept: "application/json",
      },
      agent: { http: directHttp },
      responseType: "buffer",
      followRedirect: false,
      timeout: { request: settings.requestTimeoutMs },
      // got always asks calculateDelay (its enforceRetryRules is off), so got's own limit, methods,
      // status and error-code lists would only shape a suggestion we ignore: retry.ts decides.
      retry: {
        calculateDelay: ({ attemptCount, error }) => {
          const context = (error.options.context as { call: CallContext }).call;
          // equivalent ConditionalExpression: (for false) got destroys the request with its AbortError the moment the control fires, before any retry decision; going on only leaves the dead request a retry timer
          if (stoppedBy(context.control)) return 0; // a timeout or Cancel from outside: no more tries
          const deadline = context.control.deadline;
          const decision = decideRetry(
            {
              attemptCount,
              method: error.options.method,
              // Only an HTTP error status counts as a status: a timeout or reset while reading a
              // 2xx body is a network failure, retried as one. (got's HTTPError always has its response.)
              status: error.name === "HTTPError" ? error.response!.statusCode : undefined,
              code: error.code,
              headers: error.response?.headers,
              startedAt: context.startedAt,
              pastResets: context.pastResets,
            },
            // An operation's own time limit bounds its retries too.
            deadline === undefined
              ? policy
              : { ...policy, budgetMs: Math.min(policy.budgetMs, deadline - context.startedAt) },
          );
          context.attempts = attemptCount;
          context.stopReason = decision.reason;
          context.pastResets = decision.pastReset ? context.pastResets + 1 : 0;
          return decision.delayMs;
        },
      },
    });
    return new IntegrationsClient(http, apiKey, limit, settings);
  }

  async create(
    body: WireIntegrationInput,
    scope: Scope = {},
    control: Control = UNBOUNDED,
  ): Promise<IdentifiedWireIntegration> {
    const s = withKey(scope, body.properties.write_key);
    const response = await this.call("create", describeNew(body), s, control, (options) =>
      this.http.post(PATH, { json: body, headers: behalf(s), ...options }),
    );
    return this.answer("create", describeNew(body), s, response, (json) => parseIntegration(json));
  }

  /**
   * The place's integrations (the account, or its subuser `scope.onBehalfOf`, at this host). The
   * list route answering 404 means the API is not where the settings point: a configuration error
   * naming them, never an empty list.
   */
  async list(scope: Scope = {}, control: Control = UNBOUNDED): Promise<Listing> {
    const subject = `SendGrid integrations${scope.onBehalfOf ? ` of ${JSON.stringify(scope.onBehalfOf)}` : ""}`;
    let response: GotResponse;
    try {
      response = await this.call("list", subject, scope, control, (options) =>
        this.http.get(PATH, { headers: behalf(scope), ...options }),
      );
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) throw this.noSuchRoute(subject, error);
      throw error;
    }
    return this.answer("list", subject, scope, response, parseIntegrationList);
  }

  /** The list route itself is missing: the base URL is wrong (a path too many, another service). */
  private noSuchRoute(subject: string, error: ApiError): ListRouteError {
    const { apiBaseUrl, baseUrl } = this.advice;
    const fix = `Check ${apiBaseUrl} (the API's root, e.g. https://api.sendgrid.com)`;
    return new ListRouteError(
      `Unable to list ${subject}: HTTP 404 at ${baseUrl}/${PATH}, the Integrations API's list route: ` +
        `the API is not at ${baseUrl}. ${fix}; ` +
        `nothing was changed${error.fromSendGrid ? "" : " (the answer was not even in SendGrid's error shape)"}`,
      fix,
      [this.apiKey],
    );
  }

  async update(
    id: string,
    body: WireIntegrationPatch,
    scope: Scope = {},
    control: Control = UNBOUNDED,
  ): Promise<IdentifiedWireIntegration> {
    assertIntegrationId(id);
    const s = withKey(scope, body.properties?.write_key);
    const response = await this.call("update", describeId(id), s, control, (options) =>
      this.http.patch(`${PATH}/${id}`, { json: body, headers: behalf(s), ...options }),
    );
    return this.answer("update", describeId(id), s, response, (json) => parseIntegration(json, id));
  }

  /** Any 2xx means deleted, whatever its body. */
  async delete(id: string, scope: Scope = {}, control: Control = UNBOUNDED): Promise<void> {
    assertIntegrationId(id);
    await this.call("delete", describeId(id), scope, control, (options) =>
      this.http.delete(PATH, { searchParams: { ids: id }, headers: behalf(scope), ...options }),
    );
  }

  /**
   * Sends one logical request (got retries it), then refuses redirects; errors become ours. The
   * budget is counted from now, so a call that waited for a concurrency slot has less left.
   */
  private call(
    operation: Operation,
    subject: string,
    scope: Scope,
    control: Control,
    send: (options: { context: Record<string, unknown>; signal: AbortSignal }) => GotPromise,
  ): Promise<GotResponse> {
    const context: CallContext = { startedAt: Date.now(), attempts: 1, pastResets: 0, control };
    return this.limit(() => this.send(operation, subject, scope, context, send));
  }

  private async send(
    operation: Operation,
    subject: string,
    scope: Scope,
    context: CallContext,
    send: (options: { context: Record<string, unknown>; signal: AbortSignal }) => GotPromise,
  ): Promise<GotResponse> {
    const secrets = this.secretsOf(scope);
    const before = stoppedBy(context.control);
    if (before) {
      throw new RequestError(operation, subject, `${before.why}; nothing was sent`, secrets, STOPPED_BEFORE_SENDING);
    }
    // got has no size limit of its own: count the body as it arrives and cancel past the cap.
    // got emits "response" only after the whole body, so the status comes from Node's request.
    let status = 0;
    let tooLarge = false;
    let response: GotResponse;
    try {
      const request = send({ context: { call: context }, signal: context.control.signal });
      request.on("request", (req: import("node:http").ClientRequest) => {
        req.once("response", (res) => {
          status = res.statusCode ?? 0;
        });
      });
      request.on("downloadProgress", (progress: { transferred: number; total?: number }) => {
        // A declared length past the cap stops at once; without one, the count does as it grows.
        // Stryker disable next-line LogicalOperator: ignoring the declared length only stops the same answer later
        const size = Math.max(progress.transferred, progress.total ?? 0);
        if (!tooLarge && size > MAX_ANSWER_BYTES) {
          tooLarge = true;
          request.cancel();
        }
      });
      response = await request;
    } catch (error) {
      if (tooLarge) {
        const problem = `the answer (HTTP ${status}) is larger than ${MAX_ANSWER_BYTES / 1024} KiB; it was not read`;
        throw new ResponseError(operation, subject, status, problem, secrets);
      }
      throw toProviderError(
        operation,
        subject,
        error,
        secrets,
        retryNote(context, this.settings),
        this.advice,
        context,
      );
    }
    if (response.statusCode >= 300) {
      throw new ResponseError(
        operation,
        subject,
        response.statusCode,
        `HTTP ${response.statusCode} redirect to ${redirectTarget(response)} was not followed: ` +
          "the Integrations API never redirects (check the apiBaseUrl setting, or a proxy in between)",
        secrets,
        "ERR_SENDGRID_REDIRECT",
      );
    }
    return response;
  }

  /** A 2xx answer's JSON body, validated by `parse`, or a ResponseError saying what is wrong with it. */
  private answer<T>(
    operation: Operation,
    subject: string,
    scope: Scope,
    response: GotResponse,
    parse: (json: unknown) => T,
  ): T {
    const type = response.headers["content-type"] ?? "no content type";
    const what = `the answer (HTTP ${response.statusCode}, ${clip(String(type), 60)})`;
    const unusable = (problem: string) =>
      new ResponseError(operation, subject, response.statusCode, `${what} ${problem}`, this.secretsOf(scope));
    const text = response.rawBody.toString("utf8");
    if (text.trim() === "") throw unusable("is empty");
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw unusable("is not JSON");
    }
    try {
      return parse(json);
    } catch (error) {
      throw unusable(`cannot be used: ${(error as UnusableAnswer).message}`); // the parsers throw nothing else
    }
  }

  /** What every error of a call redacts: the API key and the write keys in scope. */
  private secretsOf(scope: Scope): (string | undefined)[] {
    // Stryker disable next-line ArrayDeclaration: one more text to redact changes no message without it
    const writeKeys = scope.writeKeys ?? [];
    return [this.apiKey, ...writeKeys];
  }
}

const withKey = (scope: Scope, writeKey: string | undefined): Scope => ({
  ...scope,
  // equivalent ArrayDeclaration: one more text to redact changes no message without it
  writeKeys: [...(scope.writeKeys ?? []), writeKey],
});

const behalf = (scope: Scope): Record<string, string> => (scope.onBehalfOf ? { "on-behalf-of": scope.onBehalfOf } : {});

export const describeId = (id: string) => `SendGrid Segment integration ${id}`;
const describeNew = (body: WireIntegrationInput) =>
  `SendGrid Segment integration ${JSON.stringify(clip(body.label, 100))}`;

/** The origin a redirect points to (never its path or query, which may carry anything). */
function redirectTarget(response: GotResponse): string {
  const location = response.headers.location;
  if (!location) return "nowhere (no Location header)";
  try {
    return new URL(location, response.url).origin;
  } catch {
    return "an invalid Location";
  }
}

/** Map a got error to ours, keeping only safe parts (got's error holds the request headers). */
function toProviderError(
  operation: Operation,
  subject: string,
  error: unknown,
  secrets: readonly (string | undefined)[],
  retried: string,
  advice: ErrorAdvice,
  context: CallContext,
): Error {
  const e = error as {
    name?: string;
    code?: string;
    message?: string;
    response?: { statusCode: number; body: unknown };
  };
  // got raises its AbortError (code ERR_ABORTED) only when the signal it was given, the control's,
  // fired; the signal's reason says why.
  if (e.name === "AbortError") {
    const { why } = context.control.signal.reason as Stopped;
    return new RequestError(
      operation,
      subject,
      `${why} while the request was under way${retried}`,
      secrets,
      "ERR_ABORTED",
    );
  }
  // A timeout may carry a response whose body never finished: it is a timeout, not an answer.
  if (e.name === "TimeoutError") {
    return new RequestError(operation, subject, `request timed out (${e.message})${retried}`, secrets, "ETIMEDOUT");
  }
  // got's HTTPError always carries the response whose status it is.
  if (e.name === "HTTPError") {
    return new ApiError(operation, subject, e.response!.statusCode, e.response!.body, secrets, retried, advice);
  }
  // Stryker disable next-line StringLiteral: got gives every error it raises a code (ERR_GOT_REQUEST_ERROR at least)
  const code = e.code ?? "ERR_UNKNOWN";
  return new RequestError(
    operation,
    subject,
    `request failed (${code})${retried}${networkHint(code, advice)}`,
    secrets,
    code,
  );
}

/** The setting to check when the network failure comes from one: the host's name or its certificate. */
function networkHint(code: string, advice: ErrorAdvice): string {
  const settings = `${advice.apiBaseUrl}, or ${advice.region}`;
  if (code === NO_SUCH_HOST) return `: the host ${advice.host} does not exist; check ${settings}`;
  if (code === DNS_TRY_AGAIN)
    return `: the host ${advice.host} could not be resolved (no DNS answer); check the network, and ${settings}`;
  if (neverSent(code) && /CERT|TLS|SSL/.test(code)) {
    return `: the TLS connection to ${advice.host} was refused; nothing was sent. Check ${advice.apiBaseUrl}, and any proxy or certificate settings`;
  }
  return "";
}

/** " (gave up after 4 attempts in 12.3 s; ...)" when retries happened. */
function retryNote(context: CallContext, settings: Settings): string {
  if (context.attempts <= 1) return "";
  const seconds = ((Date.now() - context.startedAt) / 1000).toFixed(1);
  const budget =
    context.stopReason === "budget"
      ? // equivalent ConditionalExpression: (deadline !== undefined as true) without a deadline, undefined - startedAt is NaN and NaN < budget is false: the same answer
        context.control.deadline !== undefined && context.control.deadline - context.startedAt < settings.retryBudgetMs
        ? "; the operation's custom timeout leaves no time for another"
        : `; the retry budget (${settings.retryBudgetSetting}) is spent`
      : "";
  return ` (gave up after ${context.attempts} attempts in ${seconds} s${budget})`;
}

export const USER_AGENT = `${PACKAGE_NAME}/${PACKAGE_VERSION} (+pulumi dynamic provider; node ${process.version})`;
