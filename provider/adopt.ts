/**
 * Adopting an integration that already exists (made in the SendGrid UI): `importId`.
 *
 * Pulumi's own import paths (`pulumi import`, the `import` option, `.get()`) need a provider the
 * engine can call before state exists, which a dynamic provider is not. So adoption happens in
 * create: read the integration (it must exist: nothing is created otherwise), then PATCH it to the
 * declared state. From then on it is managed like any other; `importId` is not looked at again.
 */
import { type IntegrationsClient, scopeOf } from "./client";
import { ApiError, isNotFound } from "./errors";
import type { IntegrationInputs } from "./types";
import { type IdentifiedWireIntegration, toWire } from "./wire";

export async function adoptIntegration(
  client: IntegrationsClient,
  importId: string,
  desired: IntegrationInputs,
): Promise<IdentifiedWireIntegration> {
  const scope = scopeOf(desired);
  try {
    await client.get(importId, scope);
  } catch (error) {
    if (!isNotFound(error)) throw error;
    const where = desired.onBehalfOf ? `subuser "${desired.onBehalfOf}"` : "the account";
    throw new ApiError(
      "create",
      `SendGrid Segment integration from importId ${importId}`,
      404,
      { errors: [{ message: `no integration ${importId} in ${where}; nothing was created` }] },
      [desired.properties.writeKey],
    );
  }
  return client.update(importId, toWire(desired), scope);
}
