/**
 * Adopting an integration that already exists (made in the SendGrid UI): `importId`.
 *
 * Pulumi's own import paths (`pulumi import`, the `import` option, `.get()`) cannot reach a dynamic
 * provider before state exists, since its code lives in the resource's own state. So adoption
 * happens in create: read the integration (it must exist: nothing is created otherwise), then PATCH
 * it to the declared state. Only a resource's first create adopts (check drops `importId` once the
 * resource has state, so a replacement creates a new integration instead of taking the one it
 * replaces), and never an integration another resource of this deployment holds.
 */
import { type IntegrationsClient, scopeOf } from "./client";
import { ApiError, ConflictError, isNotFound } from "./errors";
import type { Holdings } from "./holdings";
import { patchReconciled } from "./reconcile";
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

export async function adoptIntegration(
  client: IntegrationsClient,
  importId: string,
  desired: IntegrationInputs,
  holdings: Holdings,
): Promise<IdentifiedWireIntegration> {
  const scope = scopeOf(desired);
  const subject = `SendGrid Segment integration from importId ${importId}`;
  if (!holdings.claim(importId, true)) {
    throw new ConflictError(
      `Unable to create ${subject}: another resource of this stack already manages integration ${importId}; ` +
        "two resources cannot manage one integration, nothing was changed",
    );
  }
  try {
    try {
      await client.get(importId, scope);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      const where = desired.onBehalfOf ? `subuser "${desired.onBehalfOf}"` : "the account";
      const message = `no integration ${importId} in ${where}; nothing was created`;
      throw new ApiError("create", subject, 404, { errors: [{ message }] }, [desired.properties.writeKey]);
    }
    return await patchReconciled(client, importId, desired, ALL_FIELDS, scope);
  } catch (error) {
    holdings.release(importId); // not adopted: another resource may still take it
    throw error;
  }
}
