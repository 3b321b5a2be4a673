/**
 * `audit`: compare a stack's state (as `pulumi stack export` writes it) with what is live in
 * SendGrid, per account and subuser, and say what needs attention: drift, integrations gone from
 * SendGrid, live integrations nobody manages (each costing one of the 10 per account), and
 * creates that an interrupted `pulumi up` left pending, with the live integrations that match
 * them and the exact recovery steps.
 *
 * Pure: the caller reads the export and lists live integrations. Write keys are compared when
 * state holds them in plaintext (`--show-secrets`) and the API returns them, and never printed.
 */
import { diffIntegration } from "../provider/diff";
import { SEGMENT_INTEGRATION_TYPE } from "../provider/dynamic/segmentIntegration";
import type { SegmentIntegrationInfo } from "../provider/list";
import { normalizeEvents } from "../provider/types";
import { isMaskedWriteKey } from "../provider/wire";
import { declare, literal, renderDeclaration } from "./generate";

/** The marker Pulumi puts on a secret value in a stack export. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** A SegmentIntegration as state describes it. */
export interface StateIntegration {
  urn: string;
  name: string;
  stack: string;
  /** Absent for a pending create. */
  id?: string;
  account?: string;
  onBehalfOf?: string;
  label: string;
  destination: string;
  emailEvents: string[];
  /** Unknown when state holds `properties` encrypted. */
  destinationRegion?: string;
  writeKey?: string;
}

export interface StackState {
  managed: StateIntegration[];
  pendingCreates: StateIntegration[];
  /** Other interrupted operations (updating, deleting, reading), by urn. */
  otherPending: { urn: string; type: string }[];
}

/** A live integration, with the write key when the API returned it (compared, never printed). */
export interface LiveIntegration extends SegmentIntegrationInfo {
  writeKey?: string;
}

export interface Place {
  account?: string;
  onBehalfOf?: string;
}

export type DriftedField = { field: string } | { field: string; state: string; live: string };

export interface GroupReport extends Place {
  /** Why this account or subuser could not be read; nothing else is known of it then. */
  error?: string;
  /** Each names the stack whose state manages it. */
  inSync: { stack: string; name: string; id: string }[];
  /** Each field with its values on both sides, or by name alone (the write key). */
  drifted: { stack: string; name: string; id: string; fields: DriftedField[] }[];
  gone: { stack: string; name: string; id: string }[];
  /** Live integrations that more than one resource manages (in one stack or several): a destroy of either deletes it. */
  heldTwice: { id: string; holders: { stack: string; name: string; urn: string }[] }[];
  /** Live, in none of the given stacks' state. */
  unmanaged: { id: string; label: string; declaration: string }[];
  pendingCreates: { stack: string; name: string; urn: string; matches: string[]; steps: string[] }[];
}

export interface AuditReport {
  /** Nothing needs attention, every account was read, and at least one was. */
  clean: boolean;
  /** The stacks whose exports were read. */
  stacks: string[];
  groups: GroupReport[];
  otherPending: { urn: string; type: string; steps: string[] }[];
}

export class StateFormatError extends Error {}

/** Reads `pulumi stack export` output (apitype UntypedDeployment, version 3). */
export function parseStackExport(text: string): StackState {
  let doc: any;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new StateFormatError("the state is not JSON: pass the output of `pulumi stack export`");
  }
  const deployment = doc?.deployment;
  // Stryker disable next-line ArrayDeclaration: a filler element is not a SegmentIntegration and is skipped like none
  if (!deployment || typeof deployment !== "object" || !Array.isArray(deployment.resources ?? [])) {
    throw new StateFormatError("no deployment.resources: pass the output of `pulumi stack export`");
  }
  if (doc.version !== undefined && doc.version !== 3) {
    throw new StateFormatError(`stack export version ${JSON.stringify(doc.version)} is not supported (expected 3)`);
  }
  // Stryker disable next-line ArrayDeclaration: a filler element is not a SegmentIntegration and is skipped like none
  const managed = (deployment.resources ?? [])
    .filter((r: any) => r?.type === SEGMENT_INTEGRATION_TYPE)
    .map((r: any) => toStateIntegration(r, r.outputs ?? r.inputs ?? {}, r.id));
  const pendingCreates: StateIntegration[] = [];
  const otherPending: StackState["otherPending"] = [];
  // Stryker disable next-line ArrayDeclaration: a filler element is not an operation on a SegmentIntegration, skipped like none
  for (const op of deployment.pending_operations ?? []) {
    const r = op?.resource;
    if (r?.type !== SEGMENT_INTEGRATION_TYPE) continue;
    if (op.type === "creating") pendingCreates.push(toStateIntegration(r, r.inputs ?? {}, undefined));
    else otherPending.push({ urn: String(r.urn), type: String(op.type) });
  }
  return { managed, pendingCreates, otherPending };
}

