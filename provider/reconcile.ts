/**
 * Writes whose answer does not say what happened, settled by reading the place (places.ts).
 *
 * POST is not idempotent. A create counts as not made only when the request provably never left
 * (retry.ts `NEVER_SENT`) or was refused (a 4xx, a redirect). Any other failure (no answer, a
 * reset, an answer no parser accepts, a 5xx from the server or any gateway, a 2xx whose body cannot
 * be used) may have created it: the place is listed, and the one integration that shows every
 * field as desired, that no other resource of the deployment holds, is recognised and adopted.
 * When none shows at once and the answer did not come from the server itself, it may still be
 * committing: one request timeout later the place is listed again. Only when the listing proves
 * nothing matches is the POST sent again. When several match, or some may match but hide a field
 * (a masked or missing write key), nothing is created and the error names them.
 *
 * PATCH and DELETE are idempotent and retried, but their last failure can still hide a commit (a
 * gateway's 524 after the origin did the work): they are settled the same way, by listing the
 * place, instead of being reported as plain failures.
 *
 * A 403 on create is checked against SendGrid's limit of 10 integrations per account, so the user
 * is told which integrations fill it rather than a bare "Forbidden".
 */
import { type IntegrationsClient, type Listing, type Scope, STOPPED_BEFORE_SENDING, scopeOf } from "./client";
import { type Control, sleep, UNBOUNDED } from "./control";
import { diffIntegration } from "./diff";
import {
  AmbiguousCreateError,
  ApiError,
  ConfigurationError,
  ConflictError,
  clip,
  ListRouteError,
  QuotaError,
  RequestError,
  ResponseError,
  SendGridError,
  UnprovenError,
} from "./errors";
import type { Holdings } from "./holdings";
import { describePlace, findIn, type Holder, type Listings, notProof, type Place } from "./places";
import { neverSent } from "./retry";
import { INTEGRATION_LIMIT, type IntegrationInputs } from "./types";
import { fromWire, type IdentifiedWireIntegration, keyVerdict, toWire, toWirePatch } from "./wire";

export { type KeyVerdict, keyVerdict } from "./wire";

/** POSTs at most this many times, with a reconciliation between each. */
export const MAX_CREATE_ATTEMPTS = 3;

/** Waits `ms` (a settle wait) unless the control stops first; replaceable in tests. */
export type Sleep = (ms: number, control: Control) => Promise<void>;

/** What a reconciling write needs besides the client: where, the deployment's listings, the control. */
export interface Settling {
  listings: Listings;
  control?: Control;
  wait?: Sleep;
  /** Every write key the deployment knows: redacted from the errors of the place's listings. */
  writeKeys?: string[];
}

const placeOf = (desired: IntegrationInputs): Place => ({ account: desired.account, onBehalfOf: desired.onBehalfOf });

/**
 * Create `desired`, or recognise the integration an earlier attempt made. Creates of identical
 * integrations run one at a time in this process, and an integration another resource holds is
 * never recognised as this one's (see `Holdings`). The returned id is claimed for this resource:
 * an id another resource already holds is a conflict, never shared.
 */
export function createReconciled(
  client: IntegrationsClient,
  desired: IntegrationInputs,
  holdings: Holdings,
  settling: Settling,
): Promise<IdentifiedWireIntegration> {
  return holdings.exclusive(desired, async () => {
    const { integration, adopted } = await attemptCreates(client, desired, holdings, settling);
    settling.listings.changed(placeOf(desired));
    const id = integration.integration_id;
    if (!holdings.claim(id, adopted)) {
      throw new ConflictError(
        `Unable to create SendGrid Segment integration ${JSON.stringify(clip(desired.label, 80))}: SendGrid answered ` +
          `with integration ${id}, which another resource of this stack already manages; it was not taken over. ` +
          "Check both in SendGrid (`pulumi-sendgrid-segment audit`) before re-running",
      );
    }
    return integration;
  });
}

