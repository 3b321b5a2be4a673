// A model of one stack's life against the emulator: random sequences of engine operations as the
// engine's source makes them (support/engine-sim.ts): up, replace in both orders, `--replace`,
// recreation after a failed delete-before-replace, ignoreChanges, refresh (one resource, or the
// whole pre-pass), destroy, adoption with importId, the `import` option (plugin), identical twins
// created at once, previews, a provider replaced by DiffConfig, Cancel mid-operation (plugin),
// out-of-band edits and deletions, a new deployment; each with random faults injected (5xx,
// timeouts, commits the server finishes after the client gave up, resets, 429s with any reset,
// HTML and JSON 404s, dropped, garbled or gateway-answered commits), under answers that may mask or
// omit write keys or leave out regions, and a PATCH that may apply the spec's label default. After
// every step the invariants hold:
//
//  1. every resource in state (pending deletes too) points to a live integration, unless it was
//     deleted out of band since, or a failed delete may have removed it;
//  2. no two resources in state hold one integration;
//  3. no live integration a resource once held disappeared, unless the engine deleted it (destroy,
//     or a replacement), it was deleted out of band, or a failed delete may have removed it;
//  4. no integration was created twice for one resource: every live integration is held by a
//     resource, was made in the UI, or was named by a failed create as one that may exist;
//  5. a successful create leaves the live integration as declared, an update the fields it changed;
//  6. no secret (API key, write keys), whole or a run of 6 of its characters, in any error or in
//     what the provider process printed;
//  7. no operation fails because of state the provider wrote itself: a step that failed under
//     faults succeeds when run again without them, in a new deployment (after a refresh where its
//     error said one is needed);
//  8. a preview changes nothing in SendGrid, and an update never renames an integration whose
//     label it was not asked to change.
//
// The system under test is reached through a `Door` (support/engine-sim.ts), so the same model can
// drive any front door.
import { expect } from "vitest";
import type { AnswerMode, Emulator, Fault } from "../../emulator";
import { CheckFailed, type Door, SimEngine, type UpOptions } from "./engine-sim";
import { fc } from "./fast-check";
import { expectNoSecretPart, WRITE_KEY, WRITE_KEY_2 } from "./fixtures";

export const TIMEOUT_MS = 250;
export const RETRY_BUDGET_MS = 1500;

/** A provider process for one engine run, configured, reached through a Door. */
export interface Deployment {
  door: Door;
  extra: Record<string, unknown>;
  output: () => string;
  /** Whether Configure asked for previews of create and update (the plugin does; the dynamic runtime does not). */
  supportsPreview: boolean;
  /** The plugin: importable (`import` option) and cancellable (the dynamic runtime's Cancel does nothing). */
  native: boolean;
  stop(): Promise<void>;
}

/** Starts a provider process for a new engine run. */
export type StartDeployment = () => Promise<Deployment>;

interface Args {
  label: string;
  filters: { emailEvents: string[] };
  properties: { writeKey: string; destinationRegion: string };
  onBehalfOf?: string;
  importId?: string;
}

/** What the model tracks beside the engine's state. */
export interface Model {
  /** Ids some resource held at some point. */
  everHeld: Set<string>;
  /** Ids the engine deleted, deleted out of band, or that a failed delete may have removed. */
  mayBeGone: Set<string>;
  /** Ids made in the UI (seeded), never a resource's until adopted. */
  uiMade: Set<string>;
  /** Ids a failed create said may exist. */
  reportedOrphans: Set<string>;
  /** Failures seen (for the report). */
  failures: string[];
  steps: number;
}

export interface Real {
  emulator: Emulator;
  engine: SimEngine;
  start: StartDeployment;
  /** The current engine run's provider process. */
  current: Deployment;
  /** Everything printed by the provider processes so far. */
  printed: string[];
  /** Resources operated on in this deployment (provider process). */
  touched: Set<string>;
  /** While a heal runs the program as an error said: without importId (healed). */
  withoutImportId?: boolean;
}

const output = (real: Real) => [...real.printed, real.current.output()].join("\n");

