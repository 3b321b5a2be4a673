/**
 * `audit`: compare a stack's state (as `pulumi stack export` writes it) with what is live in
 * SendGrid, per account and subuser, and say what needs attention: drift, integrations gone from
 * SendGrid, live integrations nobody manages (each costing one of the 10 per account), and
 * creates that an interrupted `pulumi up` left pending, with the live integrations that match
 * them (or may: see `pendingVerdict`) and the exact recovery steps.
 *
 * Pure: the caller reads the export and lists live integrations. Write keys are compared when
 * state holds them in plaintext (`--show-secrets`) and the API returns them, and never printed.
 */
import { diffIntegration } from "../provider/diff";
import type { SegmentIntegrationInfo } from "../provider/list";
import { PACKAGE, RESOURCE_TOKEN } from "../provider/native/schema";
import { keyVerdict } from "../provider/reconcile";
import { DYNAMIC_RESOURCE_TYPE, normalizeEvents } from "../provider/types";
import { isMaskedWriteKey } from "../provider/wire";
import { declare, literal, renderDeclaration } from "./generate";
import { shown, term } from "./terminal";

/** The marker Pulumi puts on a secret value in a stack export. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** Which front door manages a resource: the dynamic provider's type, or the plugin's. */
export type Door = "dynamic" | "native";
const DOORS: Record<string, Door> = { [DYNAMIC_RESOURCE_TYPE]: "dynamic", [RESOURCE_TOKEN]: "native" };
/** The plugin's provider type: its resources may name an explicit instance of it. */
const NATIVE_PROVIDER_TYPE = `pulumi:providers:${PACKAGE}`;

/** A SegmentIntegration as state describes it. */
export interface StateIntegration {
  urn: string;
  name: string;
  /** The stack's label (`StackState.stack`): every finding names it. */
  stack: string;
  /** How to name the stack to the Pulumi CLI (`--stack`); "" when the export does not say. */
  stackRef: string;
  door: Door;
  /** Absent for a pending create. */
  id?: string;
  account?: string;
  onBehalfOf?: string;
  /** The plugin's explicit provider that manages it, by name; absent for a default provider (see `placeOf`). */
  provider?: string;
  label: string;
  destination: string;
  emailEvents: string[];
  /** Unknown when state holds `properties` encrypted. */
  destinationRegion?: string;
  writeKey?: string;
}

/** Which stack an export is: the organization only when the export says (see `stackIdOf`). */
export interface StackId {
  organization?: string;
  project?: string;
  stack?: string;
}

/** The resources of one stack's export, or of several merged (`mergeStates`). */
export interface Holdings {
  managed: StateIntegration[];
  pendingCreates: StateIntegration[];
  /** Other interrupted operations (updating, deleting, reading), by urn. */
  otherPending: { urn: string; type: string; stack: string; stackRef: string }[];
}

export interface StackState extends Holdings {
  id: StackId;
  /** `organization/project/stack`, as much of it as the export tells: `project/stack` without an organization. */
  stack: string;
  stackRef: string;
}

/** A live integration, with the write key when the API returned it (compared, never printed). */
export interface LiveIntegration extends SegmentIntegrationInfo {
  writeKey?: string;
}

export interface Place {
  account?: string;
  onBehalfOf?: string;
  /** An explicit provider whose account is not known (see `placeOf`). */
  provider?: string;
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
  /**
   * `matches`: live integrations proven to be what the pending create was making (every field
   * shown on both sides, and equal). `possibleMatches`: those whose shown fields agree but whose
   * write key (or region) is not shown on both sides: they may be it, or another Segment source's.
   */
  pendingCreates: {
    stack: string;
    name: string;
    urn: string;
    matches: string[];
    possibleMatches: string[];
    steps: string[];
  }[];
}

export interface AuditReport {
  /** Nothing needs attention, every account was read, and at least one was. */
  clean: boolean;
  /** The stacks whose exports were read, by label. */
  stacks: string[];
  groups: GroupReport[];
  otherPending: { urn: string; type: string; stack: string; steps: string[] }[];
}

