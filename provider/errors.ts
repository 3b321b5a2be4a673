/**
 * Errors the provider raises, each with a stable `code`. Messages are one line a user can act on:
 * what failed, the HTTP status, and SendGrid's own `errors[].message`/`field`.
 *
 * Every message goes through one pipeline in `SendGridError`: secrets are redacted first (whole,
 * and any run of 6 or more of their characters, so an echoed or cut-off key never shows), then the
 * line is cut to `MAX_MESSAGE_LENGTH`. Whatever an answer holds, an error stays small enough for
 * the engine's gRPC channel and a CI log. No HTTP library error (its options hold the
 * Authorization header) is ever attached as a cause.
 */

export type Operation = "create" | "read" | "update" | "delete" | "list";

/** Longest error message the provider raises, in characters. */
export const MAX_MESSAGE_LENGTH = 1024;
/** SendGrid errors quoted in one message; the rest are counted. */
export const MAX_DETAILS = 3;
/** A run of this many characters of a secret is redacted wherever it appears. */
export const SECRET_RUN = 6;
const REDACTED = "[redacted]";

export class SendGridError extends Error {
  readonly code: string;
  // Stryker disable next-line ArrayDeclaration: redacting one more text changes no message without it
  constructor(message: string, code: string, secrets: readonly (string | undefined)[] = []) {
    super(clip(redact(oneLine(message), secrets), MAX_MESSAGE_LENGTH));
    this.name = new.target.name;
    this.code = code;
  }
}

/** Configuration is missing or invalid (API key, region, base URL, timeout, account). */
export class ConfigurationError extends SendGridError {
  // Stryker disable next-line ArrayDeclaration: as above
  constructor(message: string, secrets: readonly (string | undefined)[] = []) {
    super(message, "ERR_SENDGRID_CONFIG", secrets);
  }
}

/**
 * The Integrations API's list route answered 404: the base URL is wrong (a path too many, another
 * service). `fix` says which setting to check, for messages that must say more than the list's.
 */
export class ListRouteError extends ConfigurationError {
  constructor(
    message: string,
    readonly fix: string,
    // Stryker disable next-line ArrayDeclaration: as above
    secrets: readonly (string | undefined)[] = [],
  ) {
    super(message, secrets);
  }
}

/** An integration id that could address something other than exactly one integration. */
export class InvalidIdError extends SendGridError {
  constructor(id: unknown) {
    super(
      `Invalid SendGrid integration id ${JSON.stringify(clip(String(id), 80))}: ` +
        "an id is 1 to 128 letters, digits, '-' or '_'",
      "ERR_SENDGRID_INVALID_ID",
    );
  }
}

/** What the client tells an error about where its settings came from, so a message can name them. */
export interface ErrorAdvice {
  /** Where the API key is set (a stack config key, a variable, a flag). */
  apiKey: string;
  apiBaseUrl: string;
  region: string;
  /** The region in use: "global" or "eu". */
  regionName: string;
  /** The host requests went to. */
  host: string;
  baseUrl: string;
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
  /** SendGrid's first errors, redacted and cut (see MAX_DETAILS); `omitted` counts the rest. */
  readonly details: ApiErrorDetail[];
  readonly omitted: number;
  /**
   * Whether the body is SendGrid's error shape (`{"errors": [{"message": ...}, ...]}`). Only such an
   * answer is SendGrid's word: a proxy's or a misrouted host's page (HTML, or other JSON) is not.
   */
  readonly fromSendGrid: boolean;
  constructor(
    operation: Operation,
    subject: string,
    status: number,
    body: unknown,
    secrets: readonly (string | undefined)[],
    retried = "",
    advice?: ErrorAdvice,
  ) {
    const { details, omitted, fromSendGrid } = parseErrorBody(body, secrets);
    const head = `Unable to ${operation} ${subject}: HTTP ${status}${statusText(status)}`;
    const more = omitted > 0 ? ` (and ${omitted} more error${omitted === 1 ? "" : "s"})` : "";
    // How many were left out, the retry note and the hint always show; SendGrid's words get the rest.
    const tail = more + retried + hint(operation, status, fromSendGrid, advice);
    const reasons = details.map(formatDetail).join("; ");
    const room = Math.max(0, MAX_MESSAGE_LENGTH - head.length - tail.length - 2);
    super(head + (reasons ? `: ${clip(reasons, room)}` : "") + tail, "ERR_SENDGRID_API", secrets);
    this.status = status;
    this.operation = operation;
    this.details = details;
    this.omitted = omitted;
    this.fromSendGrid = fromSendGrid;
  }
}

