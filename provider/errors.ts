/**
 * Errors the provider raises, each with a stable `code`. Messages are one line a user can act on:
 * what failed, the HTTP status, and SendGrid's own `errors[].message`/`field`. None ever holds the
 * API key or a write key: messages are built from known-safe parts and redacted again, and no
 * HTTP library error (whose options hold the Authorization header) is attached as a cause.
 */

export type Operation = "create" | "read" | "update" | "delete" | "list";

export class SendGridError extends Error {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Configuration is missing or invalid (API key, region, base URL, timeout). */
export class ConfigurationError extends SendGridError {
  constructor(message: string) {
    super(message, "ERR_SENDGRID_CONFIG");
  }
}

/** An integration id that could address something other than exactly one integration. */
export class InvalidIdError extends SendGridError {
  constructor(id: unknown) {
    super(
      `Invalid SendGrid integration id ${JSON.stringify(String(id)).slice(0, 80)}: ` +
        "an id is 1 to 128 letters, digits, '-' or '_'",
      "ERR_SENDGRID_INVALID_ID",
    );
  }
}

export interface ApiErrorDetail {
  message: string;
  field?: string | null;
  parameter?: string;
}

/** SendGrid answered with an HTTP error status. */
export class ApiError extends SendGridError {
  readonly status: number;
  readonly operation: Operation;
  readonly details: ApiErrorDetail[];
  constructor(
    operation: Operation,
    subject: string,
    status: number,
    body: unknown,
    secrets: readonly string[],
    retried = "",
  ) {
    const details = parseErrorBody(body);
    const reasons = details.map(formatDetail).join("; ");
    let message = `Unable to ${operation} ${subject}: HTTP ${status}${statusText(status)}`;
    if (reasons) message += `: ${reasons}`;
    message += retried + hint(operation, status);
    super(redact(message, secrets), "ERR_SENDGRID_API");
    this.status = status;
    this.operation = operation;
    this.details = details;
  }
}

/** The request never got an HTTP answer: timeout, connection reset, DNS, TLS. */
export class RequestError extends SendGridError {
  readonly operation: Operation;
  /** The network error code (ETIMEDOUT, ECONNRESET, ...), when there is one. */
  readonly causeCode: string | undefined;
  constructor(operation: Operation, subject: string, reason: string, secrets: readonly string[], causeCode?: string) {
    super(redact(`Unable to ${operation} ${subject}: ${reason}`, secrets), "ERR_SENDGRID_REQUEST");
    this.operation = operation;
    this.causeCode = causeCode;
  }
}

/** Creating would exceed SendGrid's limit of integrations per account. */
export class QuotaError extends SendGridError {
  constructor(message: string) {
    super(message, "ERR_SENDGRID_QUOTA");
  }
}

/**
 * A create failed in a way that may or may not have created the integration, and checking did not
 * settle it. `liveIds` are the live integrations that match, for the user to adopt or delete.
 */
export class AmbiguousCreateError extends SendGridError {
  readonly liveIds: string[];
  constructor(message: string, liveIds: string[]) {
    super(message, "ERR_SENDGRID_AMBIGUOUS_CREATE");
    this.liveIds = liveIds;
  }
}

export const isNotFound = (e: unknown): boolean => e instanceof ApiError && e.status === 404;

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};
const statusText = (status: number) => (STATUS_TEXT[status] ? ` ${STATUS_TEXT[status]}` : "");

function hint(operation: Operation, status: number): string {
  if (status === 401) return ". Check the API key (sendgrid:apiKey or SENDGRID_API_KEY)";
  if (status === 403 && operation === "create") {
    return (
      ". The account may be at its limit of 10 Segment integrations, or the API key lacks " +
      "the marketing integrations scope"
    );
  }
  if (status === 403) return ". The API key may lack the marketing integrations scope";
  return "";
}

function parseErrorBody(body: unknown): ApiErrorDetail[] {
  let parsed = body;
  if (typeof body === "string" || Buffer.isBuffer(body)) {
    try {
      parsed = JSON.parse(body.toString());
    } catch {
      return [];
    }
  }
  const errors = (parsed as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(errors)) return [];
  return errors
    .filter((e): e is Record<string, unknown> => e !== null && typeof e === "object")
    .map((e) => ({
      message: String(e.message ?? "").slice(0, 500),
      field: typeof e.field === "string" ? e.field : null,
      ...(typeof e.parameter === "string" ? { parameter: e.parameter } : {}),
    }));
}

function formatDetail(d: ApiErrorDetail): string {
  const where = d.field ?? d.parameter;
  return where ? `${d.message} (field "${where}")` : d.message;
}

/** Replace every occurrence of a secret with `[redacted]`. Short strings are not treated as secrets. */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) out = out.split(secret).join("[redacted]");
  }
  return out;
}