function toStateIntegration(resource: any, props: any, id: unknown): StateIntegration {
  const urn = String(resource.urn ?? "");
  const properties = revealed(props.properties);
  const filters = revealed(props.filters);
  const integration: StateIntegration = {
    urn,
    name: urn.split("::").at(-1) ?? urn,
    stack: stackOf(urn) ?? "",
    label: typeof props.label === "string" ? props.label : "Untitled Integration",
    destination: typeof props.destination === "string" ? props.destination : "Segment",
    emailEvents: normalizeEvents(Array.isArray(filters?.emailEvents) ? filters.emailEvents : []),
  };
  if (typeof id === "string" && id) integration.id = id;
  if (typeof props.account === "string" && props.account) integration.account = props.account;
  if (typeof props.onBehalfOf === "string" && props.onBehalfOf) integration.onBehalfOf = props.onBehalfOf;
  if (typeof properties?.destinationRegion === "string") integration.destinationRegion = properties.destinationRegion;
  if (typeof properties?.writeKey === "string") integration.writeKey = properties.writeKey;
  return integration;
}

/** The stack a urn names (`urn:pulumi:<stack>::...`). */
const stackOf = (urn: string): string | undefined => /^urn:pulumi:([^:]+)::/.exec(urn)?.[1];

/** A value as state holds it: plain, a secret in plaintext (--show-secrets), or undefined if encrypted. */
function revealed(value: any): any {
  if (!(value && typeof value === "object" && SECRET_SIG in value)) return value;
  return typeof value.plaintext === "string" ? jsonOrUndefined(value.plaintext) : undefined;
}

function jsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
    // equivalent BlockStatement: an emptied catch returns undefined all the same
  } catch {
    return undefined;
  }
}

export const placeKey = (p: Place) => JSON.stringify([p.account, p.onBehalfOf]);

/** Every account and subuser the state mentions, plus the extra ones asked for, each once. */
export function placesOf(state: StackState, extra: Place[] = []): Place[] {
  const seen = new Map<string, Place>();
  for (const p of [...state.managed, ...state.pendingCreates, ...extra]) {
    const place: Place = {
      ...(p.account ? { account: p.account } : {}),
      ...(p.onBehalfOf ? { onBehalfOf: p.onBehalfOf } : {}),
    };
    seen.set(placeKey(place), place); // the same key is the same place: overwriting changes nothing
  }
  return [...seen.values()];
}

/**
 * Several stack exports (stacks sharing accounts) as one: every stack's resources, each naming its
 * stack. A resource (urn) given twice, as by passing one export twice, counts once.
 */
export function mergeStates(states: StackState[]): StackState {
  const once = <T extends { urn: string }>(items: T[]) => [...new Map(items.map((i) => [i.urn, i])).values()];
  return {
    managed: once(states.flatMap((s) => s.managed)),
    pendingCreates: once(states.flatMap((s) => s.pendingCreates)),
    otherPending: once(states.flatMap((s) => s.otherPending)),
  };
}