async function attemptCreates(
  client: IntegrationsClient,
  desired: IntegrationInputs,
  holdings: Holdings,
  settling: Settling,
): Promise<{ integration: IdentifiedWireIntegration; adopted: boolean }> {
  const control = settling.control ?? UNBOUNDED;
  for (let attempt = 1; ; attempt++) {
    let failure: Error;
    try {
      return { integration: await client.create(toWire(desired), scopeOf(desired), control), adopted: false };
    } catch (error) {
      if (error instanceof ApiError && error.status === 403) {
        // Stryker disable next-line LogicalOperator,ArrayDeclaration: these keys only redact the 403 check's list errors, which explainForbidden discards (it returns the 403)
        throw await explainForbidden(client, desired, error, control, settling.writeKeys ?? []);
      }
      if (!mayHaveCommitted(error)) throw error;
      failure = error as Error;
    }
    settling.listings.changed(placeOf(desired));
    let found = await findMatches(client, desired, holdings, failure, settling);
    const made = answeredSuccess(failure);
    if (found.proven.length === 0 && found.possible.length === 0 && (made || mayStillCommit(failure))) {
      // The answer did not come from the server: it may still be working on the POST. Or the server
      // said it created it, and the list does not show it yet. Give it one request timeout, and
      // look again, before anything is sent a second time.
      await settleWait(client, failure, desired, settling);
      found = await findMatches(client, desired, holdings, failure, settling);
    }
    if (found.proven.length === 1 && found.possible.length === 0)
      return { integration: found.proven[0]!, adopted: true };
    const candidates = [...found.proven, ...found.possible];
    if (candidates.length > 0) throw ambiguous(failure, desired, found);
    if (made) {
      // A 2xx is the server's word that it was created: never POSTed again.
      throw new AmbiguousCreateError(
        `${cause(failure)}. SendGrid answered that it created it, yet listing ${describePlace(placeOf(desired))} ` +
          `does not show it, also after waiting: nothing was sent again. Look for ${JSON.stringify(clip(desired.label, 80))} ` +
          "in SendGrid and adopt it (importId, or `pulumi import` with the plugin) before re-running",
        [],
        secretsOf(desired),
      );
    }
    if (attempt >= MAX_CREATE_ATTEMPTS) {
      throw new AmbiguousCreateError(
        `${cause(failure)}. Checked after ${attempt} attempts: no such integration exists, nothing to clean up`,
        [],
        secretsOf(desired),
      );
    }
  }
}

/** Several integrations match, or some may match but hide what would tell: none is taken. */
function ambiguous(failure: Error, desired: IntegrationInputs, found: Matches): AmbiguousCreateError {
  const ids = [...found.proven, ...found.possible].map((m) => m.integration_id);
  const hidden =
    found.possible.length > 0
      ? ` ${found.possible.length} of them ${found.possible.length === 1 ? "does" : "do"} not show every field ` +
        "(the API hides or leaves out the write key or another field), so none can be proven to be this one."
      : "";
  return new AmbiguousCreateError(
    `${cause(failure)}. It may have been created: ${ids.length} live integration${ids.length === 1 ? "" : "s"} ` +
      `may be it (${ids.join(", ")}).${hidden} None was recorded in state: check them in SendGrid, ` +
      "adopt the right one (importId, or `pulumi import` with the plugin) and delete any extra, then re-run",
    ids,
    secretsOf(desired),
  );
}

/** The settle wait, or, when the operation is stopped during it, an error saying what may exist. */
async function settleWait(client: IntegrationsClient, failure: Error, desired: IntegrationInputs, settling: Settling) {
  try {
    await (settling.wait ?? sleep)(client.settleMs, settling.control ?? UNBOUNDED);
  } catch (stopped) {
    throw new AmbiguousCreateError(
      `${cause(failure)}. It may have been created, and waiting to check was stopped (${clip((stopped as Error).message, 200)}). ` +
        `Look for ${JSON.stringify(clip(desired.label, 80))} in SendGrid before re-running`,
      [],
      secretsOf(desired),
    );
  }
}

/**
 * A failure after which the write may have happened: anything but a request that provably never
 * left (a network failure before sending, or one the operation's control stopped before it was
 * sent) or an answer that refused it (a 3xx or 4xx). An error of unknown kind may have happened too.
 */
export function mayHaveCommitted(error: unknown): boolean {
  if (error instanceof RequestError) return !(error.causeCode === STOPPED_BEFORE_SENDING || neverSent(error.causeCode));
  // ApiError and ResponseError carry the answer's status: a 2xx that could not be used, or a 5xx,
  // may have followed the commit; a redirect did nothing and a 4xx refused.
  if (error instanceof ApiError || error instanceof ResponseError) return error.status < 300 || error.status >= 500;
  // Our own refusals (configuration, an invalid id, ...) come before any request.
  return !(error instanceof SendGridError);
}

/**
 * A failure after which the server may still be committing: no answer came from it (a timeout, a
 * broken connection, an answer no parser accepts) or something in between answered for it (a
 * gateway's status, or a 5xx that is not in SendGrid's error shape). SendGrid's own answer, or a
 * 2xx, came after it had finished with the request.
 */
