/**
 * Listing an account's integrations, shared by the program functions (`dynamic/functions.ts`, the
 * plugin's `listSegmentIntegrations`) and the `import` and `audit` commands.
 */
import { IntegrationsClient } from "./client";
import type { Settings } from "./config";
import { ConfigurationError } from "./errors";
import { ON_BEHALF_OF_RULE } from "./schema";
import type { Destination, DestinationRegion, EmailEvent } from "./types";
import { HEADER_VALUE } from "./types";
import { fromApi, type IdentifiedWireIntegration } from "./wire";

/**
 * An integration as listed. The write key is left out: the list is for discovery, not secrets. The
 * spec requires no field of an answer: a missing label or destination takes the spec's default, a
 * missing event list is empty, and a missing region is left out. Entries without an id cannot be
 * addressed and are not listed.
 */
export interface SegmentIntegrationInfo {
  integrationId: string;
  userId: string;
  label: string;
  destination: Destination;
  filters: { emailEvents: EmailEvent[] };
  properties: { destinationRegion?: DestinationRegion };
  onBehalfOf?: string;
  account?: string;
}

/** The integrations of the account (or its subuser `onBehalfOf`) that `settings` name. */
export async function listIntegrations(settings: Settings, onBehalfOf?: string): Promise<SegmentIntegrationInfo[]> {
  return (await listLive(settings, onBehalfOf)).map(({ info }) => info);
}

/** The same with each live write key beside it, for comparisons that never print it (`audit`). */
export async function listLive(
  settings: Settings,
  onBehalfOf?: string,
): Promise<{ info: SegmentIntegrationInfo; writeKey: string | undefined }[]> {
  // equivalent ConditionalExpression: (for the undefined check) RegExp#test reads undefined as "undefined", which passes
  if (onBehalfOf !== undefined && !HEADER_VALUE.test(onBehalfOf)) {
    throw new ConfigurationError(`Invalid onBehalfOf: ${ON_BEHALF_OF_RULE}`);
  }
  // Every client of an account shares its concurrency limiter (client.ts), whoever lists.
  const client = await IntegrationsClient.create(settings);
  return (await client.list({ onBehalfOf })).integrations.map((wire) => ({
    info: toInfo(wire, onBehalfOf, settings.account),
    writeKey: wire.properties?.write_key,
  }));
}

/** The listed integration: the API's mapping (`fromApi`), without the write key. */
function toInfo(wire: IdentifiedWireIntegration, onBehalfOf?: string, account?: string): SegmentIntegrationInfo {
  const { properties, ...api } = fromApi(wire);
  return {
    ...api,
    properties: properties.destinationRegion ? { destinationRegion: properties.destinationRegion } : {},
    ...(onBehalfOf ? { onBehalfOf } : {}),
    ...(account ? { account } : {}),
  };
}