export class StateFormatError extends Error {}

/**
 * The deployment versions `pulumi stack export` writes: 3, and 4 when a resource uses a newer
 * feature (taint, hooks, ...); both have the same shape (pulumi/pulumi
 * `sdk/go/common/apitype/core.go`, `DeploymentV3`: "both deployment schema versions 3 and 4 can be
 * unmarshaled into DeploymentV3"; `pkg/resource/stack/deployment.go`, `DeploymentSchemaVersionLatest`).
 */
const VERSIONS = [3, 4];

/** Reads `pulumi stack export` output (apitype UntypedDeployment, version 3 or 4). */
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
  if (doc.version !== undefined && !VERSIONS.includes(doc.version)) {
    throw new StateFormatError(
      `stack export version ${JSON.stringify(doc.version)} is not supported (expected ${VERSIONS.join(" or ")})`,
    );
  }
  // Stryker disable next-line ArrayDeclaration: a filler element is not a resource, skipped like none
  const resources: any[] = deployment.resources ?? [];
  // Stryker disable next-line ArrayDeclaration: a filler element is not an operation on a SegmentIntegration, skipped like none
  const operations: any[] = Array.isArray(deployment.pending_operations) ? deployment.pending_operations : [];
  const id = stackIdOf(deployment, [...resources, ...operations.map((op) => op?.resource)]);
  const stack = labelOf(id);
  const stackRef = id.organization ? stack : (id.stack ?? "");
  const read = (r: any, props: any, resourceId: unknown) =>
    toStateIntegration(r, props, resourceId, { stack, stackRef });
  const managed = resources.filter((r) => doorOf(r)).map((r) => read(r, r.outputs ?? r.inputs ?? {}, r.id));
  const pendingCreates: StateIntegration[] = [];
  const otherPending: StackState["otherPending"] = [];
  for (const op of operations) {
    const r = op?.resource;
    if (!doorOf(r)) continue;
    if (op.type === "creating") pendingCreates.push(read(r, r.inputs ?? {}, undefined));
    else otherPending.push({ urn: String(r.urn), type: String(op.type), stack, stackRef });
  }
  return { id, stack, stackRef, managed, pendingCreates, otherPending };
}

const doorOf = (resource: any): Door | undefined =>
  typeof resource?.type === "string" && Object.hasOwn(DOORS, resource.type) ? DOORS[resource.type] : undefined;

/**
 * Which stack an export is. Project and stack are in every urn (`urn:pulumi:<stack>::<project>::...`).
 * The organization is only in the state of the Pulumi Cloud secrets provider (type `service`:
 * owner, project, stack; pulumi/pulumi `pkg/secrets/service/manager.go`,
 * `serviceSecretsManagerState`). Nothing else in an export names it: the passphrase and cloud KMS
 * providers' states hold a salt or a key (`pkg/secrets/passphrase/manager.go`,
 * `pkg/secrets/cloud/manager.go`), and a self-managed backend has no organizations (it reports the
 * fixed name "organization": `pkg/backend/diy/backend.go`, `diyBackendReference.Organization`).
 */
export function stackIdOf(deployment: any, resources: any[]): StackId {
  const providers = deployment?.secrets_providers;
  const service = providers?.type === "service" && providers.state ? providers.state : {};
  const text = (value: unknown) => (typeof value === "string" && value ? value : undefined);
  const fromUrn = resources
    // a missing urn reads "undefined" or "null", which does not match
    .map((r) => /^urn:pulumi:([^:]+)::([^:]+)::/.exec(String(r?.urn)))
    .find((m) => m !== null);
  const organization = text(service.owner);
  const project = text(service.project) ?? fromUrn?.[2];
  const stack = text(service.stack) ?? fromUrn?.[1];
  return {
    ...(organization ? { organization } : {}),
    ...(project ? { project } : {}),
    ...(stack ? { stack } : {}),
  };
}