export function mayStillCommit(error: unknown): boolean {
  if (error instanceof RequestError) return true; // mayHaveCommitted let through only sent ones
  // Statuses only something in front of the server answers: it gave up waiting, the server may not have.
  return (
    error instanceof ApiError &&
    error.status >= 500 &&
    (!error.fromSendGrid || [502, 504, 520, 521, 522, 523, 524].includes(error.status))
  );
}

/** A 2xx that could not be used: the server created it, whatever the answer's body. */
function answeredSuccess(error: unknown): boolean {
  // equivalent ConditionalExpression: only ApiError and ResponseError carry a status (any other failure's is undefined, every comparison false), and each carries a final answer's status, never below 200
  // equivalent EqualityOperator: a 300 never gets here: mayHaveCommitted refuses every 3xx before (a redirect did nothing)
  // equivalent LogicalOperator: ((A or B) or status >= 200) and status < 300 differs only for an error that carries a status but is neither class, and none does
  return (error instanceof ResponseError || error instanceof ApiError) && error.status >= 200 && error.status < 300;
}

/** SendGrid's own 404 for an id: not proof of anything (unknown routes answer the same). */
function isNotFoundAnswer(error: unknown): boolean {
  return error instanceof ApiError && error.status === 404;
}

/**
 * PATCH `fields` of integration `id` to `desired`. When the answer does not settle whether the
 * PATCH happened (a 2xx that cannot be used, a failure that may have committed) or says the id is
 * not found, the place is listed: the live integration with the patched fields as desired is the
 * answer; one still different leaves the PATCH's own error; one that is not listed is gone (when
 * the listing proves it), and a 404 for a listed integration is a wrong base URL.
 */
export async function patchReconciled(
  client: IntegrationsClient,
  id: string,
  desired: IntegrationInputs,
  fields: readonly string[],
  scope: Scope,
  settling: Settling,
  holder: Holder = { sameKey: true },
): Promise<IdentifiedWireIntegration> {
  const control = settling.control ?? UNBOUNDED;
  const place = placeOf(desired);
  try {
    return await client.update(id, toWirePatch(desired, fields), scope, control);
  } catch (error) {
    if (!mayHaveCommitted(error) && !isNotFoundAnswer(error)) throw error;
    settling.listings.changed(place);
    const live = await listedAfter("update", client, id, place, error as Error, settling, scope, holder);
    if (isNotFoundAnswer(error)) throw routeMismatch("update", id, client, error as ApiError);
    if (differences(live, desired).some((field) => fields.includes(field))) throw error;
    return live;
  } finally {
    settling.listings.changed(place);
  }
}

/**
 * DELETE `id`. A 2xx deleted it. When the answer does not settle it (a 404, which unknown routes
 * answer too; a failure that may have committed), the place is listed: absent from a listing that
 * proves it, the integration is gone (deleted now, or before); still listed, the error stands, or a
 * 404 means the base URL is wrong. A delete the server may still be committing gets one settle wait.
 */
export async function deleteReconciled(
  client: IntegrationsClient,
  id: string,
  place: Place,
  scope: Scope,
  settling: Settling,
  holder: Holder,
): Promise<void> {
  const control = settling.control ?? UNBOUNDED;
  try {
    await client.delete(id, scope, control);
    return;
  } catch (error) {
    if (!mayHaveCommitted(error) && !isNotFoundAnswer(error)) throw error;
    settling.listings.changed(place);
    let listing = await listPlace("delete", client, id, place, error as Error, settling, scope);
    if (findIn(listing, id) && mayStillCommit(error)) {
      await (settling.wait ?? sleep)(client.settleMs, control).catch(() => {
        throw new UnprovenError(
          `${cause(error as Error)}. It may have been deleted, and waiting to check was stopped; state still holds it: re-run`,
          scope.writeKeys,
        );
      });
      listing = await listPlace("delete", client, id, place, error as Error, settling, scope);
    }
    if (findIn(listing, id)) {
      if (isNotFoundAnswer(error)) throw routeMismatch("delete", id, client, error as ApiError);
      throw error;
    }
    const why = notProof(listing, holder);
    if (why) {
      throw new UnprovenError(
        `${cause(error as Error)}. It may have been deleted, but listing ${describePlace(place)} does not prove it (${why}); state still holds it`,
        scope.writeKeys,
      );
    }
  } finally {
    settling.listings.changed(place);
  }
}

