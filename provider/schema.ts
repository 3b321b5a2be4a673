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
  describeValue,
  EMAIL_EVENTS,
  type EmailEvent,
  HEADER_VALUE,
  INTEGRATION_ID,
  type IntegrationInputs,
  isRecord,
  normalizeEvents,
  WRITE_KEY_MAX,
  WRITE_KEY_MIN,
} from "./types";

/** How the engine encodes a value that is not known yet (during preview). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** The key under which the dynamic-provider runtime stores the serialized provider. */
export const PROVIDER_KEY = "__provider";

/** What an `onBehalfOf` value must be, for messages (see HEADER_VALUE). */
export const ON_BEHALF_OF_RULE =
  "a subuser name (or `account-id <id>`) of printable ASCII without leading or trailing spaces: it is sent as the on-behalf-of HTTP header";

export interface CheckFailure {
  property: string;
  reason: string;
}

/** Quote a text that is safe to echo (never used for write keys), cut to a readable length. */
const quote = (text: string): string => JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);

// A missing key is reported with its parent object's message (objectOf), so a field's own type
// message always has a value to describe.
const mustBe = (what: string) => (issue: { input?: unknown }) => `must be ${what}, got ${describeValue(issue.input)}`;

/** The nested objects of SegmentIntegrationArgs, and what each must be. */
const OBJECT_FIELDS: Record<string, string> = {
  filters: "an object with emailEvents",
  properties: "an object with writeKey and destinationRegion",
};

/**
 * An object's message. valibot reports a missing key with its parent object's message (the only
 * issue it gives without a value), so the parent names what each of its required keys needs.
 */
const objectOf =
  (what: string, keys: Record<string, string>) => (issue: { input?: unknown; path?: { key: unknown }[] }) => {
    if (issue.input !== undefined) return mustBe(what)(issue);
    // Stryker disable next-line OptionalChaining: a missing key's issue always has the key in its path
    return `is required: ${keys[String(issue.path?.at(-1)?.key)]}`;
  };

const oneOf = (values: readonly string[]) => (issue: { input?: unknown }) => {
  const got = typeof issue.input === "string" ? quote(issue.input) : describeValue(issue.input);
  return `must be one of ${values.join(", ")}; got ${got}`;
};

/**
 * The same for a field under `properties`, the secret object: a value there may be the write key
 * (say, two fields swapped), so it is described by type and length only, never quoted.
 */
const secretOneOf = (values: readonly string[]) => (issue: { input?: unknown }) =>
  typeof issue.input === "string"
    ? `must be one of ${values.join(", ")}; got a string of ${issue.input.length} characters (not shown: properties is secret)`
    : oneOf(values)(issue);

const writeKeyLength = `must be ${WRITE_KEY_MIN} to ${WRITE_KEY_MAX} characters long`;

// Plain objects: valibot's strictObject stops at the first unknown key, and every unknown key is
// reported (see unknownKeys).
const filtersSchema = v.object(
  {
    emailEvents: v.pipe(
      v.array(v.picklist(EMAIL_EVENTS, oneOf(EMAIL_EVENTS)), mustBe("a non-empty list of email events")),
      v.minLength(1, "must list at least one email event"),
      v.description("The email events to forward, at least one; their order and duplicates do not matter."),
    ),
  },
  objectOf("an object with emailEvents", { emailEvents: "a non-empty list of email events" }),
);

const propertiesSchema = v.object(
  {
    writeKey: v.pipe(
      v.string(mustBe("the Segment source's write key (a string)")),
      v.minLength(WRITE_KEY_MIN, (i) => `${writeKeyLength} (got ${i.input.length})`),
      v.maxLength(WRITE_KEY_MAX, (i) => `${writeKeyLength} (got ${i.input.length})`),
      v.description(
        `The Segment source's write key, ${WRITE_KEY_MIN} to ${WRITE_KEY_MAX} characters; always stored as a secret.`,
      ),
    ),
    destinationRegion: v.pipe(
      v.picklist(DESTINATION_REGIONS, secretOneOf(DESTINATION_REGIONS)),
      v.description("The region of the Segment workspace that owns the write key."),
    ),
  },
  objectOf("an object with writeKey and destinationRegion", {
    writeKey: "the Segment source's write key (a string)",
    destinationRegion: `the Segment workspace's region, one of ${DESTINATION_REGIONS.join(", ")}`,
  }),
);