/** Compare one account or subuser: `live` is what SendGrid lists there. */
export function auditPlace(place: Place, state: StackState, live: LiveIntegration[]): GroupReport {
  const here = (i: StateIntegration) => placeKey(i) === placeKey(place);
  const managed = state.managed.filter(here);
  const report: Omit<GroupReport, "unmanaged"> = {
    ...place,
    inSync: [],
    drifted: [],
    gone: [],
    heldTwice: [],
    pendingCreates: [],
  };
  const byId = new Map(live.map((l) => [l.integrationId, l]));
  const claimed = new Set<string>();
  for (const s of managed) {
    const l = s.id ? byId.get(s.id) : undefined;
    const entry = { stack: s.stack, name: s.name, id: s.id ?? "" };
    if (!l) {
      report.gone.push(entry);
      continue;
    }
    claimed.add(l.integrationId);
    const fields = driftOf(s, l);
    if (fields.length) report.drifted.push({ ...entry, fields });
    else report.inSync.push(entry);
  }
  for (const id of claimed) {
    const holders = managed.filter((s) => s.id === id).map((s) => ({ stack: s.stack, name: s.name, urn: s.urn }));
    if (holders.length > 1) report.heldTwice.push({ id, holders });
  }
  const unclaimed = () => live.filter((l) => !claimed.has(l.integrationId));
  for (const p of state.pendingCreates.filter(here)) {
    const matches = unclaimed()
      .filter((l) => matchesPending(p, l))
      .map((l) => l.integrationId);
    for (const id of matches) claimed.add(id);
    report.pendingCreates.push({ stack: p.stack, name: p.name, urn: p.urn, matches, steps: recoverySteps(p, matches) });
  }
  const rest = unclaimed();
  const declarations = declare(rest);
  const unmanaged = rest.map((l, i) => ({
    id: l.integrationId,
    label: l.label,
    declaration: renderDeclaration(declarations[i]!).join("\n"),
  }));
  return { ...report, unmanaged };
}

/**
 * State's and SendGrid's views of one integration in the program's shape, for the one notion of
 * "the same integration" (diff's, `diffIntegration`). The deliberate difference: what state holds
 * encrypted (no `--show-secrets`) and a write key the API masks are not compared, so the live side
 * takes state's value there. Account and subuser are the same by where the live one was listed.
 */
function views(s: StateIntegration, l: LiveIntegration): [Record<string, unknown>, Record<string, unknown>] {
  const keyHidden = s.writeKey === undefined || isMaskedWriteKey(l.writeKey);
  const view = (label: string, destination: string, emailEvents: string[], writeKey?: string, region?: string) => ({
    label,
    destination,
    filters: { emailEvents },
    properties: { writeKey, destinationRegion: region },
  });
  return [
    view(s.label, s.destination, s.emailEvents, s.writeKey, s.destinationRegion),
    view(
      l.label,
      l.destination,
      l.filters.emailEvents,
      keyHidden ? s.writeKey : l.writeKey,
      s.destinationRegion === undefined ? undefined : l.properties.destinationRegion,
    ),
  ];
}

/** How a drifted field's values are shown: events as a list, the write key never. */
const shown = (view: Record<string, any>, field: string): string => {
  if (field === "filters.emailEvents") return view.filters.emailEvents.join(",");
  if (field === "properties.destinationRegion") return String(view.properties.destinationRegion ?? "");
  return view[field] as string;
};

function driftOf(s: StateIntegration, l: LiveIntegration): DriftedField[] {
  const [state, live] = views(s, l);
  return diffIntegration(state, live).changed.map((field) =>
    // Compared only when both sides hold a real key; reported by name, never by value.
    field === "properties.writeKey" ? { field } : { field, state: shown(state, field), live: shown(live, field) },
  );
}

/** What a pending create would have made: the same integration (region and key when state knows them). */
const matchesPending = (p: StateIntegration, l: LiveIntegration): boolean => !diffIntegration(...views(p, l)).changes;

