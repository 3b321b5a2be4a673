/**
 * `listSegmentIntegrations`: read an account's integrations from a program, data-source style,
 * with the same configuration rules as the provider (stack config `sendgrid:*`, else the
 * SENDGRID_* environment). Runs in the program process when called; write keys are not returned.
 */
import * as pulumi from "@pulumi/pulumi";
import { resolveSettings } from "../config";
import { listIntegrations, type SegmentIntegrationInfo } from "../list";

export interface ListSegmentIntegrationsArgs {
  /** List a subuser's integrations (the on-behalf-of header); default the parent account's. */
  onBehalfOf?: string;
  /** A named account from `sendgrid:accounts` (or `SENDGRID_ACCOUNT_<NAME>_*`); default the default account. */
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