/**
 * The CLI acts on a resource at most once per deployment (sg.go:276-288 generateURN), each command
 * (`up`, `refresh`, `destroy`) is a deployment of its own, with its own provider process, and a
 * deployment never deletes a resource it registered (sg.go:2423 GenerateDeletes). So a step on a
 * resource this deployment already registered or acted on starts a new deployment first, whose
 * program declares every other resource in state.
 */
async function deploymentFor(real: Real, ...names: string[]) {
  if (names.some((n) => real.touched.has(n))) await restart(real, names);
  for (const n of names) real.touched.add(n);
}

const NAMES = ["a", "b", "c"] as const;

const argsArb: fc.Arbitrary<Args> = fc.record(
  {
    label: fc.constantFrom("L1", "L2"),
    filters: fc.record({ emailEvents: fc.constantFrom(["open"], ["click", "open"]) }),
    properties: fc.record({
      writeKey: fc.constantFrom(WRITE_KEY, WRITE_KEY_2),
      destinationRegion: fc.constantFrom("US", "EU"),
    }),
    onBehalfOf: fc.constant("sub"),
  },
  { requiredKeys: ["label", "filters", "properties"] },
);

const anyMethod = fc.constantFrom("GET", "POST", "PATCH", "DELETE");

/** One fault, for the next matching request only (or two). */
const faultArb: fc.Arbitrary<Fault> = fc.oneof(
  fc.record({
    kind: fc.constant("status" as const),
    status: fc.constantFrom(500, 502, 503, 504),
    method: anyMethod,
    times: fc.constantFrom(1, 2),
  }),
  fc.record({
    kind: fc.constant("status" as const),
    status: fc.constant(429),
    resetOffsetSeconds: fc.constantFrom(-5, 0, 1),
    method: anyMethod,
  }),
  fc.record({
    kind: fc.constant("status" as const),
    status: fc.constant(429),
    retryAfter: fc.constant("0"),
    method: anyMethod,
  }),
  fc.record({
    kind: fc.constantFrom("reset" as const, "hang" as const, "commit-drop" as const, "commit-garbled" as const),
    method: anyMethod,
  }),
  // A gateway answering for an origin that did the work (Cloudflare's 52x).
  fc.record({
    kind: fc.constant("commit-status" as const),
    status: fc.constantFrom(520, 522, 524),
    method: fc.constantFrom("POST", "PATCH", "DELETE"),
  }),
  // A server still committing after the client's timeout, within the settle window.
  fc.record({
    kind: fc.constant("late-commit" as const),
    delayMs: fc.integer({ min: TIMEOUT_MS + 20, max: 2 * TIMEOUT_MS - 60 }),
    method: fc.constantFrom("POST", "PATCH", "DELETE"),
  }),
  // A proxy's page, and SendGrid's own JSON 404 where no 404 belongs (an unknown route answers it too).
  fc.record({ kind: fc.constant("html" as const), status: fc.constant(404), method: fc.constantFrom("GET", "DELETE") }),
  fc.record({ kind: fc.constant("status" as const), status: fc.constant(404), method: anyMethod }),
  fc.record({
    kind: fc.constant("malformed" as const),
    body: fc.constantFrom("truncated" as const, "no-id" as const, "text" as const),
    method: fc.constantFrom("POST", "PATCH"),
  }),
);
const faultsArb = fc.array(faultArb, { maxLength: 2 });

/** How the emulator shows integrations for a whole sequence: what the spec allows the API to do. */
export const modeArb: fc.Arbitrary<AnswerMode> = fc.record({
  writeKeyMode: fc.constantFrom("full" as const, "masked" as const, "omitted" as const),
  omitRegion: fc.boolean(),
  patchLabelDefault: fc.boolean(),
});

const accountOf = (outputs: Record<string, any>) => (outputs.onBehalfOf as string | undefined) ?? "";

function liveMap(emulator: Emulator): Map<string, { account: string; integration: any }> {
  const live = new Map<string, { account: string; integration: any }>();
  for (const [account, list] of emulator.accounts())
    for (const i of list) live.set(i.integration_id, { account, integration: i });
  return live;
}