function recoverySteps(p: StateIntegration, matches: string[]): string[] {
  const stack = p.stack ? ` --stack ${p.stack}` : "";
  const clear = `pulumi refresh --clear-pending-creates${stack}: drop the pending create from state (the CLI cannot import it for a dynamic resource)`;
  if (matches.length === 0) {
    return [clear, `nothing was created in SendGrid; \`pulumi up${stack}\` creates "${p.name}"`];
  }
  if (matches.length === 1) {
    return [
      clear,
      `add \`importId: "${matches[0]}"\` to the declaration of "${p.name}", then \`pulumi up${stack}\`: it adopts that integration instead of creating a duplicate`,
    ];
  }
  return [
    clear,
    `${matches.length} live integrations match "${p.name}" (${matches.join(", ")}): keep one, delete the others in SendGrid`,
    `add \`importId: "<the one you kept>"\` to the declaration of "${p.name}", then \`pulumi up${stack}\``,
  ];
}

export function needsAttention(g: GroupReport): boolean {
  return !!(
    g.error ||
    g.drifted.length ||
    g.gone.length ||
    g.heldTwice.length ||
    g.unmanaged.length ||
    g.pendingCreates.length
  );
}

export function otherPendingSteps(op: { urn: string; type: string }): string[] {
  const stack = stackOf(op.urn);
  return [`an interrupted ${op.type} operation: run \`pulumi refresh${stack ? ` --stack ${stack}` : ""}\``];
}

const where = (g: Place) =>
  `${g.account ? `account "${g.account}"` : "default account"}${g.onBehalfOf ? `, subuser "${g.onBehalfOf}"` : ", parent"}`;

/** The report for people. */
export function renderAudit(report: AuditReport): string {
  const out: string[] = [];
  for (const g of report.groups) {
    out.push(`${where(g)}:`);
    if (g.error) {
      out.push(`  not checked: ${g.error}`);
      continue;
    }
    for (const i of g.inSync) out.push(`  in sync       ${i.name} (${i.id})`);
    for (const d of g.drifted) {
      const what = d.fields
        .map((f) => ("state" in f ? `${f.field} ${literal(f.state)} → ${literal(f.live)}` : f.field))
        .join("; ");
      out.push(
        `  drifted       ${d.name} (${d.id}): ${what}. \`pulumi refresh\` shows it; \`pulumi up\` restores the program's values`,
      );
    }
    for (const d of g.gone) {
      out.push(
        `  gone          ${d.name} (${d.id}): in state, not in SendGrid. \`pulumi refresh\` drops it; \`pulumi up\` then creates it again`,
      );
    }
    for (const p of g.pendingCreates) {
      const found = p.matches.length ? `live matches: ${p.matches.join(", ")}` : "no live match";
      out.push(`  pending create ${p.name}: an interrupted \`pulumi up\` may have created it; ${found}. To recover:`);
      out.push(...p.steps.map((step, i) => `    ${i + 1}. ${step}`));
    }
    for (const t of g.heldTwice) {
      const holders = t.holders.map((h) => `${h.name} (stack ${h.stack})`).join(" and ");
      out.push(
        `  held twice    ${t.id}: managed by ${holders}; a destroy of either deletes it for all. ` +
          `Keep it in one: \`pulumi state delete '<urn>'\` in the others (${t.holders.map((h) => h.urn).join(", ")})`,
      );
    }
    for (const u of g.unmanaged) {
      out.push(
        `  unmanaged     ${literal(u.label)} (${u.id}): live, not in ${report.stacks.length > 1 ? "these stacks'" : "this stack's"} state. Adopt it with:`,
      );
      for (const line of u.declaration.split("\n")) out.push(`    ${line}`);
      out.push("    (or delete it in SendGrid: it counts toward the limit of 10)");
    }
    if (!needsAttention(g) && g.inSync.length === 0) out.push("  nothing here");
  }
  for (const op of report.otherPending) out.push(`pending ${op.type} ${op.urn}: ${op.steps.join("; ")}`);
  if (report.groups.every((g) => g.error)) {
    out.push(
      "Nothing was checked: no account or subuser could be read (see above), so this says nothing about SendGrid.",
    );
  } else out.push(report.clean ? "Clean: state and SendGrid agree." : "Needs attention: see above.");
  return `${out.join("\n")}\n`;
}
