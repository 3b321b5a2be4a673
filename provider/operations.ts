/**
 * The SegmentIntegration operations both front doors share: check, diff, create, read, update,
 * delete, over one deployment's settings, clients, holdings and listings. The dynamic provider
 * (`dynamic/`) and the native plugin (`native/`) only translate their protocol to these calls.
 *
 * Every operation that calls SendGrid takes a `Control` (control.ts): the engine's custom timeout
 * for it and the deployment's Cancel bound all of its requests, retries and settle waits.
 */
import { adoptIntegration } from "./adopt";
import { assertIntegrationId, describeId, IntegrationsClient, preloadHttp, scopeOf } from "./client";
import {
  accountExists,
  DEFAULT_NAMESPACE,
  howToConfigure,
  resolveSettings,
  type Settings,
  type StackConfig,
} from "./config";
import { type Control, UNBOUNDED } from "./control";
import { diffIntegration, type IntegrationDiff, keepUnchanged } from "./diff";
import { ConfigurationError, during } from "./errors";
import { Holdings } from "./holdings";
import { assertAbsent, describePlace, findIn, type Holder, Listings, type Place, placeKey } from "./places";
import { createReconciled, deleteReconciled, patchReconciled, type Settling } from "./reconcile";
import {
  type CheckFailure,
  checkInputs,
  ON_BEHALF_OF_RULE,
  PROVIDER_KEY,
  toIntegrationInputs,
  UNKNOWN,
} from "./schema";
import { assertReadableState } from "./state";
import { HEADER_VALUE, type IntegrationInputs, type IntegrationOutputs, STATE_VERSION } from "./types";
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

/**
 * Outputs for a resource in state: its id, the ids and importId state already had, the region and
 * key that saw it now, this state version.
 */
function toOutputs(live: IntegrationOutputs, id: string, state: Props, client: IntegrationsClient): IntegrationOutputs {
  return {
    ...live,
    integrationId: id,
    userId: live.userId || String(state.userId ?? ""),
    ...(typeof state.importId === "string" ? { importId: state.importId } : {}),
    ...sawIt(client),
  };
}

/** What outputs record of the client that saw the integration: its region, its key's digest, this state version. */
const sawIt = (client: IntegrationsClient) => ({
  sendgridRegion: client.settings.region,
  sendgridKeyDigest: client.keyDigest,
  stateVersion: STATE_VERSION,
});

/** What ties a listing made by `client` to the account that holds the integration in `props` (places.ts). */
const holderOf = (props: Props, client: IntegrationsClient): Holder => ({
  userId: stateUserId(props),
  sameKey: props.sendgridKeyDigest === client.keyDigest, // a digest is text: nothing else equals it
});

/** A resource's inputs from its outputs (what refresh and import give the engine as inputs). */
export function inputsOf(outs: IntegrationOutputs): Props {
  const {
    integrationId: _id,
    userId: _user,
    stateVersion: _version,
    sendgridRegion: _region,
    sendgridKeyDigest: _digest,
    ...inputs
  } = outs;
  return inputs;
}

const placeOf = (known: IntegrationInputs): Place => ({ account: known.account, onBehalfOf: known.onBehalfOf });
const keysOf = (...known: IntegrationInputs[]) =>
  known.map((k) => k.properties.writeKey).filter((key): key is string => typeof key === "string");

/** One deployment's operations: one provider process (or one configured native provider) each. */
export class IntegrationOperations {
  /** The integrations this deployment's resources hold. */
  private readonly holdings = new Holdings();
  /** What this deployment has listed of each place. */
  private readonly listings = new Listings();
  /** One client per account (undefined is the default one): its own key, host, timeouts and retries. */
  private readonly clients = new Map<string | undefined, Promise<IntegrationsClient>>();
  /**
   * The importIds that resources already in state declare, with the resource's URN where the
   * front door knows it (the plugin). The engine checks a resource again without its old inputs
   * before replacing it: the same importId arriving without olds then belongs to a resource that
   * exists, and must not adopt a second time. With a URN, another resource declaring the same
   * importId is told apart (its create then fails as a conflict); without one (the dynamic
   * provider), it is taken for the replacement and creates its own integration.
   */
  private readonly declaredInState = new Map<string, string | undefined>();
  /**
   * Every write key this deployment has seen (in inputs and state): redacted from every error, since
   * an answer about a place (a list, an echoing proxy's error) may quote any of its integrations' keys.
   */
  private readonly writeKeys = new Set<string>();

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

