/**
 * The root program: declares the SendGrid Segment integrations listed in stack config and exports
 * their ids. Set them with `pulumi config set --path` (see docs/emulator.md, "Quick start"):
 *
 *   integrations:
 *     - name: prod-events            # Pulumi resource name (default: from the label)
 *       label: Prod events
 *       events: [open, click, delivered]
 *       region: US                   # US or EU: the Segment workspace's region
 *       writeKey: <secret>           # pulumi config set --secret --path 'integrations[0].writeKey' ...
 *       onBehalfOf: subuser-name     # optional
 *       account: eu-brand            # optional: a named account of sendgrid:accounts
 */
import * as pulumi from "@pulumi/pulumi";
import { type DestinationRegion, type EmailEvent, SegmentIntegration, slug } from "pulumi-sendgrid-segment";

interface DeclaredIntegration {
  name?: string;
  label?: string;
  events: EmailEvent[];
  region: DestinationRegion;
  writeKey: string;
  onBehalfOf?: string;
  account?: string;
}

const key = `${pulumi.getProject()}:integrations`;

/**
 * The list is read raw (not with Config.requireSecretObject) because resources must be declared
 * synchronously from it; every write key is wrapped as a secret at once, and the resource keeps
 * it secret in state whatever happens.
 */
function declaredIntegrations(): DeclaredIntegration[] {
  const raw = pulumi.runtime.getConfig(key);
  if (raw === undefined) {
    throw new Error(`Missing stack config ${key}: a list of integrations (see docs/emulator.md, "Quick start")`);
  }
  let list: unknown;
  try {
    list = JSON.parse(raw);
  } catch {
    throw new Error(`Stack config ${key} must be a list of integrations (structured config)`);
  }
  if (!Array.isArray(list)) throw new Error(`Stack config ${key} must be a list of integrations`);
  return list.map((item, i) => {
    if (item === null || typeof item !== "object") throw new Error(`Stack config ${key}[${i}] must be an object`);
    return item as DeclaredIntegration;
  });
}

const integrationIds: Record<string, pulumi.Output<string>> = {};
declaredIntegrations().forEach((item, i) => {
  const name = item.name ?? (item.label ? slug(item.label) : `integration-${i}`);
  if (name in integrationIds) throw new Error(`Stack config ${key}[${i}]: duplicate name "${name}"`);
  const integration = new SegmentIntegration(name, {
    label: item.label,
    filters: { emailEvents: item.events },
    properties: { writeKey: pulumi.secret(item.writeKey), destinationRegion: item.region },
    onBehalfOf: item.onBehalfOf,
    account: item.account,
  });
  integrationIds[name] = integration.integrationId;
});

export { integrationIds };
