// The Pulumi engine's side of a deployment, for one resource type, ported from the engine's source:
// pulumi/pulumi at 1b5949891b3cefcb9974752b24a5ecef0acc86c8 (docs/engine-paths.md has the table of
// paths, with the research notes behind it). Every decision below names the function it follows;
// `sg` is pkg/resource/deploy/step_generator.go, `step` pkg/resource/deploy/step.go, `exec`
// pkg/resource/deploy/deployment_executor.go, `plugin` pkg/resource/plugin/provider_plugin.go.
//
// One SimEngine is one engine run (one provider process, which the caller starts: the CLI's `up`,
// `refresh`, `destroy` and each preview are runs of their own, sg/host.go). Its state is the
// snapshot the run started from, changed as the engine changes it: a live entry per resource, and
// entries marked `delete` (a create-before-delete replacement's old resource, deleted in the run's
// delete phase, exec.go:318-346) or `pendingReplacement` (a delete-before-replace whose create failed).
import { isSecret, reveal, secret } from "../../provider/native/secrets";
import type { ProviderClient } from "./engine.cjs";

type Props = Record<string, any>;

/** The calls the engine makes of a provider: the gRPC driver of either front door. */
export type Door = Pick<ProviderClient, "check" | "diff" | "create" | "read" | "update" | "delete"> &
  Partial<Pick<ProviderClient, "cancel">>;

export interface StateEntry {
  id: string;
  inputs: Props;
  outputs: Props;
  /** A create-before-delete replacement's old resource, deleted in a run's delete phase (step.go:467-473). */
  delete?: boolean;
  /** A delete-before-replace whose delete succeeded and whose create did not (step.go:781-785). */
  pendingReplacement?: boolean;
  /** Read with `.get()`: not managed (step.go:1308 ReadStep.Apply). */
  external?: boolean;
  /** The `import` option's id it was imported with (state's ImportID). */
  importId?: string;
  /** The resource's customTimeouts when it was last written: a delete uses the old state's (step.go:695). */
  customTimeouts?: CustomTimeouts;
  /** Its `ignoreChanges`, as the refresh diff sends them (step.go:1699-1707). */
  ignoreChanges?: string[];
  /**
   * The provider the entry's delete goes to, when not this run's: the old provider of a
   * replacement forced by DiffConfig, loaded with the old configuration (sg.go:2436-2444 EnsureProvider).
   */
  deleteWith?: Door;
}

/** customTimeouts, in seconds as the engine sends them (source_eval.go:3396-3403). */
export interface CustomTimeouts {
  create?: number;
  update?: number;
  delete?: number;
  read?: number;
}

/** Resource options and CLI flags that change what the engine does with one registration. */
export interface UpOptions {
  /** `pulumi up --replace <urn>` (or `--target-replace`, or a tainted resource): sg.go:216 isTargetedReplace. */
  replace?: boolean;
  /** The resource option deleteBeforeReplace: it overrides the provider's answer, true or false (sg.go:2043-2046). */
  deleteBeforeReplace?: boolean;
  /** The resource option ignoreChanges. */
  ignoreChanges?: string[];
  /** The resource option replaceOnChanges (top-level property names or paths). */
  replaceOnChanges?: string[];
  customTimeouts?: CustomTimeouts;
  /** The resource option `import`: adopt this id (sg.go:1102-1113 isImport). */
  import?: string;
  /** `--target` names some resources and not this one (sg.go:1313-1319). */
  untargeted?: boolean;
  /**
   * Its default provider was replaced (DiffConfig said so): no Diff, a forced replace
   * (sg.go:2800 providerChanged), and the old resource deleted by the old provider, a process
   * configured with the old configuration (`oldProvider`).
   */
  providerReplaced?: { oldProvider: Door };
}

export type Step = "create" | "update" | "replace" | "same" | "import" | "skipped";