  /** The settings of an account, resolved now (no key needed): for preview-time checks. */
  settingsOf(account: string | undefined): Settings {
    return resolveSettings(this.stackConfig, process.env, account, {}, this.namespace);
  }

  /**
   * The client for an account. Settings are resolved on first use, so check and diff (preview) work
   * without any key, and nothing about an account is looked at until an operation needs it.
   */
  private api(account: string | undefined): Promise<IntegrationsClient> {
    let client = this.clients.get(account);
    if (!client) {
      client = Promise.resolve()
        .then(() => IntegrationsClient.create(this.settingsOf(account)))
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

  /**
   * The client for a resource in state, after checking that its account still points at the
   * SendGrid region the integration was recorded in: a provider moved to another region (config or
   * environment) must not read the old region's integrations as gone, nor act on another's.
   */
  private async clientOfState(known: IntegrationInputs, props: Props, doing: string): Promise<IntegrationsClient> {
    const client = await this.clientFor(known.account, doing);
    assertRegion(props, client.settings, known, doing);
    return client;
  }

  private settling(control: Control): Settling {
    return { listings: this.listings, control, writeKeys: [...this.writeKeys] };
  }

  /** Remembers the write keys of `known`; returns every key this deployment has seen. */
  private keys(...known: IntegrationInputs[]): string[] {
    for (const key of keysOf(...known)) this.writeKeys.add(key);
    return [...this.writeKeys];
  }

  /** A call's scope: the first integration's subuser, and every write key this deployment knows. */
  private scope(...known: IntegrationInputs[]) {
    return { ...scopeOf(...known), writeKeys: this.keys(...known) };
  }

  /** Marks an id as held by a resource of this deployment, after checking its state can be read. */
  private fromState(id: string, props: Props, doing: string): void {
    assertIntegrationId(id); // before anything: an id that could address something else is never used
    assertReadableState(props, `${doing} ${describeId(id)}`);
    this.keys(toIntegrationInputs(props));
    this.holdings.seen(id);
  }

  /**
   * check, plus whether a named account is configured: a typo fails at preview, not mid-deploy (an
   * account still unknown at preview is not looked up). `olds` are the resource's inputs in state:
   * once it has any, `importId` is dropped, so only a resource's first create ever adopts and a
   * replacement creates its own integration instead of taking the one it replaces; the engine's
   * re-check without olds before a replacement is recognised by its importId (`declaredInState`).
   */
  async check(olds: Props, news: Props, urn?: string): Promise<CheckResult> {
    const result = checkInputs(news);
    const key = (result.inputs.properties as { writeKey?: unknown } | undefined)?.writeKey;
    if (typeof key === "string" && key !== UNKNOWN) this.writeKeys.add(key);
    const importId = result.inputs.importId;
    if (typeof importId === "string") {
      if (hasState(olds)) this.declaredInState.set(importId, urn);
      if (this.declaredInState.has(importId)) {
        const holder = this.declaredInState.get(importId);
        if (holder === undefined || urn === undefined || holder === urn) delete result.inputs.importId;
      }
    }
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

  /**
   * Diff state (`olds`, outputs) against checked inputs. Makes no API call. Paths under
   * `ignoreChanges` (the engine's, when it sends them) are never a change.
   */
  async diff(
    id: string,
    olds: Props,
    news: Props,
    // Stryker disable next-line ArrayDeclaration: a default path that names no field (as a mutant's text) ignores nothing, as no path does
    ignoreChanges: readonly string[] = [],
    urn?: string,
  ): Promise<IntegrationDiff> {
    this.fromState(id, olds, "diff");
    // equivalent ConditionalExpression: a typeof always true only adds non-text ids, which check never looks up (it looks up a checked, string importId)
    if (typeof olds.importId === "string" && !this.declaredInState.has(olds.importId)) {
      this.declaredInState.set(olds.importId, urn);
    }
    // A provider now pointed at another region than the integration's fails the preview, saying so.
    const known = toIntegrationInputs(olds);
    let settings: Settings | undefined;
    try {
      settings = this.settingsOf(known.account);
    } catch {
      // bad settings (left undefined): the operation that needs them says what is wrong
    }
    if (settings) assertRegion(olds, settings, known, `diff ${describeId(id)}`);
    const diff = diffIntegration(olds, news, ignoreChanges);
    if (diff.replaces.length === 0) this.holdings.keep(id); // this resource stays, holding id
    return diff;
  }

  /**
   * What a create will give, at preview, without calling SendGrid: the checked inputs, and ids not
   * known yet (an adoption's id is: it is the importId). The region is the account's, when its
   * settings can be read.
   */
  previewCreate(inputs: Props): { id: string; outs: Props } {
    return {
      id: "",
      outs: {
        ...inputs,
        // An adoption's id is its importId (UNKNOWN itself while that is unknown).
        integrationId: typeof inputs.importId === "string" ? inputs.importId : UNKNOWN,
        userId: UNKNOWN,
        sendgridRegion: this.regionOrUnknown(inputs.account),
        sendgridKeyDigest: UNKNOWN,
        stateVersion: STATE_VERSION,
      },
    };
  }

  /** What an update will give, at preview, without calling SendGrid: state's ids, the new inputs. */
  previewUpdate(olds: Props, news: Props): { outs: Props } {
    return {
      outs: {
        ...olds,
        ...news,
        integrationId: olds.integrationId,
        userId: olds.userId,
        ...(olds.importId !== undefined ? { importId: olds.importId } : {}),
        sendgridRegion: olds.sendgridRegion ?? this.regionOrUnknown(news.account),
        stateVersion: STATE_VERSION,
      },
    };
  }

  private regionOrUnknown(account: unknown): string {
    if (account !== undefined && typeof account !== "string") return UNKNOWN;
    try {
      // An account still unknown fails here too: UNKNOWN is no account name.
      return this.settingsOf(account as string | undefined).region;
    } catch {
      return UNKNOWN; // the create itself will say what is wrong with the settings
    }
  }

  async create(inputs: Props, control: Control = UNBOUNDED): Promise<{ id: string; outs: IntegrationOutputs }> {
    const desired = toIntegrationInputs(inputs);
    let importId = inputs.importId as string | undefined; // check has made it a string or left it out
    if (this.holdings.deletedHere(importId)) {
      // A delete-before-replace (`--replace`, or a resource that depends on one) deleted it a moment
      // ago: this create is that resource's replacement, which the engine re-checks without olds.
      control.warn?.(
        `importId ${importId} names the integration this deployment has just deleted to replace this resource, ` +
          "so a new integration is created. importId only matters for a resource's first create: remove it from the program",
      );
      importId = undefined;
    }
    const sendgrid = await this.clientFor(
      desired.account,
      `create SendGrid Segment integration ${JSON.stringify(desired.label)}`,
    );
    const settling = this.settling(control);
    // A delete-before-replace in this place (`--replace` of a resource replaced before, whose
    // integration was never importId's) may have deleted what importId names, as the replacement
    // of this very resource: a proven absence then creates, and says so.
    const replacing = this.holdings.deletedIn(placeKey(placeOf(desired)));
    let live = importId
      ? await adoptIntegration(sendgrid, importId, desired, this.holdings, settling, replacing)
      : undefined;
    if (importId && !live) {
      control.warn?.(
        `importId ${importId} names no integration any more, and this deployment has just deleted one in ` +
          `${describePlace(placeOf(desired))} to replace a resource: taken for this resource's replacement, a new ` +
          "integration is created. importId only matters for a resource's first create: remove it from the program",
      );
      importId = undefined;
    }
    live ??= await createReconciled(sendgrid, desired, this.holdings, settling);
    // The client has validated the answer: it carries the integration's id.
    const outs: IntegrationOutputs = {
      ...fromWire(live, desired),
      ...(importId ? { importId } : {}),
      ...sawIt(sendgrid),
    };
    return { id: outs.integrationId, outs };
  }

  /**
   * Refresh, from the place's listing (one list per place serves every read of it in this
   * deployment). An empty id with empty props means the integration is gone: only when a listing
   * of the right place proves it absent. When the live integration differs from state, the
   * refreshed inputs are returned too (ReadResult `inputs`), so the next preview diffs the program
   * against what really exists. An import's read (`props` empty) reads the default place.
   */
  async read(given: string, props: Props, control: Control = UNBOUNDED): Promise<ReadResult> {
    // An import's read (no state) takes the place from the id: `[<account>:][<subuser>/]<id>`.
    const imported = hasState(props) ? undefined : parseImportId(given);
    if (imported?.onBehalfOf !== undefined && !HEADER_VALUE.test(imported.onBehalfOf)) {
      throw new ConfigurationError(
        `Unable to import ${describeId(imported.id)}: the subuser before its "/" is not ${ON_BEHALF_OF_RULE}`,
      );
    }
    const id = imported?.id ?? given;
    if (imported)
      props = {
        ...(imported.account ? { account: imported.account } : {}),
        ...(imported.onBehalfOf ? { onBehalfOf: imported.onBehalfOf } : {}),
      };
    this.fromState(id, props, "read");
    const known = toIntegrationInputs(props);
    const doing = `read ${describeId(id)}`;
    const sendgrid = await this.clientOfState(known, props, doing);
    const listing = await this.listings
      .get(sendgrid, placeOf(known), control, this.keys(known))
      .catch((error) =>
        Promise.reject(during(error, doing, `listing ${describePlace(placeOf(known))}`, [...this.writeKeys])),
      );
    const live = findIn(listing, id);
    if (!live) {
      // An import asks whether this key's place has it: the listing is made with that key.
      assertAbsent(listing, id, imported ? { sameKey: true } : holderOf(props, sendgrid), "read");
      this.holdings.release(id);
      return { id: "", props: {} };
    }
    const outs = toOutputs(fromWire(live, known), id, props, sendgrid);
    if (!diffIntegration(props, { ...outs }).changes) return { id, props: outs };
    return { id, props: outs, inputs: inputsOf(outs) };
  }

  /**
   * Update in place: one PATCH carrying the fields that differ from state (and not under
   * `ignoreChanges`), so a field changed outside Pulumi keeps its live value. The label always
   * travels, because the spec gives `IntegrationPatch.label` a default that SendGrid may apply to
   * a PATCH without one: the new label when it changes, else the live one (from the place's listing).
   */
  async update(
    id: string,
    olds: Props,
    news: Props,
    control: Control = UNBOUNDED,
    // Stryker disable next-line ArrayDeclaration: a default path that names no field (as a mutant's text) ignores nothing, as no path does
    ignoreChanges: readonly string[] = [],
  ): Promise<{ outs: IntegrationOutputs }> {
    this.fromState(id, olds, "update");
    const desired = toIntegrationInputs(news);
    const old = toIntegrationInputs(olds);
    const scope = this.scope(desired, old);
    const fields = diffIntegration(olds, news, ignoreChanges).changed; // replacing fields never reach update
    const doing = `update ${describeId(id)}`;
    const sendgrid = await this.clientOfState(desired, olds, doing);
    const settling = this.settling(control);
    let label = desired.label;
    if (!fields.includes("label")) {
      const listing = await this.listings
        .get(sendgrid, placeOf(desired), control, this.keys(desired, old))
        .catch((error) =>
          Promise.reject(during(error, doing, `listing ${describePlace(placeOf(desired))}`, [...this.writeKeys])),
        );
      const live = findIn(listing, id);
      if (!live) {
        assertAbsent(listing, id, holderOf(olds, sendgrid), "update");
        throw new ConfigurationError(
          `Unable to ${doing}: it no longer exists in ${describePlace(placeOf(desired))} (deleted outside Pulumi?). ` +
            "Run `pulumi refresh` to drop it from state; `pulumi up` then creates it again (remove importId from the program first, if it names this integration)",
        );
      }
      label = live.label ?? String(olds.label ?? desired.label);
    }
    const patched = { ...desired, label };
    const updated = await patchReconciled(
      sendgrid,
      id,
      patched,
      [...fields, "label"],
      scope,
      settling,
      holderOf(olds, sendgrid),
    );
    // Outputs change only where this update changed something: a field it did not change keeps what
    // state had, even where the answer shows another live value. The engine keeps the old inputs for
    // fields under ignoreChanges, and the dynamic provider is never told which they are: outputs that
    // took a live value there would differ from those inputs, and the next up would "correct" it. A
    // change made outside Pulumi shows at the next refresh, as any drift does.
    const outs = toOutputs(fromWire(updated, patched), id, olds, sendgrid);
    return { outs: keepUnchanged(outs, olds, fields) };
  }

  /**
   * Delete. An id that a create of this same deployment returned belongs to that new resource now (a
   * renamed resource's replacement recognised it), so it is only dropped from this one's state.
   * Deleted means a 2xx, or a listing of the place that proves it absent.
   */
  async delete(id: string, props: Props, control: Control = UNBOUNDED): Promise<void> {
    assertIntegrationId(id);
    assertReadableState(props, `delete ${describeId(id)}`);
    if (this.holdings.adoptedHere(id)) {
      control.warn?.(
        `Integration ${id} was kept, not deleted: a resource created in this deployment took it over with importId ` +
          "(a renamed resource, or `pulumi up --replace` of one that adopted it). To have --replace create a new " +
          "integration, remove importId from the program first",
      );
      return;
    }
    if (this.holdings.isKept(id)) {
      control.warn?.(
        `Integration ${id} was not deleted: a resource this deployment keeps (its diff asked for no replacement) ` +
          "points at it too: a resource renamed without an alias whose old and new names both ended up in state, or " +
          "the resumed replacement of an interrupted delete-before-replace, which deleted it then. Only this entry " +
          "is dropped from state",
      );
      return;
    }
    const known = toIntegrationInputs(props);
    const sendgrid = await this.clientOfState(known, props, `delete ${describeId(id)}`);
    await deleteReconciled(
      sendgrid,
      id,
      placeOf(known),
      this.scope(known),
      this.settling(control),
      holderOf(props, sendgrid),
    );
    this.holdings.deletedNow(id, placeKey(placeOf(known)));
  }
}

/**
 * An import id: `<id>`, `<subuser>/<id>` (the subuser is all before the last `/`), and either with
 * `<account>:` before it for a named account (`eu-brand:marketing/5a1234`, `eu-brand:5a1234`).
 * Pulumi's import paths send the id alone, so the id must say where the integration lives.
 */
export function parseImportId(importId: string): { id: string; onBehalfOf?: string; account?: string } {
  let rest = importId;
  let account: string | undefined;
  const named = /^([A-Za-z][A-Za-z0-9_-]{0,63}):(.+)$/.exec(rest);
  if (named) {
    account = named[1];
    rest = named[2]!;
  }
  const slash = rest.lastIndexOf("/"); // -1 without one: the id is all of it, and the subuser ""
  const id = rest.slice(slash + 1);
  const onBehalfOf = rest.slice(0, Math.max(slash, 0));
  return { id, ...(onBehalfOf ? { onBehalfOf } : {}), ...(account ? { account } : {}) };
}

/** State's userId; "" (an answer that showed none) is no owner either, as `notProof` reads it. */
const stateUserId = (props: Props): string | undefined => (typeof props.userId === "string" ? props.userId : undefined);

/**
 * Refuses to act on an integration recorded in another SendGrid region than the one its account's
 * settings now point at (state written before regions were recorded is not checked).
 */
function assertRegion(props: Props, settings: Settings, known: IntegrationInputs, doing: string): void {
  const recorded = props.sendgridRegion;
  if (typeof recorded !== "string" || recorded === settings.region) return;
  throw new ConfigurationError(
    `Unable to ${doing}: it lives in SendGrid region "${recorded}", but ${describePlace(placeOf(known))} now uses ` +
      `region "${settings.region}" (${settings.sources.region}; host ${new URL(settings.baseUrl).host}). ` +
      `Set the region back to "${recorded}" to manage it; to move integrations to another region, replace them ` +
      "(`pulumi up --replace`) while the old region is still configured, or delete them first. Nothing was changed",
  );
}
