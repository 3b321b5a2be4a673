/**
 * Validation and normalization of SegmentIntegration inputs: the provider's `check`. The schema is
 * valibot's (small functions, so it loads in milliseconds: it is on the provider's cold path).
 *
 * Runs before any API call and needs no credentials, so `pulumi preview` reports every bad field
 * at once, each with its property path (`properties.writeKey`, `filters.emailEvents[2]`).
 * Values still unknown during preview are not failures.
 */
import * as v from "valibot";
import { ACCOUNT_NAME } from "./config";
import {
  DEFAULT_DESTINATION,
  DEFAULT_LABEL,
  DESTINATION_REGIONS,
  DESTINATIONS,
  EMAIL_EVENTS,
  type EmailEvent,
  HEADER_SAFE,
  INTEGRATION_ID,
  type IntegrationInputs,
  normalizeEvents,
  WRITE_KEY_MAX,
  WRITE_KEY_MIN,
} from "./types";

/** How the engine encodes a value that is not known yet (during preview). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** The key under which the dynamic-provider runtime stores the serialized provider. */
export const PROVIDER_KEY = "__provider";

export interface CheckFailure {
  property: string;
  reason: string;
}

const describe = (value: unknown): string =>
  value === null ? "null" : Array.isArray(value) ? "a list" : `a ${typeof value}`;

/** Quote a value that is safe to echo (never used for write keys), cut to a readable length. */
const quote = (value: unknown): string => {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
};

const required = (what: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? `is required: ${what}` : `must be ${what}, got ${describe(issue.input)}`;

/** The nested objects of SegmentIntegrationArgs, and what each must be. */
const OBJECT_FIELDS: Record<string, string> = {
  filters: "an object with emailEvents",
  properties: "an object with writeKey and destinationRegion",
};

/**
 * An object's message. valibot reports a missing key with its parent object's message, so the
 * parent names what each of its required keys needs.
 */
const objectOf =
  (what: string, keys: Record<string, string>) => (issue: { input?: unknown; path?: { key: unknown }[] }) => {
    const key = issue.path?.at(-1)?.key;
    if (issue.input === undefined && typeof key === "string" && Object.hasOwn(keys, key)) {
      return `is required: ${keys[key]}`;
    }
    return required(what)(issue);
  };

const oneOf = (values: readonly string[]) => (issue: { input?: unknown }) =>
  typeof issue.input === "string"
    ? `must be one of ${values.join(", ")}; got ${quote(issue.input)}`
    : `must be one of ${values.join(", ")}; got ${describe(issue.input)}`;

const writeKeyLength = `must be ${WRITE_KEY_MIN} to ${WRITE_KEY_MAX} characters long`;

// Plain objects: valibot's strictObject stops at the first unknown key, and every unknown key is
// reported (see unknownKeys).
const filtersSchema = v.object(
  {
    emailEvents: v.pipe(
      v.array(v.picklist(EMAIL_EVENTS, oneOf(EMAIL_EVENTS)), required("a non-empty list of email events")),
      v.minLength(1, "must list at least one email event"),
    ),
  },
  objectOf("an object with emailEvents", { emailEvents: "a non-empty list of email events" }),
);

const propertiesSchema = v.object(
  {
    writeKey: v.pipe(
      v.string(required("the Segment source's write key (a string)")),
      v.minLength(WRITE_KEY_MIN, (i) => `${writeKeyLength} (got ${lengthOf(i.input)})`),
      v.maxLength(WRITE_KEY_MAX, (i) => `${writeKeyLength} (got ${lengthOf(i.input)})`),
    ),
    destinationRegion: v.picklist(DESTINATION_REGIONS, oneOf(DESTINATION_REGIONS)),
  },
  objectOf("an object with writeKey and destinationRegion", {
    writeKey: "the Segment source's write key (a string)",
    destinationRegion: `the Segment workspace's region, one of ${DESTINATION_REGIONS.join(", ")}`,
  }),
);

const integrationSchema = v.object(
  {
    label: v.optional(
      v.pipe(
        v.string(required("a string")),
        v.minLength(1, `must not be empty (omit it for the default "${DEFAULT_LABEL}")`),
      ),
    ),
    destination: v.optional(v.picklist(DESTINATIONS, oneOf(DESTINATIONS))),
    filters: filtersSchema,
    properties: propertiesSchema,
    onBehalfOf: v.optional(
      v.pipe(
        v.string(required("a subuser name (a string)")),
        v.minLength(1, "must not be empty (omit it to manage the parent account's integration)"),
        v.regex(HEADER_SAFE, "must not contain control characters"),
      ),
    ),
    account: v.optional(
      v.pipe(
        v.string(required("the name of an account in sendgrid:accounts (a string)")),
        v.regex(ACCOUNT_NAME, "must be an account name: 1 to 64 letters, digits, '-' or '_', starting with a letter"),
      ),
    ),
    importId: v.optional(
      v.pipe(
        v.string(required("a SendGrid integration id (a string)")),
        v.regex(INTEGRATION_ID, "must be a SendGrid integration id: 1 to 128 letters, digits, '-' or '_'"),
      ),
    ),
  },
  objectOf("an object", OBJECT_FIELDS),
);

const lengthOf = (value: unknown): string => (typeof value === "string" ? `${value.length}` : "?");

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** `["filters", "emailEvents", 2]` → `filters.emailEvents[2]`; odd keys quoted: `["a b"]`. */
export function propertyPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else if (IDENTIFIER.test(String(part))) out += out ? `.${String(part)}` : String(part);
    else out += `[${JSON.stringify(String(part))}]`;
  }
  return out;
}