/**
 * Runs `step` with faults injected, then checks every invariant; a step that failed is run again
 * without faults (invariant 7). `step` returns the ids the engine deleted; `deletes` are those it
 * may have deleted had it failed part way. `heal` re-runs it in a new deployment.
 */
async function withFaults(
  model: Model,
  real: Real,
  faults: Fault[],
  creates: number,
  step: () => Promise<unknown>,
  deletes: string[] = [],
  heal?: () => Promise<unknown>,
) {
  model.steps++;
  const before = new Set(liveMap(real.emulator).keys());
  real.emulator.inject(...faults);
  let failure: Error | undefined;
  try {
    const deleted = await step();
    if (Array.isArray(deleted)) for (const id of deleted) model.mayBeGone.add(id);
  } catch (error) {
    failure = error as Error;
    // A sequence the engine never runs is the model's bug, not a fault's effect: stop at once.
    if (/^Duplicate resource URN|^harness:/.test(failure.message)) throw failure;
  }
  real.emulator.clearFaults();
  await settleLateCommits(faults);
  if (failure) {
    expectNoSecretPart(failure.message);
    if (!(failure instanceof CheckFailed)) model.failures.push(`${failure.name}: ${failure.message.slice(0, 160)}`);
    for (const id of deletes) model.mayBeGone.add(id); // a delete that failed may still have happened
  }
  accountForNew(model, real, before, failure, creates);
  checkInvariants(model, real);
  if (failure && heal && !(failure instanceof CheckFailed)) await healed(model, real, failure, heal);
}

/** 4. Every new live integration is held, or a failed create said it may exist. */
function accountForNew(model: Model, real: Real, before: Set<string>, failure: Error | undefined, creates: number) {
  const live = liveMap(real.emulator);
  const held = real.engine.ids();
  for (const id of held) model.everHeld.add(id);
  const fresh = [...live.keys()].filter((id) => !before.has(id) && !held.includes(id) && !model.uiMade.has(id));
  if (fresh.length === 0) return;
  // Only the message crosses gRPC: a create that may have left one says "It may have been created".
  const mayExist = failure?.message.includes("It may have been created") === true;
  expect(mayExist, `unheld new integrations ${fresh} after ${failure ? failure.message : "a success"}`).toBe(true);
  expect(fresh.length).toBeLessThanOrEqual(creates);
  for (const id of fresh) model.reportedOrphans.add(id);
}

/**
 * 7. The failed step, run again without faults in a new deployment, succeeds, once the user has
 * done what the errors said (and only that): what the provider wrote into state never makes an
 * operation fail. An error that says a refresh is needed (an integration deleted outside Pulumi, or
 * a delete that may have happened) gets the refresh first; one that says the program's importId
 * names no integration gets the program without it. Each direction is followed at most once.
 */
async function healed(model: Model, real: Real, failure: Error, heal: () => Promise<unknown>) {
  // Targeted runs (`--target`): they declare none of the other resources, so the heal may act on any.
  const targeted = () => restart(real, [...real.engine.state.keys()]);
  await targeted();
  const before = new Set(liveMap(real.emulator).keys());
  const followed: string[] = [];
  let said = failure;
  for (;;) {
    if (/Run `pulumi refresh`/.test(said.message) && !followed.includes("refresh")) {
      followed.push("refresh");
      for (const name of [...real.engine.state.keys()]) await real.engine.refresh(name);
      await targeted();
    } else if (
      /To create a new one, remove importId from the program/.test(said.message) &&
      !followed.includes("importId")
    ) {
      followed.push("importId");
      real.withoutImportId = true;
      await targeted();
    }
    try {
      await heal();
      break;
    } catch (error) {
      const again = error as Error;
      const more = /Run `pulumi refresh`|To create a new one, remove importId from the program/.test(again.message);
      if (more && followed.length < 2 && again.message !== said.message) {
        said = again;
        continue;
      }
      expect.fail(
        `a step failed (${failure.message.slice(0, 200)}), and running it again without faults${followed.length ? ` (after: ${followed.join(", ")})` : ""} failed too: ${again.message}`,
      );
    } finally {
      real.withoutImportId = false;
    }
  }
  accountForNew(model, real, before, undefined, 0);
  checkInvariants(model, real);
  await restart(real);
}

