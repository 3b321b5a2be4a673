/**
 * The dynamic provider's front door: the methods the Pulumi dynamic-provider runtime calls, over
 * the shared operations (`../operations`). One provider process serves one deployment, and the
 * runtime calls `configure` once per process, so each `configure` starts a fresh set of operations.
 *
 * This module is what the serialized shim (`shim.ts`) loads by package name inside the Pulumi
 * dynamic-provider process, so none of it (and no credential) is ever written into state.
 */
import type * as pulumi from "@pulumi/pulumi";
import { type CheckResult, IntegrationOperations, type Props, type ReadResult } from "../operations";
import type { IntegrationOutputs } from "../types";

let operations = new IntegrationOperations();

/** Receives the whole stack config (namespaced keys, `sendgrid:*`) once per provider process. */
export async function configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
  operations = new IntegrationOperations((key) => {
    const value = req.config.get(key); // always text from the engine; String() guards older SDKs
    return value === undefined ? undefined : String(value);
  });
}

export const check = (olds: Props, news: Props): Promise<CheckResult> => operations.check(olds, news);

export async function diff(id: string, olds: Props, news: Props): Promise<pulumi.dynamic.DiffResult> {
  // The runtime forwards only these three (no per-property diff, no stables).
  const { changes, replaces, deleteBeforeReplace } = await operations.diff(id, olds, news);
  return { changes, replaces, deleteBeforeReplace };
}

export const create = (inputs: Props): Promise<{ id: string; outs: IntegrationOutputs }> => operations.create(inputs);

/**
 * Refresh. An empty id with empty props means the integration is gone. When the live integration
 * differs from state, the refreshed inputs are returned too, so the next preview diffs the program
 * against what really exists (the engine keeps `properties` secret in them as it was).
 */
export const read = (id: string, props: Props): Promise<ReadResult> => operations.read(id, props);

export const update = (id: string, olds: Props, news: Props): Promise<{ outs: IntegrationOutputs }> =>
  operations.update(id, olds, news);

const del = (id: string, props: Props): Promise<void> => operations.delete(id, props);

export { del as delete };

/**
 * What the shim installs on the provider object after `configure`. The named exports above stay
 * too: state written by 0.1.0 holds a shim that calls them by name.
 */
export const methods = { check, diff, create, read, update, delete: del };