/** The place's listing after an unsettled write, or an error saying the write may have happened. */
async function listPlace(
  doing: "update" | "delete",
  client: IntegrationsClient,
  id: string,
  place: Place,
  failure: Error,
  settling: Settling,
  scope: Scope,
): Promise<Listing> {
  try {
    // known gap ArrayDeclaration: dropping these keys shows only in a list error quoting a write key, which no list error does today
    return await settling.listings.fresh(client, place, settling.control ?? UNBOUNDED, [
      ...keysOf(scope),
      // Stryker disable next-line ArrayDeclaration: redacting one more text changes no message without it
      ...(settling.writeKeys ?? []),
    ]);
  } catch (listFailure) {
    // A delete that happened leaves state holding a gone integration, which the next run's update
    // could not touch: a refresh drops it first (and keeps it if it is still there).
    const next =
      doing === "delete" ? "Run `pulumi refresh` (it drops the integration if it was deleted), then re-run" : "re-run";
    if (listFailure instanceof ListRouteError) {
      // The list route itself is wrong: a setting to fix; the write before it may still have happened.
      throw new ConfigurationError(
        `${cause(failure)}. It may have been ${doing}d, and listing ${describePlace(place)} to check found no list ` +
          `route (HTTP 404): ${listFailure.fix}. State keeps integration ${id} as it was: once it is fixed, ${next}`,
        scope.writeKeys,
      );
    }
    throw new UnprovenError(
      `${cause(failure)}. It may have been ${doing}d, and listing ${describePlace(place)} to check also failed ` +
        `(${clip((listFailure as Error).message, 300)}); state keeps integration ${id} as it was: ${next}`,
      scope.writeKeys,
    );
  }
}

/** The live integration `id` after an unsettled update, or why it cannot be had. */
async function listedAfter(
  doing: "update",
  client: IntegrationsClient,
  id: string,
  place: Place,
  failure: Error,
  settling: Settling,
  scope: Scope,
  holder: Holder,
): Promise<IdentifiedWireIntegration> {
  const listing = await listPlace(doing, client, id, place, failure, settling, scope);
  const live = findIn(listing, id);
  if (live) return live;
  const why = notProof(listing, holder);
  if (why) {
    throw new UnprovenError(
      `${cause(failure)}. Integration ${id} is not listed in ${describePlace(place)}, but that does not prove it is gone (${why})`,
      scope.writeKeys,
    );
  }
  throw new UnprovenError(
    `Unable to ${doing} SendGrid Segment integration ${id}: it no longer exists in ${describePlace(place)} ` +
      "(deleted outside Pulumi?). Run `pulumi refresh` to drop it from state; `pulumi up` then creates it again " +
      "(remove importId from the program first, if it names this integration)",
    scope.writeKeys,
  );
}

/** A 404 for an integration the list shows: the requests go somewhere the API is not (or not all of it). */
function routeMismatch(doing: string, id: string, client: IntegrationsClient, error: ApiError): ConfigurationError {
  return new ConfigurationError(
    `Unable to ${doing} SendGrid Segment integration ${id}: HTTP 404, yet the list at ${client.advice.baseUrl} shows it: ` +
      `the requests do not reach the Integrations API as they should. Check ${client.advice.apiBaseUrl}; nothing was changed` +
      (error.fromSendGrid ? "" : " (the 404 was not in SendGrid's error shape)"),
  );
}

function keysOf(scope: Scope): string[] {
  // The filter keeps strings only for the type: redaction skips a missing key, and the scope's keys are redacted again by the error listPlace throws.
  // Stryker disable next-line ArrowFunction,MethodExpression,ConditionalExpression,EqualityOperator,StringLiteral,ArrayDeclaration: keys kept or dropped here change no message (see above); one more text to redact changes none either
  return (scope.writeKeys ?? []).filter((k): k is string => typeof k === "string");
}
function secretsOf(desired: IntegrationInputs) {
  return [desired.properties.writeKey];
}
/** The failure's own message, kept short enough that what follows it always shows. */
function cause(failure: Error): string {
  return clip(failure.message, 500);
}

/**
 * The fields (as `diff.ts` names them) on which a live integration, as far as it shows itself,
 * differs from `desired`; and those it does not show at all. The one notion of "the same
 * integration", diff's, on the live integration read as outputs with nothing filled in for it:
 * a label, destination, event list or region the answer leaves out is unseen, not defaulted, and
 * a masked or missing write key is unseen (see `keyVerdict`).
 */