/** `acme/sendgrid-integrations/prod`, `sendgrid-integrations/prod` without an organization. */
export const labelOf = (id: StackId): string =>
  [id.organization, id.project, id.stack].filter((part) => part !== undefined).join("/");

function toStateIntegration(
  resource: any,
  props: any,
  id: unknown,
  stack: { stack: string; stackRef: string },
): StateIntegration {
  const urn = String(resource.urn ?? "");
  const properties = revealed(props.properties);
  const filters = revealed(props.filters);
  const integration: StateIntegration = {
    urn,
    name: urn.split("::").at(-1) ?? urn,
    ...stack,
    door: doorOf(resource)!,
    label: typeof props.label === "string" ? props.label : "Untitled Integration",
    destination: typeof props.destination === "string" ? props.destination : "Segment",
    emailEvents: normalizeEvents(Array.isArray(filters?.emailEvents) ? filters.emailEvents : []),
  };
  if (typeof id === "string" && id) integration.id = id;
  const account = revealed(props.account);
  const onBehalfOf = revealed(props.onBehalfOf);
  if (typeof account === "string" && account) integration.account = account;
  if (typeof onBehalfOf === "string" && onBehalfOf) integration.onBehalfOf = onBehalfOf;
  const provider = explicitProvider(resource.provider);
  if (provider !== undefined) integration.provider = provider;
  if (typeof properties?.destinationRegion === "string") integration.destinationRegion = properties.destinationRegion;
  if (typeof properties?.writeKey === "string") integration.writeKey = properties.writeKey;
  return integration;
}

/**
 * The name of the plugin's explicit provider in a resource's provider reference (`<provider urn>::<id>`),
 * or undefined for a default provider, whose name starts with "default" (pulumi/pulumi
 * `sdk/go/common/providers/reference.go`, `IsDefaultProvider`), or another package's.
 */
function explicitProvider(reference: unknown): string | undefined {
  // equivalent ArrayDeclaration: a list of one element has no type (parts[2]) either
  const parts = typeof reference === "string" ? reference.split("::") : [];
  const type = parts[2]?.split("$").at(-1);
  const name = parts[3];
  return type === NATIVE_PROVIDER_TYPE && name && !name.startsWith("default") ? name : undefined;
}

/** A value as state holds it, secrets opened where the export has them in plaintext (--show-secrets), else undefined. */
function revealed(value: any): any {
  if (Array.isArray(value)) return value.map(revealed);
  if (!(value && typeof value === "object")) return value;
  if (!(SECRET_SIG in value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, revealed(v)]));
  return typeof value.plaintext === "string" ? jsonOrUndefined(value.plaintext) : undefined;
}

function jsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // not JSON: undefined
  }
}

export const placeKey = (p: Place) => JSON.stringify([p.account, p.onBehalfOf, p.provider]);

/**
 * Where a resource's integration lives. A named account is named by its `account` input. Resources
 * that an explicit provider of the plugin manages belong to the account the user gave it
 * (`--provider NAME=ACCOUNT`, "default" for the default account): the export holds the provider's
 * key only encrypted, so only the user can say which account it is. Without that, the provider is
 * the place, reported as not checked.
 */
export function placeOf(i: Place, providers: ReadonlyMap<string, string> = new Map()): Place {
  // Stryker disable next-line ConditionalExpression,LogicalOperator: equivalent: no provider gets undefined from the map, and an account wins below anyway
  const assigned = i.provider !== undefined && !i.account ? providers.get(i.provider) : undefined;
  const account = i.account || (assigned === "default" ? undefined : assigned);
  return {
    ...(account ? { account } : {}),
    ...(i.onBehalfOf ? { onBehalfOf: i.onBehalfOf } : {}),
    ...(i.provider && !account && assigned === undefined ? { provider: i.provider } : {}),
  };
}

/** Every place (`placeOf`) the state mentions, plus the extra ones asked for, each once, in the order first seen. */
export function placesOf(state: Holdings, extra: Place[] = [], providers?: ReadonlyMap<string, string>): Place[] {
  const seen = new Map<string, Place>();
  for (const p of [...state.managed, ...state.pendingCreates, ...extra]) {
    const place = placeOf(p, providers);
    seen.set(placeKey(place), place); // the same key is the same place: overwriting changes nothing
  }
  return [...seen.values()];
}