/** The program's arguments: without importId once an error said to remove it (healed). */
const declared = (real: Real, args: Args): Args => {
  if (!real.withoutImportId) return args;
  const { importId: _gone, ...rest } = args;
  return rest;
};

/** A late commit still pending when a step ends lands before the invariants are checked. */
async function settleLateCommits(faults: Fault[]) {
  if (faults.some((f) => f.kind === "late-commit")) await new Promise((r) => setTimeout(r, 2 * TIMEOUT_MS));
}

function checkInvariants(model: Model, real: Real, live = liveMap(real.emulator)) {
  const held = real.engine.ids();
  // 2. No two resources hold one integration.
  expect(new Set(held).size, `state ${JSON.stringify(held)}`).toBe(held.length);
  // 1. Everything in state is live (in its own account), unless it may be gone.
  const entries = [...real.engine.state.values(), ...real.engine.leftovers];
  for (const entry of entries) {
    if (model.mayBeGone.has(entry.id)) continue;
    expect(live.get(entry.id)?.account, `state's ${entry.id} is not live`).toBe(accountOf(entry.outputs));
  }
  // 3. Nothing a resource held vanished unless deleted (by the engine or out of band).
  for (const id of model.everHeld) {
    if (!live.has(id)) expect(model.mayBeGone.has(id), `integration ${id} disappeared`).toBe(true);
  }
  // 4. Every live integration is accounted for.
  for (const id of live.keys()) {
    const known = held.includes(id) || model.uiMade.has(id) || model.reportedOrphans.has(id) || model.everHeld.has(id);
    expect(known, `live integration ${id} belongs to nothing`).toBe(true);
  }
  // 6. Nothing the provider printed holds a secret.
  expectNoSecretPart(output(real));
}

/** 5. After a successful create or replace, the live integration is as declared. */
function expectLiveAsDeclared(real: Real, name: string, args: Args, fields?: string[]) {
  const entry = real.engine.state.get(name)!;
  const live = liveMap(real.emulator).get(entry.id)?.integration;
  const want: Record<string, unknown> = {
    label: args.label,
    "filters.emailEvents": [...args.filters.emailEvents].sort(),
    "properties.writeKey": args.properties.writeKey,
    "properties.destinationRegion": args.properties.destinationRegion,
  };
  const got: Record<string, unknown> = {
    label: live?.label,
    "filters.emailEvents": [...(live?.filters.email_events ?? [])].sort(),
    "properties.writeKey": live?.properties.write_key,
    "properties.destinationRegion": live?.properties.destination_region,
  };
  for (const field of fields ?? Object.keys(want)) expect(got[field], `${name}.${field}`).toEqual(want[field]);
}

/** The fields an update changes: those the new arguments give differently from state's outputs. */
function changedFields(outputs: Record<string, any>, args: Args): string[] {
  const fields: string[] = [];
  if (outputs.label !== args.label) fields.push("label");
  if (JSON.stringify(outputs.filters?.emailEvents) !== JSON.stringify([...args.filters.emailEvents].sort()))
    fields.push("filters.emailEvents");
  if (outputs.properties?.writeKey !== args.properties.writeKey) fields.push("properties.writeKey");
  if (outputs.properties?.destinationRegion !== args.properties.destinationRegion)
    fields.push("properties.destinationRegion");
  return fields;
}

type Cmd = fc.AsyncCommand<Model, Real>;

const show = (value: unknown) => JSON.stringify(value).replaceAll(WRITE_KEY, "WK1").replaceAll(WRITE_KEY_2, "WK2");

