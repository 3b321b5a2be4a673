/**
 * The SegmentIntegration provider: configure, check, diff, create, read, update, delete.
 *
 * This module is what the serialized shim (`shim.ts`) loads by package name inside the Pulumi
 * dynamic-provider process, so none of it (and no credential) is ever written into state.
 */
import type * as pulumi from "@pulumi/pulumi";
import { adoptIntegration } from "./adopt";
import { describeId, IntegrationsClient, preloadHttp, scopeOf } from "./client";
import { accountExists, howToConfigure, resolveSettings, type StackConfig } from "./config";
import { diffIntegration } from "./diff";
import { ConfigurationError, isNotFound } from "./errors";
import { Holdings } from "./holdings";
import { createReconciled, patchReconciled } from "./reconcile";
import { checkInputs, toIntegrationInputs, UNKNOWN } from "./schema";
import { assertReadableState } from "./state";
import { type IntegrationOutputs, STATE_VERSION } from "./types";
import { fromWire } from "./wire";

type Props = Record<string, any>;

let stackConfig: StackConfig = () => undefined;
/** The integrations this deployment's resources hold (one provider process serves one deployment). */
let holdings = new Holdings();
/** One client per account (undefined is the default one): its own key, host, timeouts and retries. */
const clients = new Map<string | undefined, Promise<IntegrationsClient>>();

/**
 * The client for an account. Settings are resolved on first use, so check and diff (preview) work
 * without any key, and nothing about an account is looked at until an operation needs it.
 */
function api(account: string | undefined): Promise<IntegrationsClient> {
  let client = clients.get(account);
  if (!client) {
    client = Promise.resolve()
      .then(() => IntegrationsClient.create(resolveSettings(stackConfig, process.env, account)))
      .catch((error) => {
        clients.delete(account); // a later operation may retry with fixed configuration
        throw error;
      });
    clients.set(account, client);
  }
  return client;
}

/** The account's client, or a configuration error that says which operation it stopped. */
async function clientFor(account: string | undefined, doing: string): Promise<IntegrationsClient> {
  try {
    return await api(account);
  } catch (error) {
    // Settings (or, in a broken install, loading the HTTP library) failed: the setup, not the API.
    throw new ConfigurationError(`Unable to ${doing}: ${(error as Error).message}`);
  }
}

/** Receives the whole stack config (namespaced keys) once per provider process. */
export async function configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
  stackConfig = (key) => {
    const value = req.config.get(key); // always text from the engine; String() guards older SDKs
    return value === undefined ? undefined : String(value);
  };
  clients.clear();
  holdings = new Holdings();
  preloadHttp();
}

/**
 * check, plus whether a named account is configured: a typo fails at preview, not mid-deploy (an
 * account still unknown at preview is not looked up). `olds` are the resource's inputs in state:
 * once it has any, `importId` is dropped, so only a resource's first create ever adopts and a
 * replacement creates its own integration instead of taking the one it replaces.
 */
export async function check(olds: Props, news: Props): Promise<ReturnType<typeof checkInputs>> {
  const result = checkInputs(news);
  if (hasState(olds)) delete result.inputs.importId;
  const account = result.inputs.account;
  if (typeof account === "string" && account !== UNKNOWN && !result.failures.some((f) => f.property === "account")) {
    try {
      if (!accountExists(account, stackConfig)) {
        result.failures.push({
          property: "account",
          reason: `no SendGrid account "${account}" is configured: ${howToConfigure(account)}`,
        });
      }
    } catch (error) {
      result.failures.push({ property: "account", reason: (error as Error).message }); // a broken sendgrid:accounts
    }
  }
  return result;
}

/** Whether check's `olds` come from state (a resource that exists), not a first create's `{}`. */
const hasState = (olds: Props | undefined) => Object.keys(olds ?? {}).some((key) => key !== "__provider");

export async function diff(id: string, olds: Props, news: Props): Promise<pulumi.dynamic.DiffResult> {
  assertReadableState(olds, `diff ${describeId(id)}`);
  holdings.seen(id);
  // `stables` is not forwarded by the dynamic-provider runtime, so it is not computed.
  const { changes, replaces, deleteBeforeReplace } = diffIntegration(olds, news);
  return { changes, replaces, deleteBeforeReplace };
}

