/**
 * Creating an integration without ever leaving a duplicate or an untracked one behind.
 *
 * POST is not idempotent. When it fails in a way that may have been committed (a timeout, a reset
 * connection, a 5xx after the request was sent, a 2xx whose answer cannot be used), the account's
 * integrations are listed and the one matching the desired state, that no other resource holds, is
 * recognised and adopted. When no answer came at all, the server may still be committing: none
 * matching at once, it is given one request timeout to finish and the list is read again. Only
 * when none matches then is the POST tried again. When several match, nothing is created and the
 * error names them all.
 *
 * A 403 on create is checked against SendGrid's limit of 10 integrations per account, so the user
 * is told which integrations fill it rather than a bare "Forbidden".
 */
import { type IntegrationsClient, type Scope, scopeOf } from "./client";
import { diffIntegration } from "./diff";
import { AmbiguousCreateError, ApiError, clip, QuotaError, RequestError } from "./errors";
import type { Holdings } from "./holdings";
import { mayHaveBeenSent } from "./retry";
import { INTEGRATION_LIMIT, type IntegrationInputs } from "./types";
import { fromWire, type IdentifiedWireIntegration, toWire, toWirePatch, type WireIntegration } from "./wire";

/** POSTs at most this many times, with a reconciliation between each. */
export const MAX_CREATE_ATTEMPTS = 3;

/** Waits `ms` (reconciliation's settle time); replaceable in tests. */
export type Sleep = (ms: number) => Promise<void>;
const sleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Create `desired`, or recognise the integration an earlier attempt made. Creates of identical
 * integrations run one at a time in this process, and an integration another resource holds is
 * never recognised as this one's (see `Holdings`). The returned id is claimed for this resource.
 */
export function createReconciled(
  client: IntegrationsClient,
  desired: IntegrationInputs,
  holdings: Holdings,
  wait: Sleep = sleep,
): Promise<IdentifiedWireIntegration> {
  return holdings.exclusive(desired, async () => {
    const { integration, adopted } = await attemptCreates(client, desired, holdings, wait);
    holdings.claim(integration.integration_id, adopted);
    return integration;
  });
}