class Up implements Cmd {
  constructor(
    readonly name: string,
    readonly args: Args,
    readonly options: UpOptions,
    readonly faults: Fault[],
  ) {}
  check = () => true;
  async run(model: Model, real: Real) {
    await deploymentFor(real, this.name);
    const old = real.engine.state.get(this.name);
    const args: Args = { ...this.args };
    if (old?.inputs.importId) args.importId = old.inputs.importId; // the program keeps what it declared
    // What the engine sends for a field under ignoreChanges: the old input.
    const sent = old && this.options.ignoreChanges?.includes("label") ? { ...args, label: old.inputs.label } : args;
    const liveLabel = old ? liveMap(real.emulator).get(old.id)?.integration.label : undefined;
    let step: string | undefined;
    const up = async () => {
      step = await real.engine.up(this.name, args, this.options);
      return step === "replace" && real.engine.state.get(this.name)?.id !== old?.id ? [old!.id] : [];
    };
    await withFaults(model, real, this.faults, 1, up, old ? [old.id] : [], async () => {
      // The same program again: a `--replace` is a flag of that one command, not repeated.
      const { replace: _flag, ...options } = this.options;
      step = await real.engine.up(this.name, declared(real, args), options);
    });
    if (!step) return;
    // A replacement is created from the program's own inputs: the engine's second check applies no
    // ignoreChanges (step_generator.go:2007-2023), nor does a create.
    if (step === "create" || step === "replace") expectLiveAsDeclared(real, this.name, args);
    if (step === "update") {
      const fields = changedFields(old!.outputs, sent);
      expectLiveAsDeclared(real, this.name, sent, fields);
      // 8. A label the update did not change is not renamed (the spec's PATCH label default).
      const now = liveMap(real.emulator).get(old!.id)?.integration.label;
      if (!fields.includes("label") && liveLabel !== undefined)
        expect(now, "label renamed by an update").toBe(liveLabel);
    }
  }
  toString = () =>
    `up(${this.name}, ${show(this.args)}, ${JSON.stringify(this.options)}) faults ${JSON.stringify(this.faults)}`;
}

/** Adopt an integration made in the UI: a new resource declaring importId. */
class Adopt implements Cmd {
  constructor(
    readonly name: string,
    readonly args: Args,
    readonly faults: Fault[],
  ) {}
  check = (model: Model) => model.uiMade.size < 8;
  async run(model: Model, real: Real) {
    if (real.engine.state.has(this.name)) return; // only a new resource adopts
    await deploymentFor(real, this.name);
    const ui = real.emulator.seed(
      {
        label: `UI ${model.steps}`,
        destination: "Segment",
        filters: { email_events: ["bounce"] },
        properties: { write_key: WRITE_KEY, destination_region: "US" },
      },
      this.args.onBehalfOf ?? "",
    );
    model.uiMade.add(ui.integration_id);
    const args = { ...this.args, importId: ui.integration_id };
    const adopt = () => real.engine.up(this.name, args);
    await withFaults(model, real, this.faults, 0, adopt, [], adopt);
    if (real.engine.state.get(this.name)?.id === ui.integration_id) {
      model.uiMade.delete(ui.integration_id);
      expectLiveAsDeclared(real, this.name, args);
    }
  }
  toString = () => `adopt(${this.name}) faults ${JSON.stringify(this.faults)}`;
}

/** The plugin's own import: a new resource with the `import` option (Read with the id, then Check and Diff). */
class ImportOption implements Cmd {
  constructor(
    readonly name: string,
    readonly args: Args,
    readonly faults: Fault[],
  ) {}
  check = (model: Model) => model.uiMade.size < 8;
  async run(model: Model, real: Real) {
    if (!real.current.native || real.engine.state.has(this.name)) return;
    await deploymentFor(real, this.name);
    const ui = real.emulator.seed(
      {
        label: `UI ${model.steps}`,
        destination: "Segment",
        filters: { email_events: ["bounce"] },
        properties: { write_key: WRITE_KEY, destination_region: "US" },
      },
      this.args.onBehalfOf ?? "",
    );
    model.uiMade.add(ui.integration_id);
    // The id says where the integration lives (Pulumi sends the id alone): `<subuser>/<id>`.
    const options = { import: `${this.args.onBehalfOf ? `${this.args.onBehalfOf}/` : ""}${ui.integration_id}` };
    const run = () => real.engine.up(this.name, this.args, options);
    await withFaults(model, real, this.faults, 0, run, [], run);
    if (real.engine.state.get(this.name)?.id === ui.integration_id) model.uiMade.delete(ui.integration_id);
  }
  toString = () => `import(${this.name}) faults ${JSON.stringify(this.faults)}`;
}