/** A check that returned failures: the engine reports them and stops the registration (sg.go:1347-1349). */
export class CheckFailed extends Error {
  constructor(readonly failures: { property: string; reason: string }[]) {
    super(`check failed: ${failures.map((f) => `${f.property}: ${f.reason}`).join("; ")}`);
  }
}

/** An error the engine itself raises (not the provider's). */
export class EngineError extends Error {}

export interface RunOptions {
  /** A preview (`pulumi preview`, and the preview half of `up`): DryRun. */
  preview?: boolean;
  /** What the provider answered in Configure: whether Create/Update are sent at preview (plugin.go:1430-1445). */
  supportsPreview?: boolean;
  /** Inputs every program registration carries (the dynamic provider's `__provider`). */
  extra?: Props;
}

export class SimEngine {
  /** Each resource's live entry, by name. */
  readonly state = new Map<string, StateEntry>();
  /** Entries the delete phase deletes (`delete`), and delete-before-replace leftovers (`pendingReplacement`). */
  readonly leftovers: (StateEntry & { name: string })[] = [];
  /** Whether a step of this run failed: then no delete phase runs (exec.go:318-346). */
  failed = false;
  /** Resources this run deleted before recreating them (a delete-before-replace: sg.go `sg.deletes`). */
  private readonly deletedThisRun = new Set<string>();
  /** The URNs this run registered (sg.go `sg.urns`). */
  private readonly registered = new Set<string>();
  /** Warnings the engine prints (a `pulumi import` check failure is one: step.go:2161-2185). */
  readonly warnings: string[] = [];
  readonly extra: Props;
  private readonly preview: boolean;
  private readonly supportsPreview: boolean;
  /** The run's random seed: 32 new bytes per deployment, both checks of a replacement use it (sg.go:1086-1100). */
  private readonly randomSeed = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) % 256);

  constructor(
    private readonly door: Door,
    extraOrOptions: Props | RunOptions = {},
  ) {
    const options: RunOptions =
      "preview" in extraOrOptions || "supportsPreview" in extraOrOptions || "extra" in extraOrOptions
        ? (extraOrOptions as RunOptions)
        : { extra: extraOrOptions as Props };
    this.extra = options.extra ?? {};
    this.preview = options.preview ?? false;
    this.supportsPreview = options.supportsPreview ?? false;
  }

  /** A new run (a new provider process, `door`) over this run's resulting snapshot. */
  next(door: Door, options: RunOptions = {}): SimEngine {
    const run = new SimEngine(door, { extra: this.extra, ...options });
    for (const [name, entry] of this.state) run.state.set(name, cloneEntry(entry));
    run.leftovers.push(...this.leftovers.map((e) => cloneEntry(e)));
    return run;
  }

  /** The program's inputs as registered: its arguments, plus what every registration carries. */
  private goal(args: Props): Props {
    return structuredClone({ ...args, ...this.extra });
  }

  /**
   * One resource's registration in this run, as the step generator handles it
   * (sg.go continueStepsFromImport → continueStepsFromRefresh → continueStepsFromDiff).
   */
  async register(name: string, args: Props, options: UpOptions = {}): Promise<Step> {
    // A run registers each URN once: a second registration is an error (sg.go:276-288 generateURN).
    if (this.registered.has(name)) {
      throw new EngineError(`Duplicate resource URN '${name}'; try giving it a unique name`);
    }
    this.registered.add(name);
    try {
      return await this.generate(name, args, options);
    } catch (error) {
      this.failed = true;
      throw error;
    }
  }

  private async generate(name: string, args: Props, options: UpOptions): Promise<Step> {
    const goal = this.goal(args);
    const old = this.state.get(name) ?? this.leftovers.find((e) => e.name === name && e.pendingReplacement);
    // Untargeted (sg.go:1313-1319, :1555-1746): no RPC at all; old state copied as is, a new one skipped.
    if (options.untargeted) return "skipped";
    // The import option (sg.go:1102-1113 isImport): no old state, or an old one from another id.
    if (options.import !== undefined && (!old || old.external || old.importId !== options.import)) {
      return this.importing(name, options.import, goal, options);
    }
    const recreating = this.deletedThisRun.has(name);
    const targeted = options.replace === true;
    // The first Check (sg.go:1325-1342): without olds for a create, a recreation, a targeted replace
    // or a resource that was external; else with the old inputs, and news with ignoreChanges applied
    // (sg.go:1264-1269 processIgnoreChanges).
    const withOlds = old !== undefined && !recreating && !targeted && !old.external;
    const news = withOlds ? applyIgnoreChanges(goal, old.inputs, options.ignoreChanges ?? []) : goal;
    const checked = await this.check(name, withOlds ? old.inputs : {}, news);
    if (!old || recreating || old.external) {
      await this.createStep(name, checked, options);
      return "create";
    }
    // The diff (sg.go:2891-2941 diff): synthetic for a targeted replace (:2891-2893) and a replaced
    // provider (providerChanged, :2921-2926); else the provider's Diff (:2974-2992 diffResource).
    let replace = old.pendingReplacement === true; // forced (sg.go:1952-1953)
    let changes = true;
    let providerDbr = false;
    if (targeted || options.providerReplaced) {
      replace = true;
    } else {
      const diff = await this.door.diff(name, old.id, old.outputs, checked, {
        oldInputs: old.inputs,
        ignoreChanges: options.ignoreChanges ?? [],
      });
      // DIFF_UNKNOWN: the engine diffs old inputs against the news itself (sg.go:2996-3006).
      changes =
        diff.changes ?? !sameValue(old.inputs, applyIgnoreChanges(checked, old.inputs, options.ignoreChanges ?? []));
      const replacingKinds = Object.values(diff.detailedDiff ?? {}).some((d) => d.kind.endsWith("_REPLACE"));
      replace ||= diff.replaces.length > 0 || replacingKinds;
      // replaceOnChanges upgrades changed keys to replaces (sg.go:3170 applyReplaceOnChanges).
      if (changes && (options.replaceOnChanges ?? []).some((path) => changedUnder(diff, path))) replace = true;
      providerDbr = diff.deleteBeforeReplace;
    }
    if (replace) {
      await this.replaceStep(name, old, goal, checked, options, targeted, providerDbr);
      return "replace";
    }
    if (!changes) {
      // Same: outputs and id kept, the new checked inputs stored (sg.go:1350, step.go:177-179).
      this.state.set(name, { ...old, inputs: checked, ignoreChanges: options.ignoreChanges ?? [] });
      return "same";
    }
    // In-place update (step.go:1008-1022 UpdateStep.Apply).
    const updated = await this.updateCall(name, old, checked, options);
    if (this.preview) return "update";
    this.state.set(name, {
      id: old.id,
      inputs: checked,
      outputs: updated,
      customTimeouts: options.customTimeouts ?? {},
      ignoreChanges: options.ignoreChanges ?? [],
    });
    return "update";
  }

  /** Check; its failures end the registration (sg.go:1347-1349). Unknowns allowed at preview. */
  private async check(name: string, olds: Props, news: Props): Promise<Props> {
    const checked = await this.door.check(name, olds, news, { randomSeed: this.randomSeed });
    if (checked.failures.length > 0) throw new CheckFailed(checked.failures);
    return checked.inputs;
  }

  /**
   * A replacement (sg.go:2003-2165): the second Check without olds, on the raw program inputs and
   * the same seed (:2007-2023; skipped for a targeted replace, whose first Check was already
   * without olds); then delete-before-replace as one chain (:2047-2157), or create now and delete
   * the old resource in the delete phase (:2159-2165).
   */
  private async replaceStep(
    name: string,
    old: StateEntry,
    goal: Props,
    checked: Props,
    options: UpOptions,
    targeted: boolean,
    providerDbr: boolean,
  ) {
    const inputs = targeted ? checked : await this.check(name, {}, goal);
    // The resource option wins when set; a targeted replace never asked the provider (sg.go:2043-2046).
    const dbr = options.deleteBeforeReplace ?? (targeted || options.providerReplaced ? false : providerDbr);
    if (this.preview) {
      await this.createCall(name, inputs, options); // Delete is never called at preview (step.go:651-658)
      return;
    }
    if (dbr) {
      const leftover = this.leftovers.find((e) => e.name === name && e.pendingReplacement);
      if (!leftover) {
        // The delete first; PendingReplacement only once it succeeded (step.go:781-785).
        await this.deleteCall(name, old);
        this.state.delete(name);
        this.deletedThisRun.add(name);
        this.leftovers.push({ name, ...old, pendingReplacement: true });
      }
      await this.createStep(name, inputs, options);
      const at = this.leftovers.findIndex((e) => e.name === name && e.pendingReplacement);
      if (at >= 0) this.leftovers.splice(at, 1); // the created replacement drops it (snapshot.go:466-470)
      return;
    }
    const created = await this.createCall(name, inputs, options);
    // The old one stays in state marked for deletion at the end of the run (step.go:467-473). A
    // delete-before-replace leftover resumed without DBR is marked too, and deleted again: that is
    // what the code does (sg.go:2159-2165, step.go:468-473), already deleted or not.
    const deleteWith = options.providerReplaced?.oldProvider;
    if (old.pendingReplacement) Object.assign(old, { delete: true, ...(deleteWith ? { deleteWith } : {}) });
    else this.leftovers.push({ name, ...old, delete: true, ...(deleteWith ? { deleteWith } : {}) });
    this.state.set(name, {
      ...created,
      inputs,
      customTimeouts: options.customTimeouts ?? {},
      ignoreChanges: options.ignoreChanges ?? [],
    });
  }

  private async createStep(name: string, inputs: Props, options: UpOptions) {
    const created = await this.createCall(name, inputs, options);
    if (this.preview) return;
    this.state.set(name, {
      ...created,
      inputs,
      customTimeouts: options.customTimeouts ?? {},
      ignoreChanges: options.ignoreChanges ?? [],
    });
  }

  /**
   * Create (step.go:366-375): the checked inputs, the new goal's create timeout, DryRun as
   * `preview`. At preview a provider that did not ask for previews is not called: the engine uses
   * the inputs as outputs, with no id (plugin.go:1430-1445).
   */
  private async createCall(
    name: string,
    properties: Props,
    options: UpOptions,
  ): Promise<{ id: string; outputs: Props }> {
    if (this.preview && !this.supportsPreview) return { id: "", outputs: properties };
    const created = await this.door.create(name, properties, {
      preview: this.preview,
      timeout: options.customTimeouts?.create ?? 0,
    });
    // An empty id is an error outside preview (step.go:448-450).
    if (!this.preview && !created.id) throw new EngineError("provider returned an empty id for a create");
    return { id: created.id, outputs: created.properties };
  }

  /** Update (step.go:1008-1022); at preview, as Create (plugin.go:1706-1721). */
  private async updateCall(name: string, old: StateEntry, news: Props, options: UpOptions): Promise<Props> {
    if (this.preview && !this.supportsPreview) return news;
    const updated = await this.door.update(name, old.id, old.outputs, news, {
      oldInputs: old.inputs,
      ignoreChanges: options.ignoreChanges ?? [],
      preview: this.preview,
      timeout: options.customTimeouts?.update ?? 0,
    });
    return updated.properties;
  }

  /** Delete (step.go:688-699): the old outputs and inputs, the old state's delete timeout. */
  private async deleteCall(name: string, old: StateEntry) {
    await (old.deleteWith ?? this.door).delete(name, old.id, old.outputs, {
      oldInputs: old.inputs,
      timeout: old.customTimeouts?.delete ?? 0,
    });
  }

  /**
   * The delete phase at the end of a run that had no failure (exec.go:318-346; sg.go:2390-2433
   * GenerateDeletes): the old resources of create-before-delete replacements, and the resources
   * the program no longer declares (`removed`). A failed delete leaves its entry for the next run.
   */
  async deletePhase(removed: string[] = []): Promise<void> {
    if (this.failed || this.preview) return;
    for (const entry of [...this.leftovers.filter((e) => e.delete)]) {
      try {
        await this.deleteCall(entry.name, entry);
      } catch (error) {
        this.failed = true;
        throw error;
      }
      this.leftovers.splice(this.leftovers.indexOf(entry), 1);
    }
    for (const name of removed) await this.destroy(name);
  }

  /** One resource's part of `pulumi up` with the given arguments: its registration, then the delete phase. */
  async up(name: string, args: Props, options: UpOptions = {}): Promise<Step> {
    const step = await this.register(name, args, options);
    await this.deletePhase();
    return step;
  }

  /**
   * What `pulumi up` does for every resource the program still declares unchanged: check and
   * diff (the provider sees which integrations the stack's resources hold).
   */
  async registerUnchanged(except: readonly string[] = []): Promise<void> {
    for (const [name, entry] of [...this.state]) {
      if (except.includes(name) || entry.external) continue;
      const args = programArgs(entry.inputs);
      await this.register(name, args, { ignoreChanges: entry.ignoreChanges ?? [] });
    }
  }

  /**
   * `pulumi refresh` of one resource (step.go:1541-1717 RefreshStep.Apply): Read with the old
   * outputs and inputs and the old read timeout; an empty id drops it; returned inputs replace the
   * stored ones wholesale, none keeps them; then the refresh diff, arguments swapped, for display.
   */
  async refresh(name: string): Promise<"gone" | "refreshed"> {
    const old = this.state.get(name);
    if (!old) throw new Error(`no resource ${name} in state`);
    const read = await this.door.read(name, old.id, old.outputs, old.inputs, {
      timeout: old.customTimeouts?.read ?? 0,
    });
    if (!read.id) {
      this.state.delete(name);
      return "gone";
    }
    const inputs = read.inputs ?? old.inputs;
    this.state.set(name, { ...old, id: read.id, inputs, outputs: read.properties });
    if (!old.external) {
      await this.door.diff(name, read.id, read.properties, old.inputs, {
        oldInputs: inputs,
        ignoreChanges: old.ignoreChanges ?? [],
      });
    }
    return "refreshed";
  }

  /** The refresh pre-pass of `pulumi refresh` / `up --refresh`: every resource, leftovers included (exec.go:696-866). */
  async refreshAll(): Promise<void> {
    for (const name of [...this.state.keys()]) await this.refresh(name);
    for (const entry of [...this.leftovers]) {
      if (entry.pendingReplacement) continue; // not read (step.go:1545-1557)
      const read = await this.door.read(entry.name, entry.id, entry.outputs, entry.inputs, {
        timeout: entry.customTimeouts?.read ?? 0,
      });
      if (!read.id) this.leftovers.splice(this.leftovers.indexOf(entry), 1);
      else Object.assign(entry, { outputs: read.properties, inputs: read.inputs ?? entry.inputs });
    }
  }

  /** `pulumi destroy` of one resource (or its removal from the program): Delete, then out of state. */
  async destroy(name: string): Promise<void> {
    const old = this.state.get(name);
    if (!old) throw new Error(`no resource ${name} in state`);
    // The delete phase deletes only what this run did not operate on (sg.go:2423 GenerateDeletes,
    // `!sg.isOperatedOn(res.URN)`): a resource the run registered is never deleted by it.
    if (this.registered.has(name)) {
      throw new Error(`harness: ${name} was registered in this run; a run that deletes it does not declare it`);
    }
    if (old.external) {
      this.state.delete(name); // discarded, no RPC (step.go:659-660)
      return;
    }
    try {
      await this.deleteCall(name, old);
    } catch (error) {
      this.failed = true;
      throw error;
    }
    this.state.delete(name);
  }

  /** `pulumi destroy` of everything: leftovers and resources. */
  async destroyAll(): Promise<void> {
    await this.deletePhase([...this.state.keys()]);
  }

  /**
   * The `import` resource option (step.go:2037-2092 ImportStep.Apply, then sg.go:1264-1342 and the
   * diff): Read with the id only; then Check with Read's inputs as olds and the program's inputs
   * (ignoreChanges reset to Read's inputs); then Diff. No change stores Read's inputs; a change is
   * an Update after the import; a replacement is an error.
   */
  private async importing(name: string, id: string, goal: Props, options: UpOptions): Promise<Step> {
    const read = await this.door.read(name, id, undefined, undefined, { timeout: options.customTimeouts?.read ?? 0 });
    if (!read.id || Object.keys(read.properties).length === 0) throw new EngineError(`resource '${id}' does not exist`);
    if (!read.inputs) throw new EngineError("provider does not support importing resources");
    const imported: StateEntry = { id: read.id || id, inputs: read.inputs, outputs: read.properties, importId: id };
    const news = applyIgnoreChanges(goal, imported.inputs, options.ignoreChanges ?? []);
    const checked = await this.check(name, imported.inputs, news);
    const diff = await this.door.diff(name, imported.id, imported.outputs, checked, {
      oldInputs: imported.inputs,
      ignoreChanges: options.ignoreChanges ?? [],
    });
    if (diff.replaces.length > 0) {
      throw new EngineError(
        "previously-imported resources that still specify an ID may not be replaced; please remove the `import` declaration",
      );
    }
    if (!diff.changes) {
      if (!this.preview) this.state.set(name, { ...imported, customTimeouts: options.customTimeouts ?? {} });
      return "import";
    }
    const outputs = await this.updateCall(name, imported, checked, options);
    if (!this.preview) this.state.set(name, { id: imported.id, inputs: checked, outputs, importId: id });
    return "import";
  }

  /**
   * `pulumi import <type> <name> <id>` (deploy/import.go:661 importResources, step.go:2146-2212):
   * Read with the id only; Check with Read's inputs as both olds and news, whose failures are only
   * warnings; no Diff; Read's inputs and outputs stored.
   */
  async pulumiImport(name: string, id: string): Promise<void> {
    const read = await this.door.read(name, id, undefined, undefined, { timeout: 0 });
    if (!read.id || Object.keys(read.properties).length === 0) throw new EngineError(`resource '${id}' does not exist`);
    if (!read.inputs) throw new EngineError("provider does not support importing resources");
    const checked = await this.door.check(name, read.inputs, read.inputs, { randomSeed: this.randomSeed });
    for (const f of checked.failures) this.warnings.push(`${f.property}: ${f.reason}`);
    if (!this.preview) this.state.set(name, { id: read.id, inputs: read.inputs, outputs: read.properties });
  }

  /** `SegmentIntegration.get(name, id)` (step.go:1308-1404 ReadStep.Apply): Read only, inputs and state the passed props. */
  async get(name: string, id: string, props: Props = {}): Promise<StateEntry> {
    const read = await this.door.read(name, id, props, props, { timeout: 0 });
    if (!read.id || Object.keys(read.properties).length === 0) throw new EngineError(`resource '${id}' does not exist`);
    const entry: StateEntry = { id: read.id, inputs: props, outputs: read.properties, external: true };
    if (!this.preview) this.state.set(name, entry);
    return entry;
  }

  /** Ctrl-C: the Cancel RPC, at once, while operations under way go on (exec.go:140-151, host.go:580-635). */
  async cancel(): Promise<void> {
    await this.door.cancel?.();
  }

  /** Every id state points to, leftovers included. */
  ids(): string[] {
    return [...[...this.state.values()].map((e) => e.id), ...this.leftovers.map((e) => e.id)];
  }

  /** Entries marked for deletion (the old resources of create-before-delete replacements). */
  get pendingDeletes(): (StateEntry & { name: string })[] {
    return this.leftovers.filter((e) => e.delete);
  }
}

