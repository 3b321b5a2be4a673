// A model of one stack's life against the emulator: random sequences of engine operations (up,
// replace in both orders, refresh, destroy, adoption with importId, identical twins created at
// once, out-of-band edits and deletions, a new deployment), each with random faults injected
// (5xx, timeouts, commits the server finishes after the client gave up, resets, 429s with any
// reset, HTML 404s, dropped answers). After every step the invariants hold:
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
//     what the provider process printed.
//
// The system under test is reached through a `Door` (support/engine-sim.ts), so the same model can
// drive any front door.
import { expect } from "vitest";
import type { Emulator, Fault } from "../../emulator";
import { CheckFailed, type Door, SimEngine, type UpOptions } from "./engine-sim";
import { fc } from "./fast-check";
import { expectNoSecretPart, WRITE_KEY, WRITE_KEY_2 } from "./fixtures";

export const TIMEOUT_MS = 250;
export const RETRY_BUDGET_MS = 1500;

/** Starts a new deployment: a fresh provider process, configured, reached through a Door. */
export type StartDeployment = () => Promise<{ door: Door; extra: Record<string, unknown>; output: () => string }>;

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
  output: () => string;
  /** Everything printed by the provider processes so far. */
  printed: string[];
  /** Resources operated on in this deployment (provider process). */
  touched: Set<string>;
}

/**
 * The CLI acts on a resource at most once per deployment, and each command (`up`, `refresh`,
 * `destroy`) is a deployment of its own, with its own provider process. So a step on a resource
 * already acted on in this process starts a new deployment first.
 */
async function deploymentFor(real: Real, ...names: string[]) {
  if (names.some((n) => real.touched.has(n))) await restart(real);
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

/** One fault, for the next matching request only (or two). */
const faultArb: fc.Arbitrary<Fault> = fc.oneof(
  fc.record({
    kind: fc.constant("status" as const),
    status: fc.constantFrom(500, 502, 503, 504),
    method: fc.constantFrom("GET", "POST", "PATCH", "DELETE"),
    times: fc.constantFrom(1, 2),
  }),
  fc.record({
    kind: fc.constant("status" as const),
    status: fc.constant(429),
    resetOffsetSeconds: fc.constantFrom(-5, 0, 1),
    method: fc.constantFrom("GET", "POST", "PATCH", "DELETE"),
  }),
  fc.record({
    kind: fc.constant("status" as const),
    status: fc.constant(429),
    retryAfter: fc.constant("0"),
    method: fc.constantFrom("GET", "POST", "PATCH", "DELETE"),
  }),
  fc.record({
    kind: fc.constantFrom("reset" as const, "hang" as const, "commit-drop" as const),
    method: fc.constantFrom("GET", "POST", "PATCH", "DELETE"),
  }),
  // A server still committing after the client's timeout, within the settle window.
  fc.record({
    kind: fc.constant("late-commit" as const),
    delayMs: fc.integer({ min: TIMEOUT_MS + 20, max: 2 * TIMEOUT_MS - 60 }),
    method: fc.constantFrom("POST", "PATCH", "DELETE"),
  }),
  fc.record({ kind: fc.constant("html" as const), status: fc.constant(404), method: fc.constantFrom("GET", "DELETE") }),
  fc.record({
    kind: fc.constant("malformed" as const),
    body: fc.constantFrom("truncated" as const, "no-id" as const, "text" as const),
    method: fc.constantFrom("POST", "PATCH"),
  }),
);
const faultsArb = fc.array(faultArb, { maxLength: 2 });

const accountOf = (outputs: Record<string, any>) => (outputs.onBehalfOf as string | undefined) ?? "";

function liveMap(emulator: Emulator): Map<string, { account: string; integration: any }> {
  const live = new Map<string, { account: string; integration: any }>();
  for (const [account, list] of emulator.accounts())
    for (const i of list) live.set(i.integration_id, { account, integration: i });
  return live;
}

/**
 * Runs `step` with faults injected, then checks every invariant. `step` returns the ids the engine
 * deleted; `deletes` are those it may have deleted had it failed part way.
 */
async function withFaults(
  model: Model,
  real: Real,
  faults: Fault[],
  creates: number,
  step: () => Promise<unknown>,
  deletes: string[] = [],
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
  }
  real.emulator.clearFaults();
  await settleLateCommits(faults);
  if (failure) {
    expectNoSecretPart(failure.message);
    if (!(failure instanceof CheckFailed)) model.failures.push(`${failure.name}: ${failure.message.slice(0, 160)}`);
    for (const id of deletes) model.mayBeGone.add(id); // a delete that failed may still have happened
  }
  const live = liveMap(real.emulator);
  const held = real.engine.ids();
  for (const id of held) model.everHeld.add(id);
  // 4. Every new live integration is held, or a failed create said it may exist.
  const fresh = [...live.keys()].filter((id) => !before.has(id) && !held.includes(id) && !model.uiMade.has(id));
  if (fresh.length > 0) {
    // Only the message crosses gRPC: a create that may have left one says "It may have been created".
    const mayExist = failure?.message.includes("It may have been created") === true;
    expect(mayExist, `unheld new integrations ${fresh} after ${failure ? failure.message : "a success"}`).toBe(true);
    expect(fresh.length).toBeLessThanOrEqual(creates);
    for (const id of fresh) model.reportedOrphans.add(id);
  }
  checkInvariants(model, real, live);
}

