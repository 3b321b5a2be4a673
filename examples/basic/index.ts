// One integration forwarding opens, clicks and deliveries to a Segment source.
//   pulumi config set --secret segmentWriteKey <the Segment source's write key>
//   pulumi config set --secret sendgrid:apiKey <SendGrid API key>
import * as pulumi from "@pulumi/pulumi";
import { SegmentIntegration } from "pulumi-sendgrid-segment";

const cfg = new pulumi.Config();

const prodEvents = new SegmentIntegration("prod-events", {
  label: "Prod events",
  filters: { emailEvents: ["open", "click", "delivered"] },
  properties: { writeKey: cfg.requireSecret("segmentWriteKey"), destinationRegion: "US" },
});

export const integrationId = prodEvents.integrationId;