class Twins implements Cmd {
  constructor(
    readonly names: [string, string],
    readonly args: Args,
    readonly faults: Fault[],
  ) {}
  check = () => true;
  async run(model: Model, real: Real) {
    const fresh = this.names.filter((n) => !real.engine.state.has(n));
    if (fresh.length < 2) return;
    await deploymentFor(real, ...fresh);
    const both = async () => {
      const results = await Promise.allSettled(fresh.map((n) => real.engine.register(n, this.args)));
      const failed = results.find((r) => r.status === "rejected");
      if (failed) throw (failed as PromiseRejectedResult).reason;
      await real.engine.deletePhase();
    };
    await withFaults(model, real, this.faults, 2, both, [], async () => {
      for (const n of fresh) await real.engine.up(n, this.args);
    });
  }
  toString = () => `twins(${this.names}) faults ${JSON.stringify(this.faults)}`;
}

class Refresh implements Cmd {
  constructor(
    readonly name: string | undefined,
    readonly faults: Fault[],
  ) {}
  check = () => true;
  async run(model: Model, real: Real) {
    const names = this.name === undefined ? [...real.engine.state.keys()] : [this.name];
    if (names.length === 0 || !names.every((n) => real.engine.state.has(n))) return;
    await deploymentFor(real, ...names);
    const refresh = async () => {
      if (this.name === undefined) await real.engine.refreshAll();
      else await real.engine.refresh(this.name);
    };
    await withFaults(model, real, this.faults, 0, refresh, [], async () => {
      for (const n of names.filter((n) => real.engine.state.has(n))) await real.engine.refresh(n);
    });
  }
  toString = () => `refresh(${this.name ?? "all"}) faults ${JSON.stringify(this.faults)}`;
}

class Destroy implements Cmd {
  constructor(
    readonly name: string,
    readonly faults: Fault[],
  ) {}
  check = () => true;
  async run(model: Model, real: Real) {
    const entry = real.engine.state.get(this.name);
    if (!entry) return;
    await deploymentFor(real, this.name);
    const destroy = async () => {
      await real.engine.destroy(this.name);
      return [entry.id];
    };
    await withFaults(model, real, this.faults, 0, destroy, [entry.id], async () => {
      if (real.engine.state.has(this.name)) await real.engine.destroy(this.name);
      model.mayBeGone.add(entry.id);
    });
  }
  toString = () => `destroy(${this.name}) faults ${JSON.stringify(this.faults)}`;
}

/** A preview of an up: a run of its own that must change nothing in SendGrid, whatever it computes. */
class Preview implements Cmd {
  constructor(
    readonly name: string,
    readonly args: Args,
  ) {}
  check = () => true;
  async run(model: Model, real: Real) {
    model.steps++;
    const process = await real.start();
    try {
      const run = real.engine.next(process.door, {
        extra: process.extra,
        supportsPreview: process.supportsPreview,
        preview: true,
      });
      const writes = () => real.emulator.requests.filter((r) => r.method !== "GET").length;
      const before = writes();
      const importId = real.engine.state.get(this.name)?.inputs.importId;
      const args = { ...this.args, ...(importId ? { importId } : {}) };
      await run.register(this.name, args).catch((error: Error) => {
        if (!(error instanceof CheckFailed)) expectNoSecretPart(error.message);
      });
      expect(writes(), "a preview wrote to SendGrid").toBe(before);
    } finally {
      await process.stop();
      real.printed.push(process.output());
    }
    checkInvariants(model, real);
  }
  toString = () => `preview(${this.name}, ${show(this.args)})`;
}

