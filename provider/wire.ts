/**
 * The Integrations API's wire shapes (snake_case), their mapping to the domain's camelCase, and the
 * validation of every answer before anything from it reaches state or outputs. The schemas are
 * the spec's (`components.schemas.Integration`, the list's `{result: Integration[]}`), in valibot,
 * the library `check` uses. Unknown extra fields are tolerated (APIs grow); wrong types and values
 * outside the spec's enumerations are not.
 */
import * as v from "valibot";
import {
  DEFAULT_DESTINATION,
  DEFAULT_LABEL,
  DESTINATION_REGIONS,
  DESTINATIONS,
  type Destination,
  type DestinationRegion,
  describeValue,
  EMAIL_EVENTS,
  type EmailEvent,
  INTEGRATION_ID,
  type IntegrationInputs,
  type IntegrationOutputs,
  normalizeEvents,
} from "./types";

const integrationSchema = v.looseObject({
  integration_id: v.optional(v.pipe(v.string(), v.regex(INTEGRATION_ID))),
  // The spec says string; an id sent as a number is still an id.
  user_id: v.optional(v.union([v.string(), v.pipe(v.number(), v.transform(String))])),
  label: v.optional(v.string()),
  destination: v.optional(v.picklist(DESTINATIONS)),
  filters: v.optional(v.looseObject({ email_events: v.optional(v.array(v.picklist(EMAIL_EVENTS))) })),
  properties: v.optional(
    v.looseObject({
      write_key: v.optional(v.string()),
      destination_region: v.optional(v.picklist(DESTINATION_REGIONS)),
    }),
  ),
});

const listSchema = v.looseObject({ result: v.array(integrationSchema) });

/** An integration as the API returns it (spec: `components.schemas.Integration`), validated. */
export type WireIntegration = v.InferOutput<typeof integrationSchema>;
/** An integration whose answer carried its id (create, read, update must). */
export type IdentifiedWireIntegration = WireIntegration & { integration_id: string };

/** The body of POST and PATCH (spec: `IntegrationInput`, `IntegrationPatch`). */
export interface WireIntegrationInput {
  label: string;
  destination: string;
  filters: { email_events: string[] };
  properties: { write_key: string; destination_region: string };
}

/** The body of PATCH: only the fields that change (spec: `IntegrationPatch`, every field optional). */
export interface WireIntegrationPatch {
  label?: string;
  destination?: string;
  filters?: { email_events: string[] };
  properties?: { write_key?: string; destination_region?: string };
}

/** Why an answer body cannot be used, in a few words naming the field; never quotes a value. */
export class UnusableAnswer extends Error {}

/** The answer of create, read or update: an Integration with its id (`expectedId` when known). */
export function parseIntegration(body: unknown, expectedId?: string): IdentifiedWireIntegration {
  const integration = validate(integrationSchema, body, "an integration");
  if (integration.integration_id === undefined) throw new UnusableAnswer("it has no integration_id");
  if (expectedId !== undefined && integration.integration_id !== expectedId) {
    throw new UnusableAnswer(`it is for integration ${integration.integration_id}, not ${expectedId}`);
  }
  return integration as IdentifiedWireIntegration;
}

/**
 * A place's integrations as listed. The spec requires no field of an Integration, so an entry may
 * lack its id: it is counted, not dropped silently, because a list with such an entry cannot prove
 * that an id is absent (the entry may be that integration).
 */
export interface Listing {
  integrations: IdentifiedWireIntegration[];
  /** Entries without an `integration_id`. */
  unidentified: number;
}

/** The answer of list: `{result: Integration[]}`. */
export function parseIntegrationList(body: unknown): Listing {
  const list = validate(listSchema, body, "a list of integrations").result;
  const integrations = list.filter((i): i is IdentifiedWireIntegration => i.integration_id !== undefined);
  return { integrations, unidentified: list.length - integrations.length };
}

function validate<S extends v.GenericSchema>(schema: S, body: unknown, what: string): v.InferOutput<S> {
  // valibot's objects accept arrays; an answer that is a list where an object belongs is wrong.
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new UnusableAnswer(`it is ${describe(body)}, not ${what}`);
  }
  const result = v.safeParse(schema, body);
  if (result.success) return result.output;
  const issue = result.issues[0]; // the first is reported
  // Stryker disable next-line ArrayDeclaration: a non-object is refused above, so every issue has a path
  const path = (issue.path ?? []).map((p) => p.key as PropertyKey);
  const where = path.map((k, i) => (typeof k === "number" ? `[${k}]` : i ? `.${String(k)}` : String(k))).join("");
  if (issue.input === undefined) throw new UnusableAnswer(`${where} is missing`);
  // The received value is described by type only: it may be a secret.
  throw new UnusableAnswer(
    `${where} is ${describe(issue.input)}, expected ${String(issue.expected).replaceAll('"', "")}`,
  );
}

/** A value described by type (a string is one the spec does not allow: it is never quoted). */
const describe = (value: unknown): string =>
  typeof value === "string" ? "a string outside the allowed values" : describeValue(value);

