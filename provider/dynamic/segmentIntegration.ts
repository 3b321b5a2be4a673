/**
 * The public resource: a SendGrid Marketing Campaigns integration that forwards email events to a
 * Segment source. A thin class over `pulumi.dynamic.Resource`; the behaviour lives in `dynamic.ts`.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  type Destination,
  type DestinationRegion,
  DYNAMIC_RESOURCE_TYPE,
  type EmailEvent,
  SECRET_OUTPUTS,
} from "../types";
import { provider } from "./shim";

export interface SegmentIntegrationFiltersArgs {
  /** The email events to forward; at least one. Order and duplicates do not matter. */
  emailEvents: pulumi.Input<pulumi.Input<EmailEvent>[]>;
}

export interface SegmentIntegrationPropertiesArgs {
  /** The Segment source's write key (6 to 51 characters). Always stored as a secret. */
  writeKey: pulumi.Input<string>;
  /** Region of the Segment workspace that owns the write key. */
  destinationRegion: pulumi.Input<DestinationRegion>;
}

export interface SegmentIntegrationArgs {
  /** Which email events to forward. */
  filters: pulumi.Input<SegmentIntegrationFiltersArgs>;
  /** Where to forward them. */
  properties: pulumi.Input<SegmentIntegrationPropertiesArgs>;
  /** Nickname shown in the SendGrid UI. Defaults to "Untitled Integration". */
  label?: pulumi.Input<string>;
  /** The destination; "Segment" (the default) is the only one the API knows. Changing it replaces. */
  destination?: pulumi.Input<Destination>;
  /**
   * Manage a subuser's integration with the parent account's key (the `on-behalf-of` header):
   * a subuser name, or `account-id <id>`. Changing it replaces the integration.
   */
  onBehalfOf?: pulumi.Input<string>;
  /**
   * The SendGrid account to use: a name configured in `sendgrid:accounts` (or the
   * `SENDGRID_ACCOUNT_<NAME>_*` environment); omitted, the default account (`sendgrid:apiKey`).
   * Combines with `onBehalfOf`. Changing it replaces the integration. No key is ever stored.
   */
  account?: pulumi.Input<string>;
  /**
   * Adopt an existing integration (e.g. one made in the SendGrid UI) instead of creating one: on
   * create it is read (it must exist) and updated to the declared state, and its id becomes this
   * resource's id. Only used at creation: changing or removing it later changes nothing.
   * `npx pulumi-sendgrid-segment import` writes these declarations for you.
   */
  importId?: pulumi.Input<string>;
}

export interface SegmentIntegrationFilters {
  emailEvents: EmailEvent[];
}

export interface SegmentIntegrationProperties {
  writeKey: string;
  destinationRegion: DestinationRegion;
}

export const SEGMENT_INTEGRATION_TYPE = DYNAMIC_RESOURCE_TYPE;

export class SegmentIntegration extends pulumi.dynamic.Resource {
  /** SendGrid's id of the integration; also this resource's id. */
  declare public readonly integrationId: pulumi.Output<string>;
  /** The SendGrid account (user) that owns the integration. */
  declare public readonly userId: pulumi.Output<string>;
  declare public readonly label: pulumi.Output<string>;
  declare public readonly destination: pulumi.Output<Destination>;
  declare public readonly filters: pulumi.Output<SegmentIntegrationFilters>;
  /** Secret: holds the write key. */
  declare public readonly properties: pulumi.Output<SegmentIntegrationProperties>;
  declare public readonly onBehalfOf: pulumi.Output<string | undefined>;
  /** The named account, if one was given. */
  declare public readonly account: pulumi.Output<string | undefined>;
  /** The id this resource adopted, if it was declared with `importId`. */
  declare public readonly importId: pulumi.Output<string | undefined>;

  constructor(name: string, args: SegmentIntegrationArgs, opts?: pulumi.CustomResourceOptions) {
    if (!args) throw new Error(`SegmentIntegration "${name}": args are required (filters and properties)`);
    const props = {
      label: args.label,
      destination: args.destination,
      filters: args.filters,
      // Secret whatever the caller passed, so the write key is never plaintext in state.
      properties: args.properties === undefined ? undefined : pulumi.secret(args.properties),
      onBehalfOf: args.onBehalfOf,
      account: args.account,
      importId: args.importId,
      integrationId: undefined,
      userId: undefined,
    };
    super(
      provider as pulumi.dynamic.ResourceProvider, // the other methods are installed by configure

      name,
      props,
      {
        ...opts,
        // The engine marks these outputs secret in state (step_executor.go continueExecuteStep,
        // pulumi/pulumi 1b59498): the write key's properties and the API key's digest.
        additionalSecretOutputs: [
          ...new Set([...(opts?.additionalSecretOutputs ?? []), "properties", ...SECRET_OUTPUTS]),
        ],
      },
      "sendgrid",
      "SegmentIntegration",
    );
  }
}
