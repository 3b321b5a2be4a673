/**
 * The native provider plugin's front door (`pulumi-resource-sendgrid-segment`): the gRPC service
 * and the package schema. `main.ts` is the executable's entry.
 */

export { DYNAMIC_TYPE, LIST_TOKEN, PACKAGE, packageSchema, RESOURCE_TOKEN } from "./schema";
export { checkConfig, configFrom, diffConfig, main, SendGridSegmentProvider, type Served, serve } from "./server";
