// An ES module consumer program (package.json with "type": "module").
import * as pulumi from "@pulumi/pulumi";
import { SegmentIntegration } from "pulumi-sendgrid-segment";

const cfg = new pulumi.Config();
const writeKey = cfg.requireSecret("writeKey");

const prod = new SegmentIntegration("esm-prod", {
  label: "ESM prod",
  filters: { emailEvents: ["open", "click"] },
  properties: { writeKey, destinationRegion: "US" },
});
const sub = new SegmentIntegration("esm-sub", {
  onBehalfOf: "subuser-a",
  filters: { emailEvents: ["delivered"] },
  properties: { writeKey, destinationRegion: "US" },
});

export const ids = [prod.integrationId, sub.integrationId];
