/**
 * The SegmentIntegration operations both front doors share: check, diff, create, read, update,
 * delete, over one deployment's settings, clients and holdings. The dynamic provider
 * (`dynamic/`) and the native plugin (`native/`) only translate their protocol to these calls.
 */
import { adoptIntegration } from "./adopt";
import { describeId, IntegrationsClient, preloadHttp, scopeOf } from "./client";
import { accountExists, DEFAULT_NAMESPACE, howToConfigure, resolveSettings, type StackConfig } from "./config";
import { diffIntegration, type IntegrationDiff } from "./diff";
import { ConfigurationError, isNotFound } from "./errors";
import { Holdings } from "./holdings";
import { createReconciled, patchReconciled } from "./reconcile";
import { type CheckFailure, checkInputs, PROVIDER_KEY, toIntegrationInputs, UNKNOWN } from "./schema";
import { assertReadableState } from "./state";
import { type IntegrationOutputs, STATE_VERSION } from "./types";
import { fromWire } from "./wire";

export type Props = Record<string, any>;

export interface CheckResult {
  inputs: Record<string, unknown>;
  failures: CheckFailure[];
}

export interface ReadResult {
  /** "" when the integration is gone. */
  id: string;
  props: IntegrationOutputs | Record<string, never>;
  /** The live integration as inputs, when it differs from state. */
  inputs?: Props;
}

/** Whether check's `olds` come from state (a resource that exists), not a first create's `{}`. */
const hasState = (olds: Props | undefined) => Object.keys(olds ?? {}).some((key) => key !== PROVIDER_KEY);

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

/** A resource's inputs from its outputs (what refresh and import give the engine as inputs). */
export function inputsOf(outs: IntegrationOutputs): Props {
  const { integrationId: _id, userId: _user, stateVersion: _version, ...inputs } = outs;
  return inputs;
}

/** One deployment's operations: one provider process (or one configured native provider) each. */
export class IntegrationOperations {
  /** The integrations this deployment's resources hold. */
  private readonly holdings = new Holdings();
  /** One client per account (undefined is the default one): its own key, host, timeouts and retries. */
  private readonly clients = new Map<string | undefined, Promise<IntegrationsClient>>();

  /**
   * @param stackConfig the provider configuration, by namespaced key (`<namespace>:apiKey`)
   * @param namespace the keys' namespace: the dynamic provider's `sendgrid`, or the plugin's own
   */
  constructor(
    private readonly stackConfig: StackConfig = () => undefined,
    private readonly namespace = DEFAULT_NAMESPACE,
    // equivalent BlockStatement: loading early only saves time; the first request loads got anyway
  ) {
    preloadHttp();
  }

  /**
   * The client for an account. Settings are resolved on first use, so check and diff (preview) work
   * without any key, and nothing about an account is looked at until an operation needs it.
   */
  private api(account: string | undefined): Promise<IntegrationsClient> {
    let client = this.clients.get(account);
    if (!client) {
      client = Promise.resolve()
        .then(() =>
          IntegrationsClient.create(resolveSettings(this.stackConfig, process.env, account, {}, this.namespace)),
        )
        .catch((error) => {
          this.clients.delete(account); // a later operation may retry with fixed configuration
          throw error;
        });
      this.clients.set(account, client);
    }
    return client;
  }

  /** The account's client, or a configuration error that says which operation it stopped. */
  private async clientFor(account: string | undefined, doing: string): Promise<IntegrationsClient> {
    try {
      return await this.api(account);
    } catch (error) {
      // Settings (or, in a broken install, loading the HTTP library) failed: the setup, not the API.
      throw new ConfigurationError(`Unable to ${doing}: ${(error as Error).message}`);
    }
  }

  /** Marks an id as held by a resource of this deployment, after checking its state can be read. */
  private fromState(id: string, props: Props, doing: string): void {
    assertReadableState(props, `${doing} ${describeId(id)}`);
    this.holdings.seen(id);
  }

