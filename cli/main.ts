#!/usr/bin/env node
/**
 * `npx pulumi-sendgrid-segment import`: print a Pulumi program that adopts an account's existing
 * Segment integrations. Arguments are parsed by commander (well kept, no dependencies, --help).
 * Configuration follows the provider's rules: the API key only from SENDGRID_API_KEY (never a
 * flag, so it stays out of shell history), region and base URL from flags or SENDGRID_* variables.
 */
import { Command, Option } from "commander";
import { resolveSettings } from "../provider/config";
import { listIntegrations, type SegmentIntegrationInfo } from "../provider/list";
import { PACKAGE_NAME, PACKAGE_VERSION } from "../provider/package";
import { renderProgram } from "./generate";

export function buildCli(out: (text: string) => void = (t) => process.stdout.write(t)): Command {
  const cli = new Command()
    .name(PACKAGE_NAME)
    .description("Manage SendGrid email-event forwarding to Segment with Pulumi.")
    .version(PACKAGE_VERSION);

  cli
    .command("import")
    .description(
      "Read the account's live Segment integrations and print a Pulumi TypeScript program that adopts each one " +
        "with importId, with the `pulumi config set --secret` lines for their write keys (never the keys).",
    )
    .addOption(
      new Option("--on-behalf-of <subuser...>", "read these subusers' integrations instead of the parent account's"),
    )
    .addOption(new Option("--with-parent", "with --on-behalf-of: read the parent account's integrations too"))
    .addOption(
      new Option("--region <region>", "global or eu (default: SENDGRID_REGION, else global)").choices(["global", "eu"]),
    )
    .addOption(new Option("--api-base-url <url>", "override the API host (default: SENDGRID_API_BASE_URL)"))
    .addHelpText(
      "after",
      "\nThe API key is read from SENDGRID_API_KEY.\n\nExample:\n" +
        "  SENDGRID_API_KEY=SG.xxx npx pulumi-sendgrid-segment import --on-behalf-of marketing-eu > index.ts\n",
    )
    .action(async (options: { onBehalfOf?: string[]; withParent?: boolean; region?: string; apiBaseUrl?: string }) => {
      const flags: Record<string, string | undefined> = {
        "sendgrid:region": options.region,
        "sendgrid:apiBaseUrl": options.apiBaseUrl,
      };
      const settings = resolveSettings((key) => flags[key]);
      const accounts: Array<string | undefined> = options.onBehalfOf?.length
        ? [...(options.withParent ? [undefined] : []), ...options.onBehalfOf]
        : [undefined];
      const found: SegmentIntegrationInfo[] = [];
      for (const account of accounts) found.push(...(await listIntegrations(settings, account)));
      out(renderProgram(found));
    });
  return cli;
}

if (require.main === module) {
  buildCli()
    .parseAsync(process.argv)
    .catch((error: Error) => {
      process.stderr.write(`pulumi-sendgrid-segment: ${error.message}\n`);
      process.exit(1);
    });
}
