/**
 * Creating an integration without ever leaving a duplicate or an untracked one behind.
 *
 * POST is not idempotent. When it fails in a way that may have been committed (a timeout, a reset
 * connection, a 5xx after the request was sent, a 2xx whose answer cannot be used), the account's
 * integrations are listed and the
 * one matching the desired state is recognised and adopted; only when none matches is the POST
 * tried again. When several match, nothing is created and the error names them all.
 *
 * A 403 on create is checked against SendGrid's limit of 10 integrations per account, so the user
 * is told which integrations fill it rather than a bare "Forbidden".
 */
import { type IntegrationsClient, scopeOf } from "./client";
import { AmbiguousCreateError, ApiError, clip, QuotaError, RequestError } from "./errors";
import { mayHaveBeenSent } from "./retry";
import { INTEGRATION_LIMIT, type IntegrationInputs, normalizeEvents } from "./types";
import { type IdentifiedWireIntegration, isMaskedWriteKey, toWire, type WireIntegration } from "./wire";

/** POSTs at most this many times, with a reconciliation between each. */
export const MAX_CREATE_ATTEMPTS = 3;

export async function createReconciled(
  client: IntegrationsClient,
  desired: IntegrationInputs,
): Promise<IdentifiedWireIntegration> {
  for (let attempt = 1; ; attempt++) {
    let failure: Error;
    try {
      return await client.create(toWire(desired), scopeOf(desired));
    } catch (error) {
      if (error instanceof ApiError && error.status === 403) throw await explainForbidden(client, desired, error);
      if (!mayHaveCommitted(error)) throw error;
      failure = error as Error;
    }
    const matches = await findMatches(client, desired, failure);
    if (matches.length === 1) return matches[0]!; // ours: the POST was committed, its answer lost
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

const secretsOf = (desired: IntegrationInputs) => [desired.properties.writeKey];
/** The failure's own message, kept short enough that what follows it always shows. */
const cause = (failure: Error) => clip(failure.message, 500);

/** Whether a live integration is the one described by `desired` (write key compared unless masked). */
export function sameIntegration(live: WireIntegration, desired: IntegrationInputs): boolean {
  const wire = toWire(desired);
  const events = normalizeEvents((live.filters?.email_events ?? []) as IntegrationInputs["filters"]["emailEvents"]);
  const liveKey = live.properties?.write_key;
  return (
    live.label === wire.label &&
    (live.destination ?? "Segment") === wire.destination &&
    live.properties?.destination_region === wire.properties.destination_region &&
    (isMaskedWriteKey(liveKey) || liveKey === wire.properties.write_key) &&
    JSON.stringify(events) === JSON.stringify(wire.filters.email_events)
  );
}

async function findMatches(client: IntegrationsClient, desired: IntegrationInputs, failure: Error) {
  try {
    return (await client.list(scopeOf(desired))).filter((live) => sameIntegration(live, desired));
  } catch (listFailure) {
    throw new AmbiguousCreateError(
      `${cause(failure)}. It may have been created, and listing the account's integrations to check also failed ` +
        `(${clip((listFailure as Error).message, 300)}). Look for ${JSON.stringify(clip(desired.label, 80))} in SendGrid before re-running`,
      [],
      secretsOf(desired),
    );
  }
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