/** A copy of an entry (its provider for the delete, a live object, is shared). */
function cloneEntry<T extends StateEntry>(entry: T): T {
  const { deleteWith, ...data } = entry;
  return { ...structuredClone(data), ...(deleteWith ? { deleteWith } : {}) } as T;
}

/** The program's arguments from stored inputs (what the program declared, without the provider's defaults). */
function programArgs(inputs: Props): Props {
  const { __provider: _provider, ...args } = inputs;
  return args;
}

/** Whether a Diff's changed keys or detailed paths fall under `path` (sg.go:3170-3261 applyReplaceOnChanges). */
function changedUnder(diff: { diffs: string[]; detailedDiff: Record<string, unknown> }, path: string): boolean {
  const changed = [...diff.diffs, ...Object.keys(diff.detailedDiff ?? {})];
  return changed.some((key) => key === path || key.startsWith(`${path}.`) || path.startsWith(`${key}.`));
}

/**
 * processIgnoreChanges (sg.go:3076-3096, PropertyPath.Reset): each ignored path in the news gets
 * the old inputs' value there, or is deleted when the old inputs have none. Paths are dotted here.
 */
export function applyIgnoreChanges(news: Props, oldInputs: Props, paths: readonly string[]): Props {
  const out = structuredClone(news);
  for (const path of paths) {
    const keys = path.split(".");
    let source: any = oldInputs;
    let target: any = out;
    for (const key of keys.slice(0, -1)) {
      source = source?.[key];
      if (isSecret(source)) source = source.value;
      if (target[key] === undefined || typeof target[key] !== "object") target[key] = {};
      if (isSecret(target[key])) target[key] = secret({ ...(target[key].value as Props) });
      target = isSecret(target[key]) ? target[key].value : target[key];
    }
    const last = keys.at(-1)!;
    if (source?.[last] === undefined) delete target[last];
    else target[last] = structuredClone(source[last]);
  }
  return out;
}

