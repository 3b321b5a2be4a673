/**
 * Diff between stored state and new (checked) inputs: the provider's `diff`. Makes no API call.
 *
 * Reordered or duplicated events and an omitted label vs its default are not changes. label,
 * events, writeKey and destinationRegion update in place; destination, onBehalfOf and account
 * (which account owns the integration) can only change by replacement (the model's `replaces`). `__provider` is ignored, so a
 * new release of this package alone is never a change.
 */
import { fieldMeta, integrationSchema } from "./schema";
import { DEFAULT_DESTINATION, DEFAULT_LABEL, normalizeEvents } from "./types";

export interface IntegrationDiff {
  changes: boolean;
  /** Changed properties, as paths (for messages and tests). */
  changed: string[];
  replaces: string[];
  deleteBeforeReplace: boolean;
}

type Props = Record<string, unknown>;

interface Field {
  path: string;
  read: (p: Props) => unknown;
  same?: (a: unknown, b: unknown) => boolean;
}

type Input = keyof typeof integrationSchema.entries;
/** Whether a change at `path` replaces: its top-level input's `replaces` in the model (schema.ts). */
const replaces = (path: string): boolean =>
  fieldMeta(integrationSchema.entries[path.split(".")[0] as Input]).replaces === true;

// A string (an unknown object during preview) reads as having no fields, like an absent one.
const at = (p: Props, key: string): Props => (p[key] ?? {}) as Props;

/** An event list as a set (unique, sorted); an unknown list (text) or an absent one stays as it is. */
const eventSet = (events: unknown) => (Array.isArray(events) ? normalizeEvents(events) : events);
const sameEventSet = (a: unknown, b: unknown): boolean => JSON.stringify(eventSet(a)) === JSON.stringify(eventSet(b));

const FIELDS: Field[] = [
  { path: "label", read: (p) => p.label ?? DEFAULT_LABEL },
  { path: "filters.emailEvents", read: (p) => at(p, "filters").emailEvents, same: sameEventSet },
  { path: "properties.writeKey", read: (p) => at(p, "properties").writeKey },
  { path: "properties.destinationRegion", read: (p) => at(p, "properties").destinationRegion },
  { path: "destination", read: (p) => p.destination ?? DEFAULT_DESTINATION },
  // "" and absent both mean the parent account; absent account means the default one.
  { path: "onBehalfOf", read: (p) => p.onBehalfOf || undefined },
  { path: "account", read: (p) => p.account || undefined },
];

export function diffIntegration(olds: Props, news: Props): IntegrationDiff {
  const changed: string[] = [];
  const replacing = new Set<string>();
  for (const field of FIELDS) {
    const before = field.read(olds);
    const after = field.read(news);
    // A value still unknown (preview) never equals a known one: it shows as a change.
    const same = (field.same ?? Object.is)(before, after);
    if (same) continue;
    changed.push(field.path);
    if (replaces(field.path)) replacing.add(field.path);
  }
  return {
    changes: changed.length > 0,
    changed,
    replaces: [...replacing],
    // Create the replacement first: the old one keeps forwarding until the new one exists.
    deleteBeforeReplace: false,
  };
}