/** The request never got a complete HTTP answer: timeout, connection reset, DNS, TLS. */
export class RequestError extends SendGridError {
  readonly operation: Operation;
  /** The network error code (ETIMEDOUT, ECONNRESET, ...), when there is one. */
  readonly causeCode: string | undefined;
  constructor(
    operation: Operation,
    subject: string,
    reason: string,
    secrets: readonly (string | undefined)[],
    causeCode?: string,
  ) {
    super(`Unable to ${operation} ${subject}: ${reason}`, "ERR_SENDGRID_REQUEST", secrets);
    this.operation = operation;
    this.causeCode = causeCode;
  }
}

/**
 * An answer that cannot be used: a 2xx whose body is not the JSON the spec promises, one that is
 * too large, or a redirect (the Integrations API never redirects, so none is followed).
 * `status` is the HTTP status of the answer.
 */
export class ResponseError extends SendGridError {
  readonly status: number;
  readonly operation: Operation;
  constructor(
    operation: Operation,
    subject: string,
    status: number,
    problem: string,
    secrets: readonly (string | undefined)[],
    code: "ERR_SENDGRID_RESPONSE" | "ERR_SENDGRID_REDIRECT" = "ERR_SENDGRID_RESPONSE",
  ) {
    super(`Unable to ${operation} ${subject}: ${problem}`, code, secrets);
    this.status = status;
    this.operation = operation;
  }
}

/** Creating would exceed SendGrid's limit of integrations per account. */
export class QuotaError extends SendGridError {
  // Stryker disable next-line ArrayDeclaration: as above
  constructor(message: string, secrets: readonly (string | undefined)[] = []) {
    super(message, "ERR_SENDGRID_QUOTA", secrets);
  }
}

/**
 * A create failed in a way that may or may not have created the integration, and checking did not
 * settle it. `liveIds` are the live integrations that match, for the user to adopt or delete.
 */
export class AmbiguousCreateError extends SendGridError {
  readonly liveIds: string[];
  // Stryker disable next-line ArrayDeclaration: as above
  constructor(message: string, liveIds: string[], secrets: readonly (string | undefined)[] = []) {
    super(message, "ERR_SENDGRID_AMBIGUOUS_CREATE", secrets);
    this.liveIds = liveIds;
  }
}

/**
 * An answer that does not settle what the operation must know (whether an integration is gone,
 * whether a write happened), and a check that did not settle it either. Nothing was changed in
 * state; the message says what may exist.
 */
export class UnprovenError extends SendGridError {
  // Stryker disable next-line ArrayDeclaration: as above
  constructor(message: string, secrets: readonly (string | undefined)[] = []) {
    super(message, "ERR_SENDGRID_UNPROVEN", secrets);
  }
}

/** Two resources of one stack would manage one integration (e.g. both declare the same importId). */
export class ConflictError extends SendGridError {
  constructor(message: string) {
    super(message, "ERR_SENDGRID_CONFLICT");
  }
}

/**
 * State written by a newer release of this package, whose shape this one does not know: acting on
 * it (e.g. under the wrong account) could lose the integration, so nothing is done.
 */
export class StateVersionError extends SendGridError {
  constructor(doing: string, found: unknown, readable: number, version: string) {
    super(
      `Unable to ${doing}: its state was written by a newer pulumi-sendgrid-segment (state version ` +
        `${clip(JSON.stringify(found) ?? String(found), 20)}; ${version} reads up to ${readable}). ` +
        "Upgrade pulumi-sendgrid-segment in this program; nothing was changed",
      "ERR_SENDGRID_STATE_VERSION",
    );
  }
}

/**
 * SendGrid said the integration does not exist: a 404 in SendGrid's own error shape. Any other
 * 404 (a proxy's page, a wrong apiBaseUrl) proves nothing, so it is an error like any other.
 */
export const isNotFound = (e: unknown): boolean => e instanceof ApiError && e.status === 404 && e.fromSendGrid;

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
  520: "Unknown Error (a gateway)",
  521: "Web Server Is Down (a gateway)",
  522: "Connection Timed Out (a gateway)",
  523: "Origin Is Unreachable (a gateway)",
  524: "A Timeout Occurred (a gateway)",
};
const statusText = (status: number) => (STATUS_TEXT[status] ? ` ${STATUS_TEXT[status]}` : "");

function hint(operation: Operation, status: number, fromSendGrid: boolean, advice?: ErrorAdvice): string {
  if (status === 404 && !fromSendGrid) {
    return (
      ". The answer is not a SendGrid error (a proxy, or a wrong apiBaseUrl setting?), so it does not " +
      "show the integration is gone; nothing was changed"
    );
  }
  if (status === 401) {
    const key = advice ? ` (${advice.apiKey})` : " (the apiKey setting or SENDGRID_API_KEY)";
    const where = advice ? `; this request went to ${advice.host} (region ${advice.regionName}: ${advice.region})` : "";
    return (
      `. SendGrid refused the API key${key}: it may be mistyped, revoked or deleted, or belong to the other ` +
      `region (an EU account's key works only with region "eu", api.eu.sendgrid.com; any other only with "global")${where}`
    );
  }
  if (status === 403 && operation === "create") {
    return (
      ". The account may be at its limit of 10 Segment integrations, or the API key lacks " +
      "the marketing integrations scope"
    );
  }
  if (status === 403) return ". The API key may lack the marketing integrations scope";
  return "";
}

