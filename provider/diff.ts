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

/**
 * Whether `path` (a field, as FIELDS names it) lies under one of the engine's `ignoreChanges` paths
 * (`label`, `properties`, `properties.writeKey`, `filters["emailEvents"]`; `*` matches any one
 * key, as in the engine's PropertyPath.Contains). The engine puts the old inputs in place of
 * ignored values before check, but filters nothing from a provider's diff: a field whose stored
 * outputs differ from those inputs must not show as a change. A path deeper than a field (one
 * element of the event list) does not hide the field's other changes.
 */
export function ignored(path: string, ignoreChanges: readonly string[]): boolean {
  const field = path.split(".");
  return ignoreChanges.some((rule) => {
    const parts = segments(rule);
    return parts.length <= field.length && parts.every((part, i) => part === "*" || part === field[i]);
  });
}

/** `a.b[0]["c d"]` → `["a", "b", "0", "c d"]`. */
function segments(path: string): string[] {
  const out: string[] = [];
  for (const match of path.matchAll(/\[\s*"((?:[^"\\]|\\.)*)"\s*\]|\[([^\]]*)\]|([^.[\]]+)/g)) {
    // Stryker disable next-line StringLiteral: a match is one of the three alternatives, whose group is then a string: the "" is never reached
    out.push(match[1] ?? match[2] ?? match[3] ?? "");
  }
  return out;
}

export function diffIntegration(olds: Props, news: Props, ignoreChanges: readonly string[] = []): IntegrationDiff {
  const changed: string[] = [];
  const replacing = new Set<string>();
  for (const field of FIELDS) {
    if (ignored(field.path, ignoreChanges)) continue;
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

/**
 * `outputs` with every field not in `changed` taken from `olds` (state), where state has it: what
 * an update did not change, it does not record anew.
 */
export function keepUnchanged<T extends object>(outputs: T, olds: Props, changed: readonly string[]): T {
  const out = structuredClone(outputs) as T & Props;
  for (const field of FIELDS) {
    if (changed.includes(field.path)) continue;
    const before = field.read(olds);
    if (before === undefined) continue;
    const keys = field.path.split(".");
    let target: Props = out;
    for (const key of keys.slice(0, -1)) {
      if (typeof target[key] !== "object" || target[key] === null) target[key] = {};
      target = target[key] as Props;
    }
    target[keys.at(-1) as string] = structuredClone(before);
  }
  return out;
}
