/**
 * `listSegmentIntegrations`: read an account's integrations from a program, data-source style,
 * with the same configuration rules as the provider (stack config `sendgrid:*`, else the
 * SENDGRID_* environment). Runs in the program process when called; write keys are not returned.
 */
import * as pulumi from "@pulumi/pulumi";
import { IntegrationsClient } from "./client";
import { resolveSettings, type Settings } from "./config";
import { ConfigurationError } from "./errors";
import { ON_BEHALF_OF_RULE } from "./schema";
import type { Destination, DestinationRegion, EmailEvent } from "./types";
import { HEADER_VALUE } from "./types";
import { fromApi, type IdentifiedWireIntegration } from "./wire";

export interface ListSegmentIntegrationsArgs {
  /** List a subuser's integrations (the on-behalf-of header); default the parent account's. */
  onBehalfOf?: string;
  /** A named account from `sendgrid:accounts` (or `SENDGRID_ACCOUNT_<NAME>_*`); default the default account. */
  account?: string;
}

/** An integration as listed. The write key is left out: the list is for discovery, not secrets. */
export interface SegmentIntegrationInfo {
  integrationId: string;
  userId: string;
  label: string;
  destination: Destination;
  filters: { emailEvents: EmailEvent[] };
  properties: { destinationRegion: DestinationRegion };
  onBehalfOf?: string;
  account?: string;
}

export async function listSegmentIntegrations(
  args: ListSegmentIntegrationsArgs = {},
): Promise<SegmentIntegrationInfo[]> {
  return listIntegrations(
    resolveSettings((key) => pulumi.runtime.getConfig(key), process.env, args.account),
    args.onBehalfOf,
  );
}

/** The same, taking and giving Outputs. */
export function listSegmentIntegrationsOutput(
  args: pulumi.Input<ListSegmentIntegrationsArgs> = {},
): pulumi.Output<SegmentIntegrationInfo[]> {
  return pulumi.output(args).apply((resolved) => listSegmentIntegrations(resolved));
}

/** Shared by the function above and the `import` and `audit` commands. */
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
  const client = await IntegrationsClient.create(settings);
  return (await client.list({ onBehalfOf })).map((wire) => ({
    info: toInfo(wire, onBehalfOf, settings.account),
    writeKey: wire.properties?.write_key,
  }));
}

/** The listed integration: the API's mapping (`fromApi`), without the write key. */
function toInfo(wire: IdentifiedWireIntegration, onBehalfOf?: string, account?: string): SegmentIntegrationInfo {
  const { properties, ...api } = fromApi(wire);
  return {
    ...api,
    properties: { destinationRegion: properties.destinationRegion as DestinationRegion },
    ...(onBehalfOf ? { onBehalfOf } : {}),
    ...(account ? { account } : {}),
  };
}
