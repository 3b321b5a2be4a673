/**
 * The one HTTP client for the Integrations API, on `got`: base URL, Bearer auth, JSON, a request
 * timeout, and a User-Agent naming this package and version. Each method is one logical API call;
 * retries are got's, driven by the policy in `retry.ts`, never loops here. Errors become `ApiError`
 * or `RequestError` with messages that never hold a credential.
 */
import { requireApiKey, type Settings } from "./config";
import { ApiError, InvalidIdError, type Operation, RequestError } from "./errors";
import { PACKAGE_NAME, PACKAGE_VERSION } from "./package";
import { DEFAULT_RETRY, decideRetry, RETRY_ERROR_CODES, RETRY_STATUS, type RetryTuning } from "./retry";
import { INTEGRATION_ID, type WireIntegration, type WireIntegrationInput } from "./types";

// got is ESM-only; this CommonJS module names its type through an import-mode type query.
type Got = import("got", { with: { "resolution-mode": "import" }}).Got;

const PATH = "v3/marketing/integrations";

export function assertIntegrationId(id: unknown): asserts id is string {
  if (typeof id !== "string" || !INTEGRATION_ID.test(id)) throw new InvalidIdError(id);
}

/**
 * Per-call bookkeeping, carried across got's retries as `options.context.call` (got copies the
 * context object itself, so the record is one level down to be shared by reference).
 */
interface CallContext {
  startedAt: number;
  attempts: number;
  stopReason?: string;
}

/**
 * Start loading got without waiting for it. Called from configure: the engine's first API call
 * comes a little later (after check, usually after the program registers resources), so loading
 * got's ESM graph (~75 ms cold) overlaps with that instead of delaying the first create.
 */
export function preloadHttp(): void {
  import("got").catch(() => undefined); // a real failure surfaces at the first request
}

export class IntegrationsClient {
  private constructor(
    private readonly http: Got,
    private readonly secrets: readonly string[],
  ) {}

  /** got is ESM-only: it is imported when the first client is made, in the provider process. */
  static async create(settings: Settings): Promise<IntegrationsClient> {
    const apiKey = requireApiKey(settings);
    const policy: RetryTuning = { ...DEFAULT_RETRY, budgetMs: settings.retryBudgetMs };
    const { default: got } = await import("got");
    const http = got.extend({
      prefixUrl: settings.baseUrl,
      headers: {
        authorization: `Bearer ${apiKey}`,
        "user-agent": USER_AGENT,
        accept: "application/json",
      },
      responseType: "json",
      timeout: { request: settings.requestTimeoutMs },
      retry: {
        limit: Number.MAX_SAFE_INTEGER, // bounded by the time budget, not a count
        methods: ["GET", "POST", "PATCH", "DELETE"],
        statusCodes: [...RETRY_STATUS],
        errorCodes: [...RETRY_ERROR_CODES],
        calculateDelay: ({ attemptCount, error }) => {
          const context = (error.options.context as { call: CallContext }).call;
          const decision = decideRetry(
            {
              attemptCount,
              method: error.options.method,
              status: error.response?.statusCode,
              code: error.code,
              headers: error.response?.headers,
              startedAt: context.startedAt,
            },
            policy,
          );
          context.attempts = attemptCount;
          context.stopReason = decision.reason;
          return decision.delayMs;
        },
      },
    });
    return new IntegrationsClient(http, [apiKey]);
  }

  async create(body: WireIntegrationInput, onBehalfOf?: string): Promise<WireIntegration> {
    return this.call("create", describeNew(body), [body.properties.write_key], (context) =>
      this.http.post(PATH, { json: body, headers: behalf(onBehalfOf), context }).json<WireIntegration>(),
    );
  }

  async get(id: string, onBehalfOf?: string): Promise<WireIntegration> {
    assertIntegrationId(id);
    return this.call("read", describeId(id), [], (context) =>
      this.http.get(`${PATH}/${id}`, { headers: behalf(onBehalfOf), context }).json<WireIntegration>(),
    );
  }

  async list(onBehalfOf?: string): Promise<WireIntegration[]> {
    const subject = `SendGrid integrations${onBehalfOf ? ` of ${JSON.stringify(onBehalfOf)}` : ""}`;
    const body = await this.call("list", subject, [], (context) =>
      this.http.get(PATH, { headers: behalf(onBehalfOf), context }).json<{ result?: WireIntegration[] }>(),
    );
    return Array.isArray(body?.result) ? body.result : [];
  }

  async update(id: string, body: WireIntegrationInput, onBehalfOf?: string): Promise<WireIntegration> {
    assertIntegrationId(id);
    return this.call("update", describeId(id), [body.properties.write_key], (context) =>
      this.http.patch(`${PATH}/${id}`, { json: body, headers: behalf(onBehalfOf), context }).json<WireIntegration>(),
    );
  }

  async delete(id: string, onBehalfOf?: string): Promise<void> {
    assertIntegrationId(id);
    await this.call("delete", describeId(id), [], (context) =>
      this.http.delete(PATH, { searchParams: { ids: id }, headers: behalf(onBehalfOf), context }).text(),
    );
  }

  private async call<T>(
    operation: Operation,
    subject: string,
    extraSecrets: readonly string[],
    request: (context: Record<string, unknown>) => Promise<T>,
  ): Promise<T> {
    const context: CallContext = { startedAt: Date.now(), attempts: 1 };
    try {
      return await request({ call: context });
    } catch (error) {
      throw toProviderError(operation, subject, error, [...this.secrets, ...extraSecrets], context);
    }
  }
}

const behalf = (onBehalfOf?: string): Record<string, string> => (onBehalfOf ? { "on-behalf-of": onBehalfOf } : {});

const describeId = (id: string) => `SendGrid Segment integration ${id}`;
const describeNew = (body: WireIntegrationInput) => `SendGrid Segment integration ${JSON.stringify(body.label)}`;

/** Map a got error to ours, keeping only safe parts (got's error holds the request headers). */
function toProviderError(
  operation: Operation,
  subject: string,
  error: unknown,
  secrets: string[],
  context: CallContext,
): Error {
  const e = error as {
    name?: string;
    code?: string;
    message?: string;
    response?: { statusCode: number; body: unknown };
  };
  const retried = retryNote(context);
  if (e?.response && typeof e.response.statusCode === "number") {
    return new ApiError(operation, subject, e.response.statusCode, e.response.body, secrets, retried);
  }
  const why =
    e?.name === "TimeoutError"
      ? `request timed out (${e.message})`
      : `request failed (${e?.code ?? e?.message ?? String(error)})`;
  return new RequestError(operation, subject, why + retried, secrets, e?.code);
}

/** " (gave up after 4 attempts in 12.3 s; ...)" when retries happened. */
function retryNote(context: CallContext): string {
  if (context.attempts <= 1) return "";
  const seconds = ((Date.now() - context.startedAt) / 1000).toFixed(1);
  const budget = context.stopReason === "budget" ? "; the retry budget (sendgrid:retryBudgetMs) is spent" : "";
  return ` (gave up after ${context.attempts} attempts in ${seconds} s${budget})`;
}

export const USER_AGENT = `${PACKAGE_NAME}/${PACKAGE_VERSION} (+pulumi dynamic provider; node ${process.version})`;
