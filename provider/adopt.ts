/**
 * Adopting an integration that already exists (made in the SendGrid UI): `importId`.
 *
 * The dynamic provider's code lives in its resources' state, so Pulumi's own import paths
 * (`pulumi import`, the `import` option, `.get()`) cannot reach it before state exists; adoption
 * happens in create instead: the integration must be listed in its place (nothing is created
 * otherwise), then it is PATCHed to the declared state. Only a resource's first create adopts (see
 * `IntegrationOperations.check` and its replacements), and never an integration another resource
 * of this deployment holds. The plugin also supports Pulumi's own import paths.
 */
import { type IntegrationsClient, scopeOf } from "./client";
import { UNBOUNDED } from "./control";
import { ApiError, ConflictError } from "./errors";
import type { Holdings } from "./holdings";
import { describePlace, findIn, notProof } from "./places";
import { patchReconciled, type Settling } from "./reconcile";
import type { IntegrationInputs } from "./types";
import type { IdentifiedWireIntegration } from "./wire";

/** Adoption brings every field to the declared state. */
const ALL_FIELDS = [
  "label",
  "destination",
  "filters.emailEvents",
  "properties.writeKey",
  "properties.destinationRegion",
];

/**
 * Adopt integration `importId` for `desired`. When the listing proves it absent, and `absentIsGone`
 * (the caller knows it may have been deleted on purpose: a replacement's delete), undefined: the
 * caller creates instead. Otherwise its absence fails, and nothing is created.
 */
export async function adoptIntegration(
  client: IntegrationsClient,
  importId: string,
  desired: IntegrationInputs,
  holdings: Holdings,
  settling: Settling,
  absentIsGone: boolean,
): Promise<IdentifiedWireIntegration | undefined> {
  const scope = scopeOf(desired);
  const place = { account: desired.account, onBehalfOf: desired.onBehalfOf };
  const subject = `SendGrid Segment integration from importId ${importId}`;
  if (!holdings.claim(importId, true)) {
    throw new ConflictError(
      `Unable to create ${subject}: another resource of this stack already manages integration ${importId}; ` +
        "two resources cannot manage one integration, nothing was changed",
    );
  }
  try {
    const listing = await settling.listings.fresh(client, place, settling.control ?? UNBOUNDED, [
      desired.properties.writeKey,
    ]);
    if (!findIn(listing, importId)) {
      // The question is this key's place: the listing is made with it, whatever account it is.
      const why = notProof(listing, { sameKey: true });
      if (!why && absentIsGone) {
        holdings.release(importId);
        return undefined;
      }
      const message = why
        ? `integration ${importId} is not listed in ${describePlace(place)}, and the listing cannot prove it does not exist (${why}); nothing was created`
        : `no integration ${importId} in ${describePlace(place)}; nothing was created. To create a new one, remove importId from the program`;
      throw new ApiError("create", subject, 404, { errors: [{ message }] }, [desired.properties.writeKey]);
    }
    return await patchReconciled(client, importId, desired, ALL_FIELDS, scope, settling);
  } catch (error) {
    holdings.release(importId); // not adopted: another resource may still take it
    throw error;
  }
}