/**
 * What a field means beyond its type, for every front door: `replaces` (a change can only be made by
 * replacing the integration; diff reads it) and `secret` (stored as a Pulumi secret). With the
 * descriptions, these drive the plugin's package schema (`native/schema.ts`), so validation, diff
 * and schema cannot disagree.
 */
export type FieldMeta = {
  replaces?: boolean;
  secret?: boolean;
};
const meta = <T>(m: FieldMeta) => v.metadata<T, FieldMeta>(m);

/** SegmentIntegration's inputs: types, rules, messages, descriptions and meaning, in one place. */
export const integrationSchema = v.object(
  {
    label: v.optional(
      v.pipe(
        v.string(mustBe("a string")),
        v.minLength(1, `must not be empty (omit it for the default "${DEFAULT_LABEL}")`),
        v.description(`Nickname shown in the SendGrid UI. Defaults to "${DEFAULT_LABEL}".`),
      ),
    ),
    destination: v.optional(
      v.pipe(
        v.picklist(DESTINATIONS, oneOf(DESTINATIONS)),
        v.description(
          `The destination; "${DEFAULT_DESTINATION}" (the default) is the only one the API knows. Changing it replaces the integration.`,
        ),
        meta({ replaces: true }),
      ),
    ),
    filters: v.pipe(filtersSchema, v.description("Which email events to forward.")),
    properties: v.pipe(
      propertiesSchema,
      v.description("Where to forward them: the Segment source. Secret, since it holds the write key."),
      meta({ secret: true }),
    ),
    onBehalfOf: v.optional(
      v.pipe(
        v.string(mustBe("a subuser name (a string)")),
        v.minLength(1, "must not be empty (omit it to manage the parent account's integration)"),
        v.regex(HEADER_VALUE, `must be ${ON_BEHALF_OF_RULE}`),
        v.description(
          "Manage a subuser's integration with the parent account's key (the on-behalf-of header): a subuser name, or `account-id <id>`. Changing it replaces the integration.",
        ),
        meta({ replaces: true }),
      ),
    ),
    account: v.optional(
      v.pipe(
        v.string(mustBe("the name of an account in the accounts setting (a string)")),
        v.regex(ACCOUNT_NAME, "must be an account name: 1 to 64 letters, digits, '-' or '_', starting with a letter"),
        v.description(
          "A named SendGrid account from the provider's `accounts` setting (or the `SENDGRID_ACCOUNT_<NAME>_*` environment); omitted, the provider's own account. Changing it replaces the integration. No key is ever stored.",
        ),
        meta({ replaces: true }),
      ),
    ),
    importId: v.optional(
      v.pipe(
        v.string(mustBe("a SendGrid integration id (a string)")),
        v.regex(INTEGRATION_ID, "must be a SendGrid integration id: 1 to 128 letters, digits, '-' or '_'"),
        v.description(
          "Adopt an existing integration (e.g. one made in the SendGrid UI) instead of creating one: on create it is read (it must exist) and updated to the declared state, and its id becomes this resource's id. Only used at creation: changing or removing it later changes nothing.",
        ),
      ),
    ),
  },
  // Stryker disable next-line StringLiteral: checkInputs always passes an object, so the root's own type message never shows
  objectOf("an object", OBJECT_FIELDS),
);

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

/** The value an issue is about. valibot stops at the first value that is not an object or list. */
const valueAt = (root: unknown, path: readonly PropertyKey[]): unknown =>
  // Stryker disable next-line OptionalChaining: (as above) an issue's path never runs through null or undefined
  path.reduce<unknown>((value, key) => (value as Record<PropertyKey, unknown>)?.[key], root);

/** The metadata (FieldMeta) a field of the model carries, through `optional` and `pipe`. */
export function fieldMeta(field: v.GenericSchema): FieldMeta {
  const inner = field.type === "optional" ? (field as unknown as { wrapped: v.GenericSchema }).wrapped : field;
  return (v.getMetadata(inner as never) ?? {}) as FieldMeta;
}