async function attemptCreates(
  client: IntegrationsClient,
  desired: IntegrationInputs,
  holdings: Holdings,
  wait: Sleep,
): Promise<{ integration: IdentifiedWireIntegration; adopted: boolean }> {
  for (let attempt = 1; ; attempt++) {
    let failure: Error;
    try {
      return { integration: await client.create(toWire(desired), scopeOf(desired)), adopted: false };
    } catch (error) {
      if (error instanceof ApiError && error.status === 403) throw await explainForbidden(client, desired, error);
      if (!mayHaveCommitted(error)) throw error;
      failure = error as Error;
    }
    let matches = await findMatches(client, desired, holdings, failure);
    if (matches.length === 0 && mayStillCommit(failure)) {
      // No answer came: the server may still be working on the POST. Give it one request timeout
      // to finish, and look again, before anything is sent a second time.
      await wait(client.settleMs);
      matches = await findMatches(client, desired, holdings, failure);
    }
    if (matches.length === 1) return { integration: matches[0]!, adopted: true }; // ours: committed, answer lost
    if (matches.length > 0) {
      const ids = matches.map((m) => m.integration_id);
      throw new AmbiguousCreateError(
        `${cause(failure)}. It may have been created: ${matches.length} live integrations match it (${ids.join(", ")}). ` +
          "None was recorded in state; delete the extra ones in SendGrid, or adopt one with importId and re-run",
        ids,
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

/**
 * A failure after which the integration may exist: no answer after sending, a 5xx, or an answer
 * that could not be used although it was not an error (a 2xx, or a status never seen). A
 * redirect is not a success: nothing was done.
 */
export function mayHaveCommitted(error: unknown): boolean {
  if (error instanceof RequestError) return mayHaveBeenSent(error.causeCode);
  // ApiError and ResponseError carry the answer's status: a 2xx that could not be used, or a 5xx,
  // may have followed the commit; a redirect did nothing and a 4xx refused. Other errors have none.
  const status = Number((error as { status?: number }).status);
  return status < 300 || status >= 500;
}

/**
 * A failure after which the server may still be committing: no answer came from it (a timeout, a
 * broken connection) or a gateway gave up waiting for it (502, 504). Any other answer came after
 * the server had finished with the request.
 */
export function mayStillCommit(error: unknown): boolean {
  if (error instanceof RequestError) return true; // mayHaveCommitted let through only sent ones
  const status = (error as { status?: number }).status;
  return status === 502 || status === 504;
}

/**
 * PATCH `fields` of integration `id` to `desired`. A 2xx whose answer cannot be used is read back
 * with one GET (PATCH is idempotent): when the live integration has the patched fields as desired,
 * that is the answer; otherwise the PATCH's own error stands. Used by update and by adoption.
 */
export async function patchReconciled(
  client: IntegrationsClient,
  id: string,
  desired: IntegrationInputs,
  fields: readonly string[],
  scope: Scope,
): Promise<IdentifiedWireIntegration> {
  try {
    return await client.update(id, toWirePatch(desired, fields), scope);
  } catch (error) {
    if (!isUnusableSuccess(error)) throw error;
    const live = await client.get(id, scope);
    if (differences(live, desired).some((field) => fields.includes(field))) throw error;
    return live;
  }
}

/**
 * A 2xx whose body cannot be used: only a ResponseError has a status below 300 (its others are a
 * redirect or an oversized error answer; an ApiError's is 400 or more; the rest carry none).
 */
const isUnusableSuccess = (error: unknown) => Number((error as { status?: number }).status) < 300;

const secretsOf = (desired: IntegrationInputs) => [desired.properties.writeKey];
/** The failure's own message, kept short enough that what follows it always shows. */
const cause = (failure: Error) => clip(failure.message, 500);

/**
 * The fields (as `diff.ts` names them) on which a live integration differs from `desired`: the one
 * notion of "the same integration", diff's, applied to the live integration read as outputs. A
 * masked or missing live write key is taken as the desired one (see `fromWire`). One deliberate
 * difference from refresh: a live integration that does not show its region is not taken to have
 * the desired one, so reconciliation never recognises an integration it cannot fully see.
 */
export function differences(live: IdentifiedWireIntegration, desired: IntegrationInputs): string[] {
  const unseenRegion = { ...desired, properties: { ...desired.properties, destinationRegion: undefined as never } };
  const outputs = fromWire(live, unseenRegion);
  return diffIntegration(outputs as unknown as Record<string, unknown>, desired as unknown as Record<string, unknown>)
    .changed;
}

/** Whether a live integration is the one described by `desired`. */
export const sameIntegration = (live: IdentifiedWireIntegration, desired: IntegrationInputs): boolean =>
  differences(live, desired).length === 0;

/** The live integrations that are `desired` and that no resource of this deployment holds. */
async function findMatches(client: IntegrationsClient, desired: IntegrationInputs, holdings: Holdings, failure: Error) {
  let live: IdentifiedWireIntegration[];
  try {
    live = await client.list(scopeOf(desired));
  } catch (listFailure) {
    throw new AmbiguousCreateError(
      `${cause(failure)}. It may have been created, and listing the account's integrations to check also failed ` +
        `(${clip((listFailure as Error).message, 300)}). Look for ${JSON.stringify(clip(desired.label, 80))} in SendGrid before re-running`,
      [],
      secretsOf(desired),
    );
  }
  return live.filter((i) => !holdings.isHeld(i.integration_id) && sameIntegration(i, desired));
}

/** A 403 at create: name the limit and the integrations filling it, when that is the reason. */
async function explainForbidden(client: IntegrationsClient, desired: IntegrationInputs, forbidden: ApiError) {
  let existing: WireIntegration[];
  try {
    existing = await client.list(scopeOf(desired));
  } catch {
    return forbidden; // cannot tell; the original message already names both causes
  }
  if (existing.length < INTEGRATION_LIMIT) return forbidden;
  const account = desired.onBehalfOf ? `subuser "${desired.onBehalfOf}"` : "the account";
  const listed = existing
    .slice(0, INTEGRATION_LIMIT)
    .map((i) => `${JSON.stringify(clip(i.label ?? "", 40))} (${i.integration_id})`)
    .join(", ");
  return new QuotaError(
    `Unable to create SendGrid Segment integration ${JSON.stringify(clip(desired.label, 80))}: ${account} already ` +
      `has ${existing.length} Segment integrations, SendGrid's limit is ${INTEGRATION_LIMIT}: ${listed}. ` +
      "Delete one you no longer need, or manage an existing one from this stack (importId) instead of creating another",
    secretsOf(desired),
  );
}
