/**
 * The domain of a SendGrid Segment integration, in the camelCase shape programs use, and its
 * mapping to the snake_case shape of the Integrations API (`/v3/marketing/integrations`).
 * Enumerations come from the official OpenAPI spec (shared/api/sendgrid-integrations-v3.yaml).
 */

/** SendGrid email event types that can be forwarded (spec: `components.schemas.Items`). */
export const EMAIL_EVENTS = [
  "drop",
  "processed",
  "deferred",
  "group_unsubscribe",
  "bounce",
  "delivered",
  "click",
  "unsubscribe",
  "open",
  "group_resubscribe",
  "spamreport",
  "machine_opened",
] as const;
export type EmailEvent = (typeof EMAIL_EVENTS)[number];

/** Region of the Segment workspace that owns the write key (spec: `DestinationRegion`). */
export const DESTINATION_REGIONS = ["US", "EU"] as const;
export type DestinationRegion = (typeof DESTINATION_REGIONS)[number];

/** Third-party destinations the API knows (spec: `Destination`): only Segment. */
export const DESTINATIONS = ["Segment"] as const;
export type Destination = (typeof DESTINATIONS)[number];

/**
 * The resource type of the dynamic resource (`pulumi-nodejs:dynamic/<module>:<type>`): in its state,
 * and the alias under which the plugin's resource takes that state over.
 */
export const DYNAMIC_RESOURCE_TYPE = "pulumi-nodejs:dynamic/sendgrid:SegmentIntegration";

/** Segment integrations SendGrid allows per account (spec: AddIntegration description). */
export const INTEGRATION_LIMIT = 10;

/**
 * A value that can travel as an HTTP header (`on-behalf-of`): printable ASCII, no leading or trailing
 * space (a server strips them). Node refuses anything beyond Latin-1 before sending, and SendGrid's
 * subuser names are ASCII, so nothing else can ever reach the API as written.
 */
export const HEADER_VALUE = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

/** An id that addresses exactly one integration: never empty, no `,` `&` `/` `?` or spaces. */
export const INTEGRATION_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** The API's default label (spec: `IntegrationInput.label.default`). */
export const DEFAULT_LABEL = "Untitled Integration";
export const DEFAULT_DESTINATION: Destination = "Segment";

/** Segment write key length bounds from the spec's field description ("between 6 and 51"). */
export const WRITE_KEY_MIN = 6;
export const WRITE_KEY_MAX = 51;

/** The desired state of an integration after check: defaults applied, events sorted and unique. */
export interface IntegrationInputs {
  label: string;
  destination: Destination;
  filters: { emailEvents: EmailEvent[] };
  properties: { writeKey: string; destinationRegion: DestinationRegion };
  /** Subuser (or `account-id <id>`) whose integration this is; sent as the `on-behalf-of` header. */
  onBehalfOf?: string;
  /** The named account (provider configuration `sendgrid:accounts.<name>`); absent: the default one. */
  account?: string;
}

/**
 * The shape of the outputs this release writes. 0.1.0 and 0.2.0 wrote none (version 1); 2 added
 * `stateVersion` itself; 3 added `sendgridRegion`, the region whose API holds the integration
 * (0.3.0, which reads up to 2, refuses to act on it rather than look for it in the wrong region),
 * and `sendgridKeyDigest` (optional: state without it proves absence only by its owner, `userId`).
 * Code that meets state newer than this acts on nothing (see `assertReadableState`).
 */
export const STATE_VERSION = 3;

/** SendGrid's regions, each its own API host and its own accounts (config.ts `REGION_HOSTS`). */
export const SENDGRID_REGIONS = ["global", "eu"] as const;

/** What the provider stores as outputs: the inputs as SendGrid stored them, plus its ids. */
export interface IntegrationOutputs extends IntegrationInputs {
  integrationId: string;
  userId: string;
  /** The id this resource adopted instead of creating, if it was given one. */
  importId?: string;
  /** The SendGrid region whose API holds the integration, recorded when it was created or read. */
  sendgridRegion?: (typeof SENDGRID_REGIONS)[number];
  /**
   * A digest of the API key that last saw the integration (created, read or updated it): a listing
   * with the same key is its account's (places.ts `notProof`). Kept secret.
   */
  sendgridKeyDigest?: string;
  /** The state shape's version (`STATE_VERSION` when written by this release). */
  stateVersion?: number;
}

/** The output-only fields that are secrets (the model's secret inputs are marked in the model). */
export const SECRET_OUTPUTS = ["sendgridKeyDigest"] as const;

/** Events as a set: unique and in a stable order, so reordering is never a change. */
export function normalizeEvents(events: readonly EmailEvent[]): EmailEvent[] {
  return [...new Set(events)].sort();
}

/** A plain object (not null, not a list). */
export const isRecord = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

/** A value described by its type only, for messages that must not quote it (it may be a secret). */
export const describeValue = (value: unknown): string =>
  value === null ? "null" : Array.isArray(value) ? "a list" : `a ${typeof value}`;

/**
 * A resource name from a label: lower-case letters and digits joined by single dashes ("Prod
 * events!" → "prod-events"); "" when none are left. `import` and the root program name resources so.
 */
export const slug = (text: string): string =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