/** A late commit still pending when a step ends lands before the invariants are checked. */
async function settleLateCommits(faults: Fault[]) {
  if (faults.some((f) => f.kind === "late-commit")) await new Promise((r) => setTimeout(r, 2 * TIMEOUT_MS));
}

function checkInvariants(model: Model, real: Real, live = liveMap(real.emulator)) {
  const held = real.engine.ids();
  // 2. No two resources hold one integration.
  expect(new Set(held).size, `state ${JSON.stringify(held)}`).toBe(held.length);
  // 1. Everything in state is live (in its own account), unless it may be gone.
  const entries = [...real.engine.state.values(), ...real.engine.pendingDeletes];
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
  expectNoSecretPart(real.output());
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
    let step: string | undefined;
    await withFaults(
      model,
      real,
      this.faults,
      1,
      async () => {
        step = await real.engine.up(this.name, args, this.options);
        return step === "replace" ? [old!.id] : []; // a replacement deletes the old one
      },
      old ? [old.id] : [],
    );
    if (!step) return;
    if (step === "create" || step === "replace") expectLiveAsDeclared(real, this.name, sent);
    if (step === "update") expectLiveAsDeclared(real, this.name, sent, changedFields(old!.outputs, sent));
  }
  toString = () =>
    `up(${this.name}, ${JSON.stringify(this.args).replaceAll(WRITE_KEY, "WK1").replaceAll(WRITE_KEY_2, "WK2")}, ${JSON.stringify(this.options)}) faults ${JSON.stringify(this.faults)}`;
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
    let step: string | undefined;
    await withFaults(model, real, this.faults, 0, async () => {
      step = await real.engine.up(this.name, args);
    });
    if (step) {
      expect(real.engine.state.get(this.name)!.id).toBe(ui.integration_id);
      model.uiMade.delete(ui.integration_id);
      expectLiveAsDeclared(real, this.name, args);
    }
  }
  toString = () => `adopt(${this.name}) faults ${JSON.stringify(this.faults)}`;
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
    await withFaults(model, real, this.faults, 2, async () => {
      const results = await Promise.allSettled(fresh.map((n) => real.engine.up(n, this.args)));
      const failed = results.find((r) => r.status === "rejected");
      if (failed) throw (failed as PromiseRejectedResult).reason;
    });
  }
  toString = () => `twins(${this.names}) faults ${JSON.stringify(this.faults)}`;
}

class Refresh implements Cmd {
  constructor(
    readonly name: string,
    readonly faults: Fault[],
  ) {}
  check = () => true;
  async run(model: Model, real: Real) {
    if (!real.engine.state.has(this.name)) return;
    await deploymentFor(real, this.name);
    await withFaults(model, real, this.faults, 0, async () => {
      await real.engine.refresh(this.name);
    });
  }
  toString = () => `refresh(${this.name}) faults ${JSON.stringify(this.faults)}`;
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
    await withFaults(
      model,
      real,
      this.faults,
      0,
      async () => {
        await real.engine.destroy(this.name);
        return [entry.id];
      },
      [entry.id],
    );
  }
  toString = () => `destroy(${this.name}) faults ${JSON.stringify(this.faults)}`;
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

async function restart(real: Real) {
  const { door, extra, output } = await real.start();
  const engine = new SimEngine(door, extra);
  if (real.engine) {
    for (const [name, entry] of real.engine.state) engine.state.set(name, entry);
    engine.pendingDeletes.push(...real.engine.pendingDeletes);
  }
  real.engine = engine;
  real.output = output;
  real.touched.clear();
  // A deployment's program declares every resource in state: the engine checks and diffs each.
  await engine.registerUnchanged();
}

const nameArb = fc.constantFrom(...NAMES);
const optionsArb: fc.Arbitrary<UpOptions> = fc.oneof(
  { weight: 4, arbitrary: fc.constant<UpOptions>({}) },
  { weight: 1, arbitrary: fc.record<UpOptions>({ replace: fc.constant(true), deleteBeforeReplace: fc.boolean() }) },
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
    fc
      .tuple(fc.constantFrom<[string, string]>(["a", "b"], ["b", "c"]), argsArb, faultsArb)
      .map(([n, a, f]) => new Twins(n, a, f)),
    fc.tuple(nameArb, faultsArb).map(([n, f]) => new Refresh(n, f)),
    fc.tuple(nameArb, faultsArb).map(([n, f]) => new Destroy(n, f)),
    fc.tuple(nameArb, fc.constantFrom("edit" as const, "delete" as const)).map(([n, w]) => new OutOfBand(n, w)),
    fc.constant(new NewDeployment()),
  ],
  { maxCommands: 24, size: "+1" },
);

/** Runs one sequence from a clean emulator and a fresh deployment; returns the model for the report. */
export async function runSequence(emulator: Emulator, start: StartDeployment, commands: Iterable<Cmd>) {
  for (const [account, list] of emulator.accounts()) for (const i of list) emulator.remove(i.integration_id, account);
  emulator.clearFaults();
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
    output: () => "",
    printed: [],
    touched: new Set(),
  };
  await restart(real);
  await fc.asyncModelRun(() => ({ model, real }), commands);
  return model;
}