/**
 * The default provider replaced by DiffConfig: each resource is checked with olds through the new
 * provider, replaced without a Diff, and its old integration deleted by a process configured with
 * the old configuration (step_generator.go providerChanged; EnsureProvider).
 */
class ProviderReplaced implements Cmd {
  constructor(
    readonly name: string,
    readonly args: Args,
    readonly faults: Fault[],
  ) {}
  check = () => true;
  async run(model: Model, real: Real) {
    const old = real.engine.state.get(this.name);
    if (!old) return;
    await restart(real, [this.name]);
    real.touched.add(this.name);
    const previous = await real.start();
    try {
      const args: Args = { ...this.args, ...(old.inputs.importId ? { importId: old.inputs.importId } : {}) };
      const options: UpOptions = { providerReplaced: { oldProvider: previous.door } };
      let step: string | undefined;
      const up = async () => {
        step = await real.engine.up(this.name, args, options);
        return [old.id];
      };
      await withFaults(model, real, this.faults, 1, up, [old.id], () =>
        real.engine.up(this.name, declared(real, args)),
      );
      if (step === "replace") expectLiveAsDeclared(real, this.name, args);
    } finally {
      await previous.stop();
      real.printed.push(previous.output());
      // Later runs load a provider with the old configuration from state again (the same here).
      for (const entry of real.engine.leftovers) delete entry.deleteWith;
    }
  }
  toString = () => `provider replaced(${this.name}, ${show(this.args)}) faults ${JSON.stringify(this.faults)}`;
}

/**
 * Ctrl-C while an up's create is under way (the plugin: the dynamic runtime's Cancel does nothing):
 * the engine sends Cancel and waits; the operation stops promptly, saying what may exist.
 */
class Cancel implements Cmd {
  constructor(
    readonly name: string,
    readonly args: Args,
    readonly fault: Fault,
  ) {}
  check = () => true;
  async run(model: Model, real: Real) {
    if (!real.current.native || real.engine.state.has(this.name)) return;
    await restart(real);
    real.touched.add(this.name);
    let cancelled = false;
    await withFaults(
      model,
      real,
      [this.fault],
      1,
      async () => {
        const pending = real.engine.up(this.name, this.args);
        setTimeout(() => {
          cancelled = true;
          void real.engine.cancel().catch(() => undefined);
        }, TIMEOUT_MS / 2);
        try {
          await pending;
        } catch (error) {
          // Stopped by the Cancel: it says so (and, for a create under way, what may exist).
          if (cancelled) expect((error as Error).message).toMatch(/Pulumi cancelled the deployment/);
          throw error;
        }
      },
      [],
      () => real.engine.up(this.name, this.args),
    );
    await restart(real); // a cancelled plugin serves no more operations: the engine ends that run
  }
  toString = () => `cancel(${this.name}) fault ${JSON.stringify(this.fault)}`;
}

class OutOfBand implements Cmd {
  constructor(
    readonly name: string,
    readonly what: "edit" | "delete",
  ) {}
  check = () => true;
  async run(model: Model, real: Real) {
    const entry = real.engine.state.get(this.name);
    if (!entry) return;
    const account = accountOf(entry.outputs);
    const live = real.emulator.integrations(account).find((i) => i.integration_id === entry.id);
    if (!live) return;
    if (this.what === "delete") {
      real.emulator.remove(entry.id, account);
      model.mayBeGone.add(entry.id);
    } else {
      real.emulator.seed({ ...live, label: `${live.label} (edited in the UI)` }, account);
    }
    checkInvariants(model, real);
  }
  toString = () => `out-of-band ${this.what}(${this.name})`;
}

class NewDeployment implements Cmd {
  check = () => true;
  async run(model: Model, real: Real) {
    await restart(real);
    checkInvariants(model, real);
  }
  toString = () => "new deployment";
}

/**
 * A new engine run: the previous provider process ends, a fresh one starts; state carries over.
 * Its program declares every resource in state but `except` (the ones the command acts on next).
 */
