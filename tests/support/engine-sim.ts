// The Pulumi engine's call orders for one resource type, over a provider's gRPC surface: what
// `pulumi up` (create, update, replace create-before-delete or delete-before-replace, `--replace`,
// `ignoreChanges`), `pulumi refresh` and `pulumi destroy` send, and what the engine then keeps in
// state. Used by the seams regression tests and by the lifecycle model. It follows
// pkg/resource/deploy/step_generator.go and step_executor.go: check gets the old *inputs*, diff and
// update the old *outputs*; a replacement's delete that fails leaves the old resource in state as
// a pending delete, retried first by the next `up`; a failed create leaves nothing in state.
import { isSecret, reveal, secret } from "../../provider/native/secrets";
import type { ProviderServer } from "./engine.cjs";

type Props = Record<string, any>;

/** The calls the simulator needs: the gRPC driver of either front door. */
export type Door = Pick<ProviderServer, "check" | "diff" | "create" | "read" | "update" | "delete">;

export interface StateEntry {
  id: string;
  inputs: Props;
  outputs: Props;
}

export interface UpOptions {
  /** `pulumi up --replace <urn>`. */
  replace?: boolean;
  /** The resource option deleteBeforeReplace (the engine honours it for any replacement). */
  deleteBeforeReplace?: boolean;
  /** Top-level or dotted input paths under `ignoreChanges`: the old input value is sent instead. */
  ignoreChanges?: string[];
}

export type Step = "create" | "update" | "replace" | "same";

/** A check that returned failures: the engine stops before any other call. */
export class CheckFailed extends Error {
  constructor(readonly failures: { property: string; reason: string }[]) {
    super(`check failed: ${failures.map((f) => `${f.property}: ${f.reason}`).join("; ")}`);
  }
}

export class SimEngine {
  readonly state = new Map<string, StateEntry>();
  /** Old resources a replacement could not delete: `pulumi up` retries these first. */
  readonly pendingDeletes: (StateEntry & { name: string })[] = [];

  constructor(
    private readonly door: Door,
    /** Inputs every program registration carries (the dynamic provider's `__provider`). */
    readonly extra: Props = {},
  ) {}

  /** One resource's part of `pulumi up` with the given arguments. */
  async up(name: string, args: Props, options: UpOptions = {}): Promise<Step> {
    await this.retryPendingDeletes();
    const old = this.state.get(name);
    const news: Props = structuredClone({ ...args, ...this.extra });
    if (old) for (const path of options.ignoreChanges ?? []) copyPath(old.inputs, news, path);
    const checked = await this.door.check(name, old?.inputs ?? {}, news);
    if (checked.failures.length > 0) throw new CheckFailed(checked.failures);
    if (!old) {
      await this.create(name, checked.inputs);
      return "create";
    }
    const diff = await this.door.diff(name, old.id, old.outputs, checked.inputs);
    if (options.replace || diff.replaces.length > 0) {
      if (options.deleteBeforeReplace) {
        await this.door.delete(name, old.id, old.outputs);
        this.state.delete(name);
        await this.create(name, checked.inputs);
      } else {
        await this.create(name, checked.inputs); // on failure the old one stays, untouched
        try {
          await this.door.delete(name, old.id, old.outputs);
        } catch (error) {
          this.pendingDeletes.push({ name, ...old });
          throw error;
        }
      }
      return "replace";
    }
    if (!diff.changes) return "same";
    const updated = await this.door.update(name, old.id, old.outputs, checked.inputs);
    this.state.set(name, { id: old.id, inputs: checked.inputs, outputs: updated.properties });
    return "update";
  }

  /**
   * What `pulumi up` does first for every resource the program still declares and that does not
   * change: check and diff (no API call). This is how the provider sees which integrations the
   * stack's resources hold.
   */
  async registerUnchanged(): Promise<void> {
    for (const [name, entry] of this.state) {
      const checked = await this.door.check(name, entry.inputs, { ...entry.inputs, ...this.extra });
      await this.door.diff(name, entry.id, entry.outputs, checked.inputs);
    }
  }

  /** `pulumi refresh` of one resource: gone when read answers an empty id. */
  async refresh(name: string): Promise<"gone" | "refreshed"> {
    const old = this.state.get(name);
    if (!old) throw new Error(`no resource ${name} in state`);
    const read = await this.door.read(name, old.id, old.outputs, old.inputs); // refresh sends both
    if (!read.id) {
      this.state.delete(name);
      return "gone";
    }
    this.state.set(name, { id: read.id, inputs: read.inputs ?? old.inputs, outputs: read.properties });
    return "refreshed";
  }

  /** `pulumi destroy` of one resource (or its removal from the program). */
  async destroy(name: string): Promise<void> {
    const old = this.state.get(name);
    if (!old) throw new Error(`no resource ${name} in state`);
    await this.door.delete(name, old.id, old.outputs);
    this.state.delete(name);
  }

  /** Every id state points to, pending deletes included. */
  ids(): string[] {
    return [...[...this.state.values()].map((e) => e.id), ...this.pendingDeletes.map((e) => e.id)];
  }

  private async create(name: string, inputs: Props) {
    const created = await this.door.create(name, inputs);
    this.state.set(name, { id: created.id, inputs, outputs: created.properties });
  }

  private async retryPendingDeletes() {
    while (this.pendingDeletes.length > 0) {
      const pending = this.pendingDeletes[0]!;
      await this.door.delete(pending.name, pending.id, pending.outputs);
      this.pendingDeletes.shift();
    }
  }
}

/** Copy the value at a dotted path from `from` into `to` (as the engine applies ignoreChanges). */
function copyPath(from: Props, to: Props, path: string) {
  const keys = path.split(".");
  let source: any = from;
  let target: any = to;
  for (const key of keys.slice(0, -1)) {
    source = source?.[key];
    target[key] = { ...(target[key] ?? {}) };
    target = target[key];
  }
  const last = keys.at(-1)!;
  if (source?.[last] === undefined) delete target[last];
  else target[last] = structuredClone(source[last]);
}

/**
 * A door as the engine talks to a plugin that accepts secrets (the native one): `properties` goes
 * in marked secret, and what comes back is stored revealed, so the same model reads both doors.
 */
export function withEngineSecrets(door: Door): Door {
  const mark = (props: Props): Props =>
    props.properties === undefined || isSecret(props.properties)
      ? props
      : { ...props, properties: secret(props.properties) };
  const plain = (props: Props): Props => reveal(props).plain;
  return {
    check: async (name, olds, news) => {
      const res = await door.check(name, mark(olds), mark(news));
      return { ...res, inputs: plain(res.inputs) };
    },
    diff: (name, id, olds, news) => door.diff(name, id, mark(olds), mark(news)),
    create: async (name, props) => {
      const res = await door.create(name, mark(props));
      return { ...res, properties: plain(res.properties) };
    },
    read: async (name, id, props, inputs) => {
      const res = await door.read(name, id, props && mark(props), inputs && mark(inputs));
      return { ...res, properties: plain(res.properties), inputs: res.inputs && plain(res.inputs) };
    },
    update: async (name, id, olds, news) => ({
      properties: plain((await door.update(name, id, mark(olds), mark(news))).properties),
    }),
    delete: (name, id, props) => door.delete(name, id, mark(props)),
  };
}