/** Why a place of an explicit provider is not read: the message names the flag that fixes it. */
export const unassignedProvider = (provider: string): string =>
  `the explicit provider "${provider}" holds its key encrypted in state, so audit cannot tell its account: ` +
  `pass --provider ${provider}=<account> (the key from SENDGRID_ACCOUNT_<ACCOUNT>_API_KEY), ` +
  `or --provider ${provider}=default (SENDGRID_API_KEY)`;

/** The resources one `--file` (or standard input) held, and where they came from, for messages. */
export interface ReadExport {
  from: string;
  state: StackState;
}

/**
 * Several stack exports (stacks sharing accounts) as one: every stack's resources, each naming its
 * stack. Stacks are told apart by organization, project and stack name, never merged because their
 * names collide:
 * - the same export given twice (the same resources) counts once;
 * - two different exports of one stack whose organization the exports name are an error (which one
 *   is current?);
 * - two different exports whose organization is unknown (a self-managed backend, or a secrets
 *   provider other than Pulumi Cloud's) and whose project and stack names are the same may be two
 *   stacks of two backends: each stays a stack of its own, labelled with where it came from.
 */
export function mergeStates(exports: ReadExport[]): Holdings & { stacks: string[] } {
  const content = (s: StackState) => JSON.stringify([s.managed, s.pendingCreates, s.otherPending]);
  const byLabel = new Map<string, ReadExport[]>();
  for (const e of exports) {
    const same = byLabel.get(e.state.stack) ?? [];
    if (!same.some((kept) => content(kept.state) === content(e.state))) same.push(e);
    byLabel.set(e.state.stack, same);
  }
  const kept: StackState[] = [];
  for (const [label, same] of byLabel) {
    if (same.length > 1 && same[0]!.state.id.organization !== undefined) {
      throw new Error(
        term`${same[0]!.from} and ${same[1]!.from} are two different exports of the stack ${label}: pass one, the current one`,
      );
    }
    kept.push(
      ...(same.length > 1 ? same.map(({ from, state }) => relabel(state, `${label} (${from})`)) : [same[0]!.state]),
    );
  }
  return {
    stacks: [...new Set(kept.map((s) => s.stack))].filter(Boolean).sort(),
    managed: kept.flatMap((s) => s.managed),
    pendingCreates: kept.flatMap((s) => s.pendingCreates),
    otherPending: kept.flatMap((s) => s.otherPending),
  };
}

function relabel(state: StackState, stack: string): StackState {
  return {
    ...state,
    stack,
    managed: state.managed.map((i) => ({ ...i, stack })),
    pendingCreates: state.pendingCreates.map((i) => ({ ...i, stack })),
    otherPending: state.otherPending.map((op) => ({ ...op, stack })),
  };
}