async function restart(real: Real, except: readonly string[] = []) {
  const previous = real.current as Deployment | undefined;
  if (previous) {
    await previous.stop();
    real.printed.push(previous.output());
  }
  const current = await real.start();
  real.current = current;
  const run = { extra: current.extra, supportsPreview: current.supportsPreview };
  real.engine = real.engine ? real.engine.next(current.door, run) : new SimEngine(current.door, run);
  real.touched.clear();
  // A deployment's program declares every resource in state: the engine checks and diffs each.
  const declared = [...real.engine.state.keys()].filter(
    (n) => !except.includes(n) && !real.engine.state.get(n)!.external,
  );
  await real.engine.registerUnchanged(except);
  for (const n of declared) real.touched.add(n);
}

const nameArb = fc.constantFrom(...NAMES);
const optionsArb: fc.Arbitrary<UpOptions> = fc.oneof(
  { weight: 4, arbitrary: fc.constant<UpOptions>({}) },
  { weight: 1, arbitrary: fc.record<UpOptions>({ replace: fc.constant(true), deleteBeforeReplace: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant<UpOptions>({ deleteBeforeReplace: true }) },
  { weight: 1, arbitrary: fc.constant<UpOptions>({ ignoreChanges: ["label"] }) },
);

const upArb = fc.tuple(nameArb, argsArb, optionsArb, faultsArb).map(([n, a, o, f]) => new Up(n, a, o, f));

export const commandsArb = fc.commands(
  [
    upArb,
    upArb,
    upArb,
    upArb,
    fc.tuple(nameArb, argsArb, faultsArb).map(([n, a, f]) => new Adopt(n, a, f)),
    fc.tuple(nameArb, argsArb, faultsArb).map(([n, a, f]) => new ImportOption(n, a, f)),
    fc
      .tuple(fc.constantFrom<[string, string]>(["a", "b"], ["b", "c"]), argsArb, faultsArb)
      .map(([n, a, f]) => new Twins(n, a, f)),
    fc.tuple(fc.option(nameArb, { nil: undefined }), faultsArb).map(([n, f]) => new Refresh(n, f)),
    fc.tuple(nameArb, faultsArb).map(([n, f]) => new Destroy(n, f)),
    fc.tuple(nameArb, argsArb).map(([n, a]) => new Preview(n, a)),
    fc.tuple(nameArb, argsArb, faultsArb).map(([n, a, f]) => new ProviderReplaced(n, a, f)),
    fc
      .tuple(
        nameArb,
        argsArb,
        fc.constantFrom<Fault>(
          { kind: "hang", method: "POST" },
          { kind: "late-commit", delayMs: TIMEOUT_MS * 1.2, method: "POST" },
        ),
      )
      .map(([n, a, f]) => new Cancel(n, a, f)),
    fc.tuple(nameArb, fc.constantFrom("edit" as const, "delete" as const)).map(([n, w]) => new OutOfBand(n, w)),
    fc.constant(new NewDeployment()),
  ],
  { maxCommands: 24, size: "+1" },
);

/** Runs one sequence from a clean emulator and a fresh deployment; returns the model for the report. */
export async function runSequence(
  emulator: Emulator,
  start: StartDeployment,
  commands: Iterable<Cmd>,
  mode: AnswerMode = {},
) {
  for (const [account, list] of emulator.accounts()) for (const i of list) emulator.remove(i.integration_id, account);
  emulator.clearFaults();
  emulator.setMode({ writeKeyMode: "full", omitRegion: false, patchLabelDefault: false, ...mode });
  const model: Model = {
    everHeld: new Set(),
    mayBeGone: new Set(),
    uiMade: new Set(),
    reportedOrphans: new Set(),
    failures: [],
    steps: 0,
  };
  const real: Real = {
    emulator,
    engine: undefined as never,
    start,
    current: undefined as never,
    printed: [],
    touched: new Set(),
  };
  await restart(real);
  try {
    await fc.asyncModelRun(() => ({ model, real }), commands);
  } finally {
    await real.current.stop();
    real.printed.push(real.current.output());
  }
  return model;
}