const sameValue = (a: unknown, b: unknown) =>
  JSON.stringify(reveal({ v: a }).plain) === JSON.stringify(reveal({ v: b }).plain);

/**
 * A door as the engine talks to a plugin that accepts secrets (the native one): `properties` goes
 * in marked secret (plugin.go marshals with KeepSecrets), and what comes back is stored revealed,
 * so the same model reads both doors.
 */
export function withEngineSecrets(door: Door): Door {
  const mark = (props: Props): Props =>
    props.properties === undefined || isSecret(props.properties)
      ? props
      : { ...props, properties: secret(props.properties) };
  const plain = (props: Props): Props => reveal(props).plain;
  const markOpt = <T extends { oldInputs?: Props }>(opts: T | undefined): T | undefined =>
    opts?.oldInputs ? { ...opts, oldInputs: mark(opts.oldInputs) } : opts;
  return {
    check: async (name, olds, news, opts) => {
      const res = await door.check(name, mark(olds), mark(news), opts);
      return { ...res, inputs: plain(res.inputs) };
    },
    diff: (name, id, olds, news, opts) => door.diff(name, id, mark(olds), mark(news), markOpt(opts)),
    create: async (name, props, opts) => {
      const res = await door.create(name, mark(props), opts);
      return { ...res, properties: plain(res.properties) };
    },
    read: async (name, id, props, inputs, opts) => {
      const res = await door.read(name, id, props && mark(props), inputs && mark(inputs), opts);
      return { ...res, properties: plain(res.properties), inputs: res.inputs && plain(res.inputs) };
    },
    update: async (name, id, olds, news, opts) => ({
      properties: plain((await door.update(name, id, mark(olds), mark(news), markOpt(opts))).properties),
    }),
    delete: (name, id, props, opts) => door.delete(name, id, mark(props), markOpt(opts)),
    ...(door.cancel ? { cancel: () => door.cancel!() } : {}),
  };
}