/** The output-only fields of SegmentIntegration, beside the inputs above. */
export const OUTPUT_DESCRIPTIONS = {
  integrationId: "SendGrid's id of the integration; also this resource's id.",
  userId: "The SendGrid account (user) that owns the integration.",
  sendgridRegion:
    'The SendGrid region whose API holds the integration ("global" or "eu"), recorded when it was created or read: the provider refuses to act on it from another region.',
  sendgridKeyDigest:
    "A one-way digest of the API key that last saw the integration (a secret): only a list made with the same key, or one showing the owner's integrations, proves the integration gone.",
} as const;

export { SECRET_OUTPUTS } from "./types";

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
  const failures = new FailureList();
  const result = v.safeParse(integrationSchema, raw);
  for (const issue of result.issues ?? []) {
    // Stryker disable next-line ArrayDeclaration: raw is always a plain object, so every issue is under one of its keys and has a path
    const path = (issue.path ?? []).map((item) => item.key as PropertyKey);
    // Stryker disable next-line StringLiteral: (as above) every issue's path has a key, and a non-empty path never gives ""
    const property = propertyPath(path) || "inputs";
    // Values still unknown during preview are not failures.
    if (valueAt(raw, path) === UNKNOWN) continue;
    failures.add(property, issue.message);
  }
  // valibot's objects accept arrays: a list where an object belongs is one failure, not its keys'.
  for (const [key, what] of Object.entries(OBJECT_FIELDS)) {
    if (!Array.isArray(raw[key])) continue;
    failures.replaceUnder(key, `must be ${what}, got a list`);
  }
  const unknown = unknownKeys(raw);
  for (const path of unknown.slice(0, MAX_UNKNOWN_KEYS)) {
    failures.add(propertyPath(path), "is not a property of SegmentIntegration");
  }
  if (unknown.length > MAX_UNKNOWN_KEYS) {
    const more = unknown.length - MAX_UNKNOWN_KEYS;
    failures.add(
      "inputs",
      `and ${more} more propert${more === 1 ? "y that is" : "ies that are"} not properties of SegmentIntegration`,
    );
  }
  return { inputs: withoutUndefined(normalize(raw)), failures: failures.list() };
}

/** Unknown keys reported one by one; the rest are counted (a check failure must fit a gRPC message). */
export const MAX_UNKNOWN_KEYS = 20;

/**
 * Check's failures, at most one per field: the first rule a value breaks, with a count of the other
 * bad values of the same field (`filters.emailEvents[2]` and `[7]` are one field). Adding is
 * constant time, so a list of 100,000 bad events costs one pass and one failure.
 */
class FailureList {
  private readonly byField = new Map<string, { failure: CheckFailure; more: number }>();

  add(property: string, reason: string): void {
    // known gap StringLiteral: any text in place of the indexes groups the same fields, but for misspelled names quoted with "[<digits>]" inside, which this grouping itself gets wrong (it merges ["a b"] and ["a b[1]"]: reported, not changed here)
    const field = property.replace(/\[\d+\]/g, "");
    const seen = this.byField.get(field);
    if (!seen) this.byField.set(field, { failure: { property, reason }, more: 0 });
    // "" is both empty and not a name: a second rule broken by the same value is not another bad value.
    else if (seen.failure.property !== property) seen.more++;
  }

  /** One failure for `key` in place of every failure under it (a list where an object belongs). */
  replaceUnder(key: string, reason: string): void {
    for (const field of [...this.byField.keys()]) if (field.startsWith(`${key}.`)) this.byField.delete(field);
    this.byField.set(key, { failure: { property: key, reason }, more: 0 });
  }

  list(): CheckFailure[] {
    return [...this.byField.values()].map(({ failure, more }) =>
      more === 0
        ? failure
        : {
            ...failure,
            reason: `${failure.reason} (and ${more} more bad value${more === 1 ? "" : "s"} in ${failure.property.replace(/\[\d+\]/g, "")})`,
          },
    );
  }
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
  inputs.label ??= DEFAULT_LABEL;
  inputs.destination ??= DEFAULT_DESTINATION;
  const filters = inputs.filters;
  if (isRecord(filters) && Array.isArray(filters.emailEvents)) {
    const events = filters.emailEvents;
    // Only text is sorted: sorting turns values into text, which throws for some ({"toString": 1}).
    if (events.every((e) => typeof e === "string" && e !== UNKNOWN)) {
      inputs.filters = { ...filters, emailEvents: normalizeEvents(events as EmailEvent[]) };
    }
  }
  return inputs;
}

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
