/**
 * Which integrations the resources of this deployment hold, as far as this provider process has
 * seen. The engine starts one provider process per deployment and sends it every resource it acts
 * on, so the process can tell an integration another resource holds from one nobody holds:
 *
 * - an id seen in state (diff, read, update, delete) is held by the resource that carries it;
 * - an id a create of this deployment returned (made by its POST, or adopted: with `importId`, or
 *   recognised by reconciliation) is held by that new resource, and no other create may take it.
 *
 * Reconciliation never adopts a held id, adoption with `importId` refuses one, and creates of
 * identical integrations in one scope run one at a time, so twins cannot both recognise the same
 * POST. A delete of an id that a create of this same deployment adopted removes nothing in
 * SendGrid: that integration now belongs to the new resource (a renamed resource whose
 * replacement recognised it). What the process has not seen yet it cannot know: see docs/reliability.md, "What reconciliation
 * cannot guarantee".
 */
import { createHash } from "node:crypto";
import type { IntegrationInputs } from "./types";

type LimitFunction = import("p-limit", { with: { "resolution-mode": "import" }}).LimitFunction;

export class Holdings {
  /** Held ids, each with whether a create of this deployment adopted it. */
  private readonly held = new Map<string, boolean>();
  /** One queue per distinct integration created in this deployment: at most one per create. */
  private readonly queues = new Map<string, LimitFunction>();
  /** Ids this deployment deleted (a replacement's delete, a destroy). */
  private readonly deleted = new Set<string | undefined>();
  /** The places (places.ts `placeKey`) where this deployment deleted an integration. */
  private readonly deletedPlaces = new Set<string>();
  /** Ids a resource that stays keeps: its diff asked for no replacement. */
  private readonly kept = new Set<string>();

  /** A resource in state points to `id`. */
  seen(id: string): void {
    if (id && !this.held.has(id)) this.held.set(id, false);
  }

  /** Whether any resource of this deployment holds `id`. */
  isHeld(id: string): boolean {
    return this.held.has(id);
  }

  /** Record that a create returned `id`, made by its POST or adopted; false when another resource holds it. */
  claim(id: string, adopted: boolean): boolean {
    if (this.held.has(id)) return false;
    this.held.set(id, adopted);
    return true;
  }

  /** Whether a create of this deployment adopted `id` (so a resource in state no longer owns it). */
  adoptedHere(id: string): boolean {
    return this.held.get(id) === true;
  }

  /** The integration is gone (deleted, or found gone): nobody holds it any more. */
  release(id: string): void {
    this.held.delete(id);
  }

  /** This deployment deleted `id` in `place` (so a create that names it next is the replacement of its holder). */
  deletedNow(id: string, place: string): void {
    this.release(id);
    this.deleted.add(id);
    this.deletedPlaces.add(place);
  }

  /** Whether this deployment deleted `id` (never an absent one). */
  deletedHere(id: string | undefined): boolean {
    return this.deleted.has(id);
  }

  /** Whether this deployment deleted an integration in `place` (a `placeKey`). */
  deletedIn(place: string): boolean {
    return this.deletedPlaces.has(place);
  }

  /**
   * A resource's diff asked for no replacement: it stays, holding `id`, through this deployment (the
   * engine deletes a resource only when it is gone from the program or replaced, and neither is
   * diffed so: step_generator.go at pulumi/pulumi 1b59498). A delete of `id` in this deployment is
   * then another resource's whose state points at the same integration.
   */
  keep(id: string): void {
    this.kept.add(id);
  }

  /** Whether a resource that stays holds `id` (see `keep`). */
  isKept(id: string): boolean {
    return this.kept.has(id);
  }

  /**
   * Run `task` after every earlier task for an identical integration (same account, subuser,
   * label, events, region and write key) has settled; different integrations do not wait.
   */
  async exclusive<T>(desired: IntegrationInputs, task: () => Promise<T>): Promise<T> {
    const { default: pLimit } = await import("p-limit"); // ESM-only; the client loads it first
    const key = identityKey(desired);
    let queue = this.queues.get(key);
    if (!queue) {
      queue = pLimit(1);
      this.queues.set(key, queue);
    }
    return queue(task);
  }
}

/**
 * A digest of what makes two integrations indistinguishable in a listing (the write key included).
 * Checked inputs hold events as a set already (unique, sorted); an absent account or subuser is null.
 */
function identityKey(desired: IntegrationInputs): string {
  const identity = [
    desired.account,
    desired.onBehalfOf,
    desired.label,
    desired.destination,
    desired.filters.emailEvents,
    desired.properties.destinationRegion,
    desired.properties.writeKey,
  ];
  return createHash("sha256").update(JSON.stringify(identity)).digest("hex");
}