/** Longest raw text taken from one answer field before redaction: far more than is ever shown. */
const RAW_FIELD = 4096;

/** SendGrid's `{"errors": [{message, field, parameter}]}`: the first few, redacted, each cut short. */
function parseErrorBody(
  body: unknown,
  secrets: readonly (string | undefined)[],
): { details: ApiErrorDetail[]; omitted: number; fromSendGrid: boolean } {
  let parsed = body;
  if (typeof body === "string" || Buffer.isBuffer(body)) {
    try {
      parsed = JSON.parse(body.toString());
    } catch {
      // Not JSON: the text itself goes on, and a string or a Buffer has no errors list.
    }
  }
  const errors = (parsed as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(errors)) return { details: [], omitted: 0, fromSendGrid: false };
  const objects = errors.filter((e): e is Record<string, unknown> => e !== null && typeof e === "object");
  const fromSendGrid =
    objects.length > 0 && objects.length === errors.length && objects.every((e) => typeof e.message === "string");
  // Redact before cutting, so a cut can never leave part of a secret in view.
  const text = (value: unknown, max: number) => clip(redact(String(value).slice(0, RAW_FIELD), secrets), max);
  const details = objects.slice(0, MAX_DETAILS).map((e) => ({
    message: text(e.message ?? "", 200),
    field: typeof e.field === "string" ? text(e.field, 80) : null,
    ...(typeof e.parameter === "string" ? { parameter: text(e.parameter, 80) } : {}),
  }));
  return { details, omitted: objects.length - details.length, fromSendGrid };
}

function formatDetail(d: ApiErrorDetail): string {
  const where = d.field ?? d.parameter;
  if (!where) return d.message;
  return d.message ? `${d.message} (field "${where}")` : `field "${where}"`;
}

/**
 * The same error (class, code, fields) saying first what the user's operation was: "Unable to read
 * SendGrid Segment integration 5a1: listing its place failed: HTTP 503 ...". For an error raised by a
 * step the operation took on its way (listing the place it reads). `secrets` are redacted again: a
 * step shared by several operations (one listing serves every read of a place) redacted only what
 * the first of them knew.
 */
// Stryker disable next-line ArrayDeclaration: redacting one more text changes no message without it
export function during<E extends Error>(error: E, doing: string, step: string, secrets: readonly string[] = []): E {
  if (!(error instanceof SendGridError)) return error;
  const inner = redact(error.message, secrets).replace(/^Unable to [^:]*: /, "");
  const message = clip(`Unable to ${doing}: ${step} failed: ${inner}`, MAX_MESSAGE_LENGTH);
  const copy = Object.assign(Object.create(Object.getPrototypeOf(error)), error) as E;
  Object.defineProperty(copy, "message", { value: message, writable: true, configurable: true });
  Object.defineProperty(copy, "stack", { value: `${error.name}: ${message}`, writable: true, configurable: true });
  return copy;
}

/**
 * Control characters (newlines included) become spaces: an error is one line. Characters that
 * hide or reorder text (bidi controls, zero-width characters, line separators, lone surrogates)
 * become visible escapes: an answer's text reaches the Pulumi CLI's output, and must read as it is.
 */
const oneLine = (text: string) =>
  text.replace(/\p{Cc}+/gu, " ").replace(/[\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu, (c) => {
    const code = c.codePointAt(0)!.toString(16);
    return code.length > 4 ? `\\u{${code}}` : `\\u${code.padStart(4, "0")}`;
  });

/** Cut to at most `max` characters, marking the cut. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * Replace every secret in `text` with `[redacted]`: each whole occurrence, and every run of at
 * least `SECRET_RUN` consecutive characters of a secret (an answer may echo part of a key, or a
 * proxy may cut one short). Strings shorter than 4 characters are not treated as secrets.
 */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  const hidden = new Uint8Array(text.length);
  let any = false;
  for (const secret of secrets) {
    if (!secret || secret.length < 4) continue;
    const run = Math.min(SECRET_RUN, secret.length);
    for (let start = 0; start + run <= secret.length; start++) {
      const piece = secret.slice(start, start + run);
      for (let at = text.indexOf(piece); at >= 0; at = text.indexOf(piece, at + 1)) {
        hidden.fill(1, at, at + run);
        any = true;
      }
    }
  }
  if (!any) return text;
  let out = "";
  for (let i = 0; i < text.length; i++) {
    if (!hidden[i]) out += text[i];
    // equivalent ArithmeticOperator: marking each hidden run at its last character instead of its first gives the same text
    else if (!hidden[i - 1]) out += REDACTED; // hidden[-1] is undefined: a secret at the start opens a mark too
  }
  return out;
}