/** Compare one account or subuser: `live` is what SendGrid lists there. */
export function auditPlace(
  place: Place,
  state: Holdings,
  live: LiveIntegration[],
  providers?: ReadonlyMap<string, string>,
): GroupReport {
  const here = (i: StateIntegration) => placeKey(placeOf(i, providers)) === placeKey(place);
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
  // Proven matches first, each kept for one pending create; then the possible ones among the rest,
  // offered to every pending create they may be (none of them is proven to be theirs).
  const pending = state.pendingCreates.filter(here).map((p) => {
    const matches = unclaimed().filter((l) => pendingVerdict(p, l).verdict === "same");
    for (const l of matches) claimed.add(l.integrationId);
    return { p, matches };
  });
  const offered = new Set<string>();
  for (const { p, matches } of pending) {
    const possible = unclaimed().flatMap((l) => {
      const { verdict, hidden } = pendingVerdict(p, l);
      return verdict === "maybe" ? [{ id: l.integrationId, hidden }] : [];
    });
    for (const { id } of possible) offered.add(id);
    const ids = matches.map((l) => l.integrationId);
    report.pendingCreates.push({
      stack: p.stack,
      name: p.name,
      urn: p.urn,
      matches: ids,
      possibleMatches: possible.map(({ id }) => id),
      steps: recoverySteps(p, ids, possible),
    });
  }
  for (const id of offered) claimed.add(id);
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
 * For drift only: what was not compared is no drift, but never makes a pending create's match
 * (`pendingVerdict`).
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
const fieldValue = (view: Record<string, any>, field: string): string => {
  if (field === "filters.emailEvents") return view.filters.emailEvents.join(",");
  if (field === "properties.destinationRegion") return String(view.properties.destinationRegion ?? "");
  return view[field] as string;
};

function driftOf(s: StateIntegration, l: LiveIntegration): DriftedField[] {
  const [state, live] = views(s, l);
  return diffIntegration(state, live).changed.map((field) =>
    // Compared only when both sides hold a real key; reported by name, never by value.
    field === "properties.writeKey"
      ? { field }
      : { field, state: fieldValue(state, field), live: fieldValue(live, field) },
  );
}

/** A field of a pending create that one side does not show, and which side: the export, or SendGrid. */
interface Hidden {
  field: "write key" | "region";
  by: "export" | "SendGrid";
}

/**
 * Whether a live integration is what a pending create was making, on the fields both sides show
 * (issue 23): "same" when every field is shown and equal; "maybe" when the shown ones are equal
 * but the write key or the region is not shown on both sides (the export holds it encrypted, or
 * the API masks or leaves it out); "other" when a shown field differs. A masked or missing key is
 * never the same as a declared one (`keyVerdict`: its visible parts can only prove it different).
 */
function pendingVerdict(
  p: StateIntegration,
  l: LiveIntegration,
): { verdict: "same" | "maybe" | "other"; hidden: Hidden[] } {
  const hidden: Hidden[] = [];
  const key = keyVerdict(l.writeKey, p.writeKey);
  if (key === "unseen") hidden.push({ field: "write key", by: p.writeKey === undefined ? "export" : "SendGrid" });
  const liveRegion = l.properties.destinationRegion;
  if (p.destinationRegion === undefined) hidden.push({ field: "region", by: "export" });
  else if (liveRegion === undefined) hidden.push({ field: "region", by: "SendGrid" });
  const regionShown = p.destinationRegion !== undefined && liveRegion !== undefined;
  // diff's notion of "the same integration" on the shown fields; the key is `keyVerdict`'s.
  const view = (label: string, destination: string, emailEvents: string[], region?: string) => ({
    label,
    destination,
    filters: { emailEvents },
    properties: { destinationRegion: regionShown ? region : undefined },
  });
  const differs =
    key === "different" ||
    diffIntegration(
      view(p.label, p.destination, p.emailEvents, p.destinationRegion),
      view(l.label, l.destination, l.filters.emailEvents, liveRegion),
    ).changes;
  // equivalent StringLiteral: (for "other") callers compare the verdict with "same" and "maybe" only, so any other text reads as "other"
  return { verdict: differs ? "other" : hidden.length ? "maybe" : "same", hidden };
}

/**
 * A word for a shell command line: as it is when it holds only characters no shell treats
 * specially, else in single quotes. Names and stacks come from the export, and are pasted into a
 * terminal by whoever follows the steps.
 */
export const shellArg = (word: string): string =>
  /^[A-Za-z0-9_./:@=+-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;

const stackFlag = (stackRef: string) => (stackRef ? ` --stack ${shellArg(stackRef)}` : "");

function recoverySteps(p: StateIntegration, matches: string[], possible: { id: string; hidden: Hidden[] }[]): string[] {
  const stack = stackFlag(p.stackRef);
  const why = p.door === "dynamic" ? " (the CLI cannot import it for a dynamic resource)" : "";
  const clear = `pulumi refresh --clear-pending-creates${stack}: drop the pending create from state${why}`;
  if (matches.length === 0 && possible.length === 0) {
    return [clear, `nothing was created in SendGrid; \`pulumi up${stack}\` creates "${p.name}"`];
  }
  if (matches.length === 0) {
    const ids = possible.map(({ id }) => id);
    const which = ids.length === 1 ? ids[0]! : "<the one whose write key it is>";
    return [
      clear,
      `${notProven(p, possible)} Before adopting, check the ${unseenFields(possible)} in SendGrid: adopting sets every field, ` +
        "the write key included, so adopting another Segment source's integration would take it over",
      `only if its write key is the one "${p.name}" declares: ${adoption(p, which, stack)}; if not, ` +
        `\`pulumi up${stack}\` creates "${p.name}"`,
    ];
  }
  const steps =
    matches.length === 1
      ? [clear, `${adoption(p, matches[0]!, stack)}: it adopts that integration instead of creating a duplicate`]
      : [
          clear,
          `${matches.length} live integrations match "${p.name}" (${matches.join(", ")}): keep one, delete the others in SendGrid`,
          adoption(p, "<the one you kept>", stack),
        ];
  if (possible.length > 0) {
    steps.push(
      `besides, ${notProven(p, possible)} Check the ${unseenFields(possible)} in SendGrid before deleting any: ` +
        "an integration of another Segment source is not a duplicate",
    );
  }
  return steps;
}

/** "N live integrations may be "name" (ids): ..., but the export holds the write key encrypted (...)." */
function notProven(p: StateIntegration, possible: { id: string; hidden: Hidden[] }[]): string {
  const hidden = possible.flatMap((c) => c.hidden);
  const by = (side: Hidden["by"]) => unseenFields([{ hidden: hidden.filter((h) => h.by === side) }]);
  const [inExport, inSendGrid] = [by("export"), by("SendGrid")];
  const reasons = [
    ...(inExport
      ? [
          `the export holds the ${inExport} encrypted (re-export with \`pulumi stack export --show-secrets\` ` +
            `to compare ${inExport.includes(" and ") ? "them" : "it"})`,
        ]
      : []),
    ...(inSendGrid ? [`SendGrid masks or leaves out the ${inSendGrid}`] : []),
  ];
  const n = possible.length;
  return (
    `${n} live integration${n === 1 ? "" : "s"} may be "${p.name}" (${possible.map(({ id }) => id).join(", ")}): ` +
    `label, destination and events agree, but ${reasons.join(", and ")}.`
  );
}

/** The fields that some possible match hides: "write key", "region", or "write key and region". */
const unseenFields = (possible: { hidden: Hidden[] }[]): string =>
  (["write key", "region"] as const)
    .filter((field) => possible.some((c) => c.hidden.some((h) => h.field === field)))
    .join(" and ");

/**
 * How to adopt a live integration for a pending create: `importId` in the dynamic door; the
 * plugin's own import (the `import` resource option, or `pulumi import` for a resource declared at
 * the top level with the default provider) elsewhere, with an import id that says where the
 * integration lives (`[<account>:][<subuser>/]<id>`: Pulumi sends the id alone to the provider's Read).
 */
function adoption(p: StateIntegration, id: string, stack: string): string {
  const then = `then \`pulumi up${stack}\``;
  if (p.door === "dynamic") return `add \`importId: "${id}"\` to the declaration of "${p.name}", ${then}`;
  const importId = `${p.account ? `${p.account}:` : ""}${p.onBehalfOf ? `${p.onBehalfOf}/` : ""}${id}`;
  const command = p.provider
    ? ""
    : ` (or, for a resource declared at the top level, \`pulumi import ${RESOURCE_TOKEN} ${shellArg(p.name)} ${shellArg(importId)}${stack}\`)`;
  return `add the resource option \`import: ${JSON.stringify(importId)}\` to the declaration of "${p.name}", ${then}, then remove the option${command}`;
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

export function otherPendingSteps(op: { type: string; stackRef: string }): string[] {
  return [`an interrupted ${op.type} operation: run \`pulumi refresh${stackFlag(op.stackRef)}\``];
}

/** A place, for people: `account "eu", subuser "sub"`, `default account, parent`, `explicit provider "eu", parent`. */
export const where = (g: Place): string =>
  (g.provider !== undefined
    ? term`explicit provider "${g.provider}"`
    : g.account
      ? term`account "${g.account}"`
      : "default account") + (g.onBehalfOf ? term`, subuser "${g.onBehalfOf}"` : ", parent");

/**
 * The report for people. Every value from the export or the API is escaped for the terminal
 * (`term`); labels and drifted values are string literals (`literal`). With several stacks, every
 * finding names its stack.
 */
export function renderAudit(report: AuditReport): string {
  const out: string[] = [];
  const several = report.stacks.length > 1;
  const of = (stack: string) => (several ? `, stack ${shown(stack)}` : "");
  const named = (f: { stack: string; name: string; id?: string }) =>
    `${shown(f.name)}${f.id === undefined ? "" : ` (${shown(f.id)})`}${of(f.stack)}`;
  for (const g of report.groups) {
    out.push(`${where(g)}:`);
    if (g.error) {
      out.push(`  not checked: ${shown(g.error)}`);
      continue;
    }
    for (const i of g.inSync) out.push(`  in sync       ${named(i)}`);
    for (const d of g.drifted) {
      const what = d.fields
        .map((f) => ("state" in f ? `${shown(f.field)} ${literal(f.state)} → ${literal(f.live)}` : shown(f.field)))
        .join("; ");
      out.push(
        `  drifted       ${named(d)}: ${what}. \`pulumi refresh\` shows it; \`pulumi up\` restores the program's values`,
      );
    }
    for (const d of g.gone) {
      out.push(
        `  gone          ${named(d)}: in state, not in SendGrid. \`pulumi refresh\` drops it; \`pulumi up\` then creates it again`,
      );
    }
    for (const p of g.pendingCreates) {
      const found = [
        p.matches.length
          ? `live matches: ${shown(p.matches.join(", "))}`
          : p.possibleMatches.length
            ? "no proven live match"
            : "no live match",
        ...(p.possibleMatches.length ? [`possible matches, not proven: ${shown(p.possibleMatches.join(", "))}`] : []),
      ].join("; ");
      out.push(
        `  pending create ${named({ ...p, id: undefined })}: an interrupted \`pulumi up\` may have created it; ${found}. To recover:`,
      );
      out.push(...p.steps.map((step, i) => `    ${i + 1}. ${shown(step)}`));
    }
    for (const t of g.heldTwice) {
      const holders = t.holders.map((h) => `${shown(h.name)} (stack ${shown(h.stack)})`).join(" and ");
      const urns = shown(t.holders.map((h) => h.urn).join(", "));
      out.push(
        `  held twice    ${shown(t.id)}: managed by ${holders}; a destroy of either deletes it for all. ` +
          `Keep it in one: \`pulumi state delete '<urn>'\` in the others (${urns})`,
      );
    }
    for (const u of g.unmanaged) {
      out.push(
        `  unmanaged     ${literal(u.label)} (${shown(u.id)}): live, not in ${several ? "these stacks'" : "this stack's"} state. Adopt it with:`,
      );
      for (const line of u.declaration.split("\n")) out.push(`    ${shown(line)}`);
      out.push("    (or delete it in SendGrid: it counts toward the limit of 10)");
    }
    if (!needsAttention(g) && g.inSync.length === 0) out.push("  nothing here");
  }
  for (const op of report.otherPending) {
    out.push(`pending ${shown(op.type)} ${shown(op.urn)}${of(op.stack)}: ${shown(op.steps.join("; "))}`);
  }
  if (report.groups.every((g) => g.error)) {
    out.push(
      "Nothing was checked: no account or subuser could be read (see above), so this says nothing about SendGrid.",
    );
  } else out.push(report.clean ? "Clean: state and SendGrid agree." : "Needs attention: see above.");
  return `${out.join("\n")}\n`;
}