export function compareLive(
  live: IdentifiedWireIntegration,
  desired: IntegrationInputs,
): { differ: string[]; unseen: string[] } {
  const unseen: string[] = [];
  if (live.label === undefined) unseen.push("label");
  if (live.destination === undefined) unseen.push("destination");
  if (live.filters?.email_events === undefined) unseen.push("filters.emailEvents");
  if (live.properties?.destination_region === undefined) unseen.push("properties.destinationRegion");
  const key = keyVerdict(live.properties?.write_key, desired.properties.writeKey);
  if (key === "unseen") unseen.push("properties.writeKey");
  const outputs = fromWire(live, desired) as unknown as Record<string, unknown>;
  const changed = diffIntegration(outputs, desired as unknown as Record<string, unknown>).changed;
  const differ = changed.filter((field) => !unseen.includes(field));
  // equivalent ConditionalExpression: a key shown as another stays as shown in fromWire's outputs, so diff already names properties.writeKey (the Set drops the repeat)
  // equivalent StringLiteral: as above, for the "different" test
  if (key === "different") differ.push("properties.writeKey");
  return { differ: [...new Set(differ)], unseen };
}

/** The fields on which a live integration differs from `desired` or does not show them. */
export function differences(live: IdentifiedWireIntegration, desired: IntegrationInputs): string[] {
  const { differ, unseen } = compareLive(live, desired);
  return [...differ, ...unseen];
}

/** Whether a live integration is proven to be the one described by `desired`: every field shown, and equal. */
export function sameIntegration(live: IdentifiedWireIntegration, desired: IntegrationInputs): boolean {
  return differences(live, desired).length === 0;
}

interface Matches {
  /** Unheld integrations that show every field as desired. */
  proven: IdentifiedWireIntegration[];
  /** Unheld integrations whose shown fields are as desired, but which hide some: they may be it. */
  possible: IdentifiedWireIntegration[];
}

/**
 * The live integrations of the place that are (or may be) `desired` and that no resource of this
 * deployment holds. A listing that cannot show every id makes every create ambiguous.
 */
async function findMatches(
  client: IntegrationsClient,
  desired: IntegrationInputs,
  holdings: Holdings,
  failure: Error,
  settling: Settling,
): Promise<Matches> {
  let listing: Listing;
  try {
    listing = await settling.listings.fresh(client, placeOf(desired), settling.control ?? UNBOUNDED, [
      ...secretsOf(desired),
      // Stryker disable next-line ArrayDeclaration: redacting one more text changes no message without it
      ...(settling.writeKeys ?? []),
    ]);
  } catch (listFailure) {
    throw new AmbiguousCreateError(
      `${cause(failure)}. It may have been created, and listing the account's integrations to check also failed ` +
        `(${clip((listFailure as Error).message, 300)}). Look for ${JSON.stringify(clip(desired.label, 80))} in SendGrid before re-running`,
      [],
      secretsOf(desired),
    );
  }
  if (listing.unidentified > 0) {
    throw new AmbiguousCreateError(
      `${cause(failure)}. It may have been created, and the listing cannot tell: ${listing.unidentified} listed ` +
        `integration${listing.unidentified === 1 ? " carries" : "s carry"} no id. Look for ${JSON.stringify(clip(desired.label, 80))} in SendGrid before re-running`,
      [],
      secretsOf(desired),
    );
  }
  const proven: IdentifiedWireIntegration[] = [];
  const possible: IdentifiedWireIntegration[] = [];
  for (const live of listing.integrations) {
    if (holdings.isHeld(live.integration_id)) continue;
    const { differ, unseen } = compareLive(live, desired);
    if (differ.length > 0) continue;
    (unseen.length === 0 ? proven : possible).push(live);
  }
  return { proven, possible };
}

/** A 403 at create: name the limit and the integrations filling it, when that is the reason. */
async function explainForbidden(
  client: IntegrationsClient,
  desired: IntegrationInputs,
  forbidden: ApiError,
  control: Control,
  writeKeys: string[],
) {
  let listing: Listing;
  try {
    listing = await client.list({ ...scopeOf(desired), writeKeys }, control);
  } catch {
    return forbidden; // cannot tell; the original message already names both causes
  }
  const existing = listing.integrations;
  const count = existing.length + listing.unidentified;
  if (count < INTEGRATION_LIMIT) return forbidden;
  const account = desired.onBehalfOf ? `subuser "${desired.onBehalfOf}"` : "the account";
  const listed = existing
    .slice(0, INTEGRATION_LIMIT)
    .map((i) => `${JSON.stringify(clip(i.label ?? "", 40))} (${i.integration_id})`)
    .join(", ");
  return new QuotaError(
    `Unable to create SendGrid Segment integration ${JSON.stringify(clip(desired.label, 80))}: ${account} already ` +
      `has ${count} Segment integrations, SendGrid's limit is ${INTEGRATION_LIMIT}: ${listed}. ` +
      "Delete one you no longer need, or manage an existing one from this stack (importId) instead of creating another",
    secretsOf(desired),
  );
}