export function toWire(inputs: IntegrationInputs): WireIntegrationInput {
  return {
    label: inputs.label,
    destination: inputs.destination,
    filters: { email_events: [...inputs.filters.emailEvents] },
    properties: {
      write_key: inputs.properties.writeKey,
      destination_region: inputs.properties.destinationRegion,
    },
  };
}

/**
 * The PATCH body that brings an integration to `desired` on the given fields (paths as `diff.ts`
 * names them), and nothing else: a field left alone keeps whatever SendGrid holds, so a change
 * made outside Pulumi, or one under `ignoreChanges`, is not overwritten with a stored value.
 */
export function toWirePatch(desired: IntegrationInputs, fields: readonly string[]): WireIntegrationPatch {
  const full = toWire(desired);
  const has = (path: string) => fields.includes(path);
  const patch: WireIntegrationPatch = {};
  if (has("label")) patch.label = full.label;
  if (has("destination")) patch.destination = full.destination;
  if (has("filters.emailEvents")) patch.filters = full.filters;
  const properties = {
    ...(has("properties.writeKey") ? { write_key: full.properties.write_key } : {}),
    ...(has("properties.destinationRegion") ? { destination_region: full.properties.destination_region } : {}),
  };
  if (Object.keys(properties).length > 0) patch.properties = properties;
  return patch;
}

/**
 * An integration as the API returned it, in the program's shape: the one mapping from the API's
 * shape. The spec's defaults apply (label "Untitled Integration", destination "Segment"), events
 * are a set; a write key or region the answer leaves out stays undefined.
 */
export interface ApiIntegration {
  integrationId: string;
  userId: string;
  label: string;
  destination: Destination;
  filters: { emailEvents: EmailEvent[] };
  properties: { writeKey?: string; destinationRegion?: DestinationRegion };
}

export function fromApi(wire: IdentifiedWireIntegration): ApiIntegration {
  return {
    integrationId: wire.integration_id,
    userId: wire.user_id ?? "",
    label: wire.label ?? DEFAULT_LABEL,
    destination: (wire.destination ?? DEFAULT_DESTINATION) as Destination,
    filters: { emailEvents: normalizeEvents((wire.filters?.email_events ?? []) as EmailEvent[]) },
    properties: {
      writeKey: wire.properties?.write_key,
      destinationRegion: wire.properties?.destination_region as DestinationRegion | undefined,
    },
  };
}

/**
 * The outputs for an integration SendGrid returned. `known` supplies what the response may leave
 * out: the on-behalf-of subuser and the named account (never echoed), and a write key the API
 * masks or omits, and a region it omits.
 */
export function fromWire(wire: IdentifiedWireIntegration, known: IntegrationInputs): IntegrationOutputs {
  const api = fromApi(wire);
  const liveKey = api.properties.writeKey;
  // A masked key whose visible parts do not fit the known one is another key: it stays as shown,
  // so the difference is seen (refresh reports drift, the next up writes the declared key back).
  const keepKnown = isMaskedWriteKey(liveKey) && keyVerdict(liveKey, known.properties.writeKey) !== "different";
  const outputs: IntegrationOutputs = {
    ...api,
    properties: {
      writeKey: keepKnown ? known.properties.writeKey : (liveKey as string),
      destinationRegion: api.properties.destinationRegion ?? known.properties.destinationRegion,
    },
  };
  if (known.onBehalfOf !== undefined) outputs.onBehalfOf = known.onBehalfOf;
  if (known.account !== undefined) outputs.account = known.account;
  return outputs;
}

/**
 * Whether a write key in a response is not the real key. The spec does not say whether GET
 * returns it in full, masked or not at all; a key that is missing, empty or contains `*` is
 * treated as masked, so refresh keeps the known key instead of reporting drift (unless its visible
 * parts show another key: `fromWire`).
 */
export function isMaskedWriteKey(key: unknown): boolean {
  return typeof key !== "string" || key.length === 0 || key.includes("*");
}

/** A live write key against a declared one: shown and equal, shown and different, or not shown. */
export type KeyVerdict = "same" | "different" | "unseen";

/**
 * What a live write key shows of a declared one. Missing or empty shows nothing. A masked key
 * (`*` in it) shows only its visible parts, which can prove it different (they do not fit the
 * declared key) but never the same. A key shown whole is compared whole.
 */
export function keyVerdict(live: unknown, declared: string | undefined): KeyVerdict {
  if (typeof live !== "string" || live === "") return "unseen";
  if (typeof declared !== "string") return "unseen";
  if (!live.includes("*")) return live === declared ? "same" : "different";
  // Stryker disable next-line Regex: only the first and last parts are used, and a run of '*' splits them off as one '*' does
  const parts = live.split(/\*+/);
  const head = parts[0]!;
  const tail = parts.at(-1)!;
  const fits = declared.startsWith(head) && declared.endsWith(tail) && head.length + tail.length <= declared.length;
  return fits ? "unseen" : "different";
}
