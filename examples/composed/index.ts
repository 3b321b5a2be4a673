// Composes stacks: the Segment source (write key, region) is owned by another stack, and this one
// gives each SendGrid subuser an integration forwarding to it, then exports the ids for others.
//   pulumi config set segmentStack acme/segment-sources/prod
//   pulumi config set --path 'subusers[0]' marketing-eu
//   pulumi config set --path 'subusers[1]' marketing-us
import * as pulumi from "@pulumi/pulumi";
import { type DestinationRegion, type EmailEvent, SegmentIntegration } from "pulumi-sendgrid-segment";

const cfg = new pulumi.Config();
const source = new pulumi.StackReference(cfg.require("segmentStack"));

// Stack outputs arrive as Output<any>; the write key stays secret because the source exported it so.
const writeKey = source.requireOutput("writeKey") as pulumi.Output<string>;
const region = source.requireOutput("region") as pulumi.Output<DestinationRegion>;
const events: EmailEvent[] = cfg.getObject<EmailEvent[]>("events") ?? ["delivered", "open", "click", "bounce"];

const integrations = cfg.requireObject<string[]>("subusers").map(
  (subuser) =>
    new SegmentIntegration(`events-${subuser}`, {
      label: `Email events (${subuser})`,
      onBehalfOf: subuser,
      filters: { emailEvents: events },
      properties: { writeKey, destinationRegion: region },
    }),
);

/** Subuser → integration id, for stacks that reference this one. */
export const integrationIds = pulumi
  .all(integrations.map((i) => pulumi.all([i.onBehalfOf, i.integrationId])))
  .apply((pairs) => Object.fromEntries(pairs));