/** Whether the value at `path`, or any value on the way to it, is still unknown. */
function reachesUnknown(root: unknown, path: readonly PropertyKey[]): boolean {
  let value: unknown = root;
  for (const part of path) {
    if (value === UNKNOWN) return true;
    if (value === null || typeof value !== "object") return false;
    value = (value as Record<PropertyKey, unknown>)[part];
  }
  return value === UNKNOWN;
}

export function containsUnknown(value: unknown): boolean {
  if (value === UNKNOWN) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (value !== null && typeof value === "object") return Object.values(value).some(containsUnknown);
  return false;
}

/** A copy without `undefined` anywhere: a gRPC Struct cannot hold it. */
export function withoutUndefined<T>(value: T): T {
  if (Array.isArray(value)) return value.filter((v) => v !== undefined).map(withoutUndefined) as T;
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = withoutUndefined(v);
    return out as T;
  }
  return value;
}

/**
 * Validate `news` and return them normalized: label and destination defaulted, events unique and
 * sorted (so order and duplicates are never a change). Never throws on any input.
 */
export function checkInputs(news: Record<string, unknown>): {
  inputs: Record<string, unknown>;
  failures: CheckFailure[];
} {
  const { [PROVIDER_KEY]: _provider, ...raw } = isRecord(news) ? news : {};
  const failures: CheckFailure[] = [];
  // abortPipeEarly: each field reports the first rule it breaks.
  const result = v.safeParse(integrationSchema, raw, { abortPipeEarly: true });
  for (const issue of result.issues ?? []) {
    const path = (issue.path ?? []).map((item) => item.key as PropertyKey);
    const property = propertyPath(path) || "inputs";
    // One failure per field; values still unknown during preview are not failures.
    if (reachesUnknown(raw, path) || failures.some((f) => f.property === property)) continue;
    failures.push({ property, reason: issue.message });
  }
  // valibot's objects accept arrays: a list where an object belongs is one failure, not its keys'.
  for (const [key, what] of Object.entries(OBJECT_FIELDS)) {
    if (!Array.isArray(raw[key])) continue;
    const nested = failures.filter((f) => f.property === key || f.property.startsWith(`${key}.`));
    for (const f of nested) failures.splice(failures.indexOf(f), 1);
    failures.push({ property: key, reason: `must be ${what}, got a list` });
  }
  for (const path of unknownKeys(raw)) {
    failures.push({ property: propertyPath(path), reason: "is not a property of SegmentIntegration" });
  }
  return { inputs: withoutUndefined(normalize(raw)), failures };
}

/** Every key the schema does not know, at every level, so misspellings are all reported at once. */
function unknownKeys(raw: Record<string, unknown>): PropertyKey[][] {
  const found: PropertyKey[][] = [];
  const visit = (value: unknown, entries: Record<string, unknown>, at: PropertyKey[]) => {
    if (!isRecord(value)) return;
    for (const key of Object.keys(value)) if (!Object.hasOwn(entries, key)) found.push([...at, key]);
  };
  visit(raw, integrationSchema.entries, []);
  visit(raw.filters, filtersSchema.entries, ["filters"]);
  visit(raw.properties, propertiesSchema.entries, ["properties"]);
  return found;
}

/** Apply defaults and the event set normalization wherever the values are known. */
function normalize(raw: Record<string, unknown>): Record<string, unknown> {
  const inputs: Record<string, unknown> = { ...raw };
  if (inputs.label === undefined) inputs.label = DEFAULT_LABEL;
  if (inputs.destination === undefined) inputs.destination = DEFAULT_DESTINATION;
  const filters = inputs.filters;
  if (isRecord(filters) && Array.isArray(filters.emailEvents)) {
    const events = filters.emailEvents;
    if (events.every((e) => typeof e === "string" && e !== UNKNOWN)) {
      inputs.filters = { ...filters, emailEvents: normalizeEvents(events as EmailEvent[]) };
    }
  }
  return inputs;
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * Read checked inputs (or stored outputs, which carry the same fields) as typed desired state.
 * Used after `check` has passed, so it only fills defaults for state written without them.
 */
export function toIntegrationInputs(props: Record<string, unknown>): IntegrationInputs {
  const filters = (props.filters ?? {}) as { emailEvents?: EmailEvent[] };
  const properties = (props.properties ?? {}) as IntegrationInputs["properties"];
  const inputs: IntegrationInputs = {
    label: (props.label as string | undefined) ?? DEFAULT_LABEL,
    destination: (props.destination as IntegrationInputs["destination"] | undefined) ?? DEFAULT_DESTINATION,
    filters: { emailEvents: normalizeEvents(filters.emailEvents ?? []) },
    properties: { writeKey: properties.writeKey, destinationRegion: properties.destinationRegion },
  };
  if (typeof props.onBehalfOf === "string" && props.onBehalfOf !== "") inputs.onBehalfOf = props.onBehalfOf;
  if (typeof props.account === "string" && props.account !== "") inputs.account = props.account;
  return inputs;
}