export async function create(inputs: Props): Promise<{ id: string; outs: IntegrationOutputs }> {
  const desired = toIntegrationInputs(inputs);
  const importId = inputs.importId as string | undefined; // check has made it a string or left it out
  const sendgrid = await clientFor(
    desired.account,
    `create SendGrid Segment integration ${JSON.stringify(desired.label)}`,
  );
  const live = importId
    ? await adoptIntegration(sendgrid, importId, desired, holdings)
    : await createReconciled(sendgrid, desired, holdings);
  // The client has validated the answer: it carries the integration's id.
  const outs: IntegrationOutputs = {
    ...fromWire(live, desired),
    ...(importId ? { importId } : {}),
    stateVersion: STATE_VERSION,
  };
  return { id: outs.integrationId, outs };
}

/**
 * Refresh. An empty id with empty props means the integration is gone. When the live integration
 * differs from state, the refreshed inputs are returned too (ReadResult `inputs`), so the next
 * preview diffs the program against what really exists. (The runtime ignores them where it does
 * not support them; the engine keeps `properties` secret in them as it was.)
 */
export async function read(
  id: string,
  props: Props,
): Promise<{ id: string; props: IntegrationOutputs | Record<string, never>; inputs?: Props }> {
  assertReadableState(props, `read ${describeId(id)}`);
  holdings.seen(id);
  const known = toIntegrationInputs(props);
  try {
    const live = await (await clientFor(known.account, `read ${describeId(id)}`)).get(id, scopeOf(known));
    const outs = toOutputs(fromWire(live, known), id, props);
    if (!diffIntegration(props, { ...outs }).changes) return { id, props: outs };
    const { integrationId: _id, userId: _user, stateVersion: _version, ...inputs } = outs;
    return { id, props: outs, inputs };
  } catch (error) {
    // Deleted outside Pulumi (SendGrid's own 404): an empty id tells the engine the resource is gone.
    if (!isNotFound(error)) throw error;
    holdings.release(id);
    return { id: "", props: {} };
  }
}

/** Outputs for a resource in state: its id, the ids and importId state already had, this state version. */
function toOutputs(live: IntegrationOutputs, id: string, state: Props): IntegrationOutputs {
  return {
    ...live,
    integrationId: id,
    userId: live.userId || String(state.userId ?? ""),
    ...(typeof state.importId === "string" ? { importId: state.importId } : {}),
    stateVersion: STATE_VERSION,
  };
}

/**
 * Update in place: one PATCH carrying only the fields that differ from state, so a field changed
 * outside Pulumi, or under `ignoreChanges`, keeps its live value.
 */
export async function update(id: string, olds: Props, news: Props): Promise<{ outs: IntegrationOutputs }> {
  assertReadableState(olds, `update ${describeId(id)}`);
  holdings.seen(id);
  const desired = toIntegrationInputs(news);
  const scope = scopeOf(desired, toIntegrationInputs(olds));
  const fields = diffIntegration(olds, news).changed; // replacing fields never reach update
  const sendgrid = await clientFor(desired.account, `update ${describeId(id)}`);
  const updated = await patchReconciled(sendgrid, id, desired, fields, scope);
  return { outs: toOutputs(fromWire(updated, desired), id, olds) };
}

/**
 * Delete. An id that a create of this same deployment returned belongs to that new resource now (a
 * renamed resource's replacement recognised it), so it is only dropped from this one's state.
 */
export async function del(id: string, props: Props): Promise<void> {
  assertReadableState(props, `delete ${describeId(id)}`);
  if (holdings.adoptedHere(id)) return;
  try {
    const known = toIntegrationInputs(props);
    await (await clientFor(known.account, `delete ${describeId(id)}`)).delete(id, scopeOf(known));
  } catch (error) {
    if (!isNotFound(error)) throw error; // already deleted (SendGrid's own 404) is deleted
  }
  holdings.release(id);
}
export { del as delete };

/**
 * What the shim installs on the provider object after `configure`. The named exports above stay
 * too: state written by 0.1.0 holds a shim that calls them by name.
 */
export const methods = { check, diff, create, read, update, delete: del };
