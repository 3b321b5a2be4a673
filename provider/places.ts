/**
 * Places, and what a listing of one proves.
 *
 * An integration lives in one place: an account (an API key at a host) and, within it, the parent
 * or one subuser (`on-behalf-of`). SendGrid lists a place's integrations in full (at most 10, the
 * same `Integration` objects a read by id returns), so one list answers every question about the
 * place: whether an id is there, what it holds now, and which integrations a lost create may have
 * made. One deployment lists each place once (`Listings`) and lists it again after writing there.
 *
 * "Gone" is decided only from a listing: an id absent from a successful list of the right place.
 * A 404 proves nothing (SendGrid answers unknown routes with the same JSON 404 as a missing
 * integration), and neither does a list that cannot be tied to the integration's account.
 */
import { describeId, type IntegrationsClient, type Listing, type Scope } from "./client";
import { type Control, UNBOUNDED } from "./control";
import { UnprovenError } from "./errors";
import type { IdentifiedWireIntegration } from "./wire";

/** Where an integration lives, within a provider's settings: a named account (or the default) and a subuser. */
export interface Place {
  account?: string | undefined;
  onBehalfOf?: string | undefined;
}

export const placeKey = (place: Place): string => JSON.stringify([place.account ?? null, place.onBehalfOf ?? null]);

/** "the account", `subuser "s"`, `account "a"`, `account "a", subuser "s"`. */
export function describePlace(place: Place): string {
  const subuser = place.onBehalfOf ? `subuser ${JSON.stringify(place.onBehalfOf)}` : "";
  if (!place.account) return subuser || "the account";
  return `account "${place.account}"${subuser ? `, ${subuser}` : ""}`;
}

/** A place's listing, and the one entry for `id` in it. */
export const findIn = (listing: Listing, id: string): IdentifiedWireIntegration | undefined =>
  listing.integrations.find((i) => i.integration_id === id);

/**
 * What ties a listing to the account that holds an integration, from its state: the SendGrid user
 * that owns it (`userId`), and whether the API key listing now is the one that last saw it (state's
 * `sendgridKeyDigest` against the key's digest: a key belongs to one account for good).
 */
export interface Holder {
  userId?: string | undefined;
  sameKey: boolean;
}

/**
 * Why `listing` does not prove that an integration is absent from its place, or undefined when it
 * does. A listed entry without an id may be that integration. The listing must come from the
 * holder's account: an entry owned by the holder's user shows it does, and entries that all belong
 * to another user show the key is another account's. A listing that shows no owner (empty, or
 * without user ids) is the holder's account's only when it was made with the key that last saw
 * the integration: another key (rotated, or another account's) with nothing to compare proves nothing.
 */
export function notProof(listing: Listing, holder: Holder): string | undefined {
  if (listing.unidentified > 0) {
    return `${listing.unidentified} listed integration${listing.unidentified === 1 ? " carries" : "s carry"} no id, so any of them may be it`;
  }
  const owners = new Set(listing.integrations.map((i) => i.user_id).filter((u): u is string => !!u));
  if (holder.userId && owners.has(holder.userId)) return undefined;
  if (holder.userId && owners.size > 0) {
    return (
      `the integrations listed belong to SendGrid user ${[...owners].join(", ")}, not to user ${holder.userId} that owns it: ` +
      "the API key may be another account's"
    );
  }
  if (holder.sameKey) return undefined;
  return (
    "the list shows no integration of the account that owns it, and the API key is not the one that last saw it " +
    "(a key changed since, or another account's), so the list may be another account's. If it was deleted in SendGrid, " +
    "`pulumi state delete <its URN>` drops it from state; if the key is another account's, set back the key that created it"
  );
}

/**
 * Throws, unless `listing` proves `id` absent (see `notProof`): an error that says nothing was
 * changed and that the integration may still exist.
 */
export function assertAbsent(listing: Listing, id: string, holder: Holder, doing: string): void {
  const why = notProof(listing, holder);
  if (why) {
    throw new UnprovenError(
      `Unable to ${doing} ${describeId(id)}: it is not in the list of its place, but that does not prove it is gone (${why}); nothing was changed`,
    );
  }
}

/**
 * One deployment's listings: the first read of a place lists it, and every later read of that place
 * takes the same answer, until this deployment writes to the place (`changed`). Concurrent reads of
 * one place share one request. A failed list is not kept.
 */
export class Listings {
  private readonly cache = new Map<string, Promise<Listing>>();

  /** The place's listing, from this deployment's last list of it when there is one. */
  get(
    client: IntegrationsClient,
    place: Place,
    control: Control = UNBOUNDED,
    // Stryker disable next-line ArrayDeclaration: every provider caller passes its keys; the default serves only tests' fake clients, which redact nothing
    writeKeys: string[] = [],
  ): Promise<Listing> {
    const cached = this.cache.get(placeKey(place));
    return cached ?? this.fresh(client, place, control, writeKeys);
  }

  /** Lists the place now (after a write, or to settle an ambiguous answer), and keeps the answer. */
  fresh(
    client: IntegrationsClient,
    place: Place,
    control: Control = UNBOUNDED,
    // Stryker disable next-line ArrayDeclaration: every provider caller passes its keys; the default serves only tests' fake clients, which redact nothing
    writeKeys: string[] = [],
  ): Promise<Listing> {
    const key = placeKey(place);
    // The write keys the caller knows are redacted from the list's errors, like any call's.
    const scope: Scope = { onBehalfOf: place.onBehalfOf, writeKeys };
    const listing = client.list(scope, control);
    this.cache.set(key, listing);
    listing.catch(() => {
      if (this.cache.get(key) === listing) this.cache.delete(key);
    });
    return listing;
  }

  /** This deployment wrote to the place (or may have): the next read lists it again. */
  changed(place: Place): void {
    this.cache.delete(placeKey(place));
  }
}
