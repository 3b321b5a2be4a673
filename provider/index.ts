/**
 * pulumi-sendgrid-segment: SendGrid email-event forwarding to Segment, as Pulumi resources.
 */

export {
  type ListSegmentIntegrationsArgs,
  listSegmentIntegrations,
  listSegmentIntegrationsOutput,
} from "./dynamic/functions";
export {
  SEGMENT_INTEGRATION_TYPE,
  SegmentIntegration,
  type SegmentIntegrationArgs,
  type SegmentIntegrationFilters,
  type SegmentIntegrationFiltersArgs,
  type SegmentIntegrationProperties,
  type SegmentIntegrationPropertiesArgs,
} from "./dynamic/segmentIntegration";
export {
  AmbiguousCreateError,
  ApiError,
  ConfigurationError,
  ConflictError,
  InvalidIdError,
  QuotaError,
  RequestError,
  ResponseError,
  SendGridError,
  StateVersionError,
  UnprovenError,
} from "./errors";
export type { SegmentIntegrationInfo } from "./list";
export {
  DEFAULT_LABEL,
  DESTINATION_REGIONS,
  DESTINATIONS,
  type Destination,
  type DestinationRegion,
  EMAIL_EVENTS,
  type EmailEvent,
  slug,
} from "./types";
