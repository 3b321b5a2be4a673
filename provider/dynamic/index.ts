/**
 * The dynamic provider's front door: the methods the Pulumi dynamic-provider runtime calls, over
 * the shared operations (`../operations`). One provider process serves one deployment. The
 * dynamic runtime sends no custom timeouts, no `ignoreChanges` and no Cancel (its Cancel does
 * nothing), so these operations run without them.
 *
 * This module is what the serialized shim (`shim.ts`) loads by package name inside the Pulumi
 * dynamic-provider process, so none of it (and no credential) is ever written into state.
 */
import type * as pulumi from "@pulumi/pulumi";
import { DEFAULT_NAMESPACE, settingNames } from "../config";
import { type Control, UNBOUNDED } from "../control";
import { EngineLink, fromPulumi, Severity } from "../engine";
import { type CheckResult, IntegrationOperations, type Props, type ReadResult } from "../operations";
import type { IntegrationOutputs } from "../types";

let operations = new IntegrationOperations();
/** The settings `operations` were made from, as the engine gave them. */
let configured: string | undefined;

/** The keys of the stack config this provider reads (`sendgrid:*`). */
function stackKeys(): string[] {
  return [
    ...Object.values(settingNames(undefined, DEFAULT_NAMESPACE)).map((n) => n.config),
    `${DEFAULT_NAMESPACE}:accounts`,
  ];
}

/**
 * Receives the whole stack config (namespaced keys, `sendgrid:*`). The runtime calls it once per
 * distinct serialized provider in the process: state written by 0.1.0, 0.2.0 and this release each
 * carry their own `__provider`, so one deployment may configure several times, always with the same
 * stack config. The operations (with the integrations this deployment's resources hold, and what it
 * has listed) are made once for that config; only another config (a test, another stack) makes new ones.
 */
export async function configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
  const read = (key: string) => {
    const value = req.config.get(key); // always text from the engine; String() guards older SDKs
    return value === undefined ? undefined : String(value);
  };
  const keys = stackKeys();
  const snapshot = JSON.stringify(keys.map((key) => read(key) ?? null));
  if (snapshot === configured) return;
  configured = snapshot;
  // Stryker disable next-line ArrayDeclaration: an empty entry leaves each key to `read`, which gives the same text: the engine's config (cmd/dynamic-provider config.js) is a new object per Configure, never changed
  const values = new Map(keys.map((key) => [key, read(key)]));
  // Stryker disable next-line LogicalOperator: every key the operations read is in stackKeys(), read above from the same unchanging config: `read(key)` gives what the map holds
  operations = new IntegrationOperations((key) => values.get(key) ?? read(key));
}

/**
 * Forgets this process's deployment: the next `configure` starts new operations even with the
 * same stack config. The dynamic runtime never calls it (one process is one deployment); tests and
 * programs that embed the provider in a long-lived process do, between deployments.
 */
export function newDeployment(): void {
  configured = undefined;
}

/**
 * The engine that started this process (the dynamic-provider runtime gets its address as its
 * argument): warnings go to its log, as the plugin's do. Only in that runtime's process.
 */
let engine: EngineLink | undefined | null = null;
function link(): EngineLink | undefined {
  // equivalent ConditionalExpression: (for true) looking again on each operation finds the same engine, from the same argument
  if (engine === null) {
    // Stryker disable next-line StringLiteral: without a main module, any other text naming no cmd/dynamic-provider directory does not match either
    engine = /[\\/]cmd[\\/]dynamic-provider[\\/]/.test(require.main?.filename ?? "")
      ? EngineLink.fromArgs(process.argv.slice(2), fromPulumi)
      : undefined;
  }
  return engine;
}

/** Runs an operation with its control; its warnings reach the engine's log before it answers. */
async function logged<T>(operation: (control: Control) => Promise<T>): Promise<T> {
  const to = link();
  const control: Control = to ? { ...UNBOUNDED, warn: (message) => void to.log(Severity.warning, message) } : UNBOUNDED;
  try {
    return await operation(control);
  } finally {
    await to?.flush();
  }
}

export const check = (olds: Props, news: Props): Promise<CheckResult> => operations.check(olds, news);

export async function diff(id: string, olds: Props, news: Props): Promise<pulumi.dynamic.DiffResult> {
  // The runtime forwards only these three (no per-property diff, no stables).
  const { changes, replaces, deleteBeforeReplace } = await operations.diff(id, olds, news);
  return { changes, replaces, deleteBeforeReplace };
}

export const create = (inputs: Props): Promise<{ id: string; outs: IntegrationOutputs }> =>
  logged((control) => operations.create(inputs, control));

/**
 * Refresh. An empty id with empty props means the integration is gone. When the live integration
 * differs from state, the refreshed inputs are returned too, so the next preview diffs the program
 * against what really exists (the engine keeps `properties` secret in them as it was).
 */
export function read(id: string, props: Props): Promise<ReadResult> {
  return logged((control) => operations.read(id, props, control));
}

export function update(id: string, olds: Props, news: Props): Promise<{ outs: IntegrationOutputs }> {
  return logged((control) => operations.update(id, olds, news, control));
}

const del = (id: string, props: Props): Promise<void> => logged((control) => operations.delete(id, props, control));

export { del as delete };

/**
 * What the shim installs on the provider object after `configure`. The named exports above stay
 * too: state written by 0.1.0 holds a shim that calls them by name.
 */
// killed by hand ObjectLiteral: an empty object fails provider.test.ts "the methods the shim installs" when applied by hand
export const methods = { check, diff, create, read, update, delete: del };