  /**
   * check, plus whether a named account is configured: a typo fails at preview, not mid-deploy (an
   * account still unknown at preview is not looked up). `olds` are the resource's inputs in state:
   * once it has any, `importId` is dropped, so only a resource's first create ever adopts and a
   * replacement creates its own integration instead of taking the one it replaces.
   */
  async check(olds: Props, news: Props): Promise<CheckResult> {
    const result = checkInputs(news);
    if (hasState(olds)) delete result.inputs.importId;
    const account = result.inputs.account;
    if (typeof account === "string" && account !== UNKNOWN && !result.failures.some((f) => f.property === "account")) {
      try {
        if (!accountExists(account, this.stackConfig, process.env, this.namespace)) {
          result.failures.push({
            property: "account",
            reason: `no SendGrid account "${account}" is configured: ${howToConfigure(account, this.namespace)}`,
          });
        }
      } catch (error) {
        result.failures.push({ property: "account", reason: (error as Error).message }); // a broken accounts setting
      }
    }
    return result;
  }

  /** Diff state (`olds`, outputs) against checked inputs. Makes no API call. */
  async diff(id: string, olds: Props, news: Props): Promise<IntegrationDiff> {
    this.fromState(id, olds, "diff");
    return diffIntegration(olds, news);
  }

  async create(inputs: Props): Promise<{ id: string; outs: IntegrationOutputs }> {
    const desired = toIntegrationInputs(inputs);
    const importId = inputs.importId as string | undefined; // check has made it a string or left it out
    const sendgrid = await this.clientFor(
      desired.account,
      `create SendGrid Segment integration ${JSON.stringify(desired.label)}`,
    );
    const live = importId
      ? await adoptIntegration(sendgrid, importId, desired, this.holdings)
      : await createReconciled(sendgrid, desired, this.holdings);
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
  async read(id: string, props: Props): Promise<ReadResult> {
    this.fromState(id, props, "read");
    const known = toIntegrationInputs(props);
    try {
      const live = await (await this.clientFor(known.account, `read ${describeId(id)}`)).get(id, scopeOf(known));
      const outs = toOutputs(fromWire(live, known), id, props);
      if (!diffIntegration(props, { ...outs }).changes) return { id, props: outs };
      return { id, props: outs, inputs: inputsOf(outs) };
    } catch (error) {
      // Deleted outside Pulumi (SendGrid's own 404): an empty id tells the engine the resource is gone.
      if (!isNotFound(error)) throw error;
      this.holdings.release(id);
      return { id: "", props: {} };
    }
  }

  /**
   * Update in place: one PATCH carrying only the fields that differ from state, so a field changed
   * outside Pulumi, or under `ignoreChanges`, keeps its live value.
   */
  async update(id: string, olds: Props, news: Props): Promise<{ outs: IntegrationOutputs }> {
    this.fromState(id, olds, "update");
    const desired = toIntegrationInputs(news);
    const scope = scopeOf(desired, toIntegrationInputs(olds));
    const fields = diffIntegration(olds, news).changed; // replacing fields never reach update
    const sendgrid = await this.clientFor(desired.account, `update ${describeId(id)}`);
    const updated = await patchReconciled(sendgrid, id, desired, fields, scope);
    return { outs: toOutputs(fromWire(updated, desired), id, olds) };
  }

  /**
   * Delete. An id that a create of this same deployment returned belongs to that new resource now (a
   * renamed resource's replacement recognised it), so it is only dropped from this one's state.
   */
  async delete(id: string, props: Props): Promise<void> {
    assertReadableState(props, `delete ${describeId(id)}`);
    if (this.holdings.adoptedHere(id)) return;
    try {
      const known = toIntegrationInputs(props);
      await (await this.clientFor(known.account, `delete ${describeId(id)}`)).delete(id, scopeOf(known));
    } catch (error) {
      if (!isNotFound(error)) throw error; // already deleted (SendGrid's own 404) is deleted
    }
    this.holdings.release(id);
  }
}
