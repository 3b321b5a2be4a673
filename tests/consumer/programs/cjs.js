// A CommonJS consumer program (package.json without "type").
const pulumi = require("@pulumi/pulumi");
const { SegmentIntegration } = require("pulumi-sendgrid-segment");

const cfg = new pulumi.Config();
const writeKey = cfg.requireSecret("writeKey");

const prod = new SegmentIntegration("cjs-prod", {
  label: "CJS prod",
  filters: { emailEvents: ["open", "click"] },
  properties: { writeKey, destinationRegion: "US" },
});
const sub = new SegmentIntegration("cjs-sub", {
  onBehalfOf: "subuser-a",
  filters: { emailEvents: ["delivered"] },
  properties: { writeKey, destinationRegion: "US" },
});

exports.ids = [prod.integrationId, sub.integrationId];
