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
import { createReconciled, sameIntegration } from "./reconcile";
import { checkInputs, toIntegrationInputs } from "./schema";
import type { IntegrationOutputs } from "./types";
import { fromWire, toWire } from "./wire";

type Props = Record<string, any>;

let stackConfig: StackConfig = () => undefined;
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
  preloadHttp();
}

/** check, plus whether a named account is configured: a typo fails at preview, not mid-deploy. */
export async function check(_olds: Props, news: Props): Promise<ReturnType<typeof checkInputs>> {
  const result = checkInputs(news);
  const account = result.inputs.account;
  if (typeof account === "string" && !result.failures.some((f) => f.property === "account")) {
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

export async function diff(_id: string, olds: Props, news: Props): Promise<pulumi.dynamic.DiffResult> {
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
    ? await adoptIntegration(sendgrid, importId, desired)
    : await createReconciled(sendgrid, desired);
  // The client has validated the answer: it carries the integration's id.
  const outs: IntegrationOutputs = { ...fromWire(live, desired), ...(importId ? { importId } : {}) };
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
  const known = toIntegrationInputs(props);
  try {
    const live = await (await clientFor(known.account, `read ${describeId(id)}`)).get(id, scopeOf(known));
    const outs: IntegrationOutputs = {
      ...fromWire(live, known),
      integrationId: id,
      ...(typeof props.importId === "string" ? { importId: props.importId } : {}),
    };
    outs.userId ||= String(props.userId ?? "");
    if (!diffIntegration(props, { ...outs }).changes) return { id, props: outs };
    const { integrationId: _id, userId: _user, ...inputs } = outs;
    return { id, props: outs, inputs };
  } catch (error) {
    // Deleted outside Pulumi: an empty id tells the engine the resource is gone.
    if (isNotFound(error)) return { id: "", props: {} };
    throw error;
  }
}

export async function update(id: string, olds: Props, news: Props): Promise<{ outs: IntegrationOutputs }> {
  const desired = toIntegrationInputs(news);
  const scope = scopeOf(desired, toIntegrationInputs(olds));
  const sendgrid = await clientFor(desired.account, `update ${describeId(id)}`);
  let updated: Awaited<ReturnType<IntegrationsClient["update"]>>;
  try {
    updated = await sendgrid.update(id, toWire(desired), scope);
  } catch (error) {
    // A 2xx whose answer cannot be used: PATCH is idempotent, so read back what is live instead.
    if (!isUnusableSuccess(error)) throw error;
    updated = await sendgrid.get(id, scope);
    if (!sameIntegration(updated, desired)) throw error;
  }
  const outs = fromWire(updated, desired);
  return { outs: { ...outs, integrationId: id, userId: outs.userId || String(olds.userId ?? "") } };
}

export async function del(id: string, props: Props): Promise<void> {
  try {
    const known = toIntegrationInputs(props);
    await (await clientFor(known.account, `delete ${describeId(id)}`)).delete(id, scopeOf(known));
  } catch (error) {
    if (!isNotFound(error)) throw error; // already deleted is deleted
  }
}
export { del as delete };

/**
 * A 2xx whose body cannot be used: only a ResponseError has a status below 300 (its others are a
 * redirect or an oversized error answer; an ApiError's is 400 or more; the rest carry none).
 */
const isUnusableSuccess = (error: unknown) => Number((error as { status?: number }).status) < 300;

/**
 * What the shim installs on the provider object after `configure`. The named exports above stay
 * too: state written by 0.1.0 holds a shim that calls them by name.
 */
export const methods = { check, diff, create, read, update, delete: del };
