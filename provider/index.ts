/**
 * pulumi-sendgrid-segment: SendGrid email-event forwarding to Segment, as Pulumi resources.
 */
export {
  SegmentIntegration,
  SEGMENT_INTEGRATION_TYPE,
  type SegmentIntegrationArgs,
  type SegmentIntegrationFilters,
  type SegmentIntegrationFiltersArgs,
  type SegmentIntegrationProperties,
  type SegmentIntegrationPropertiesArgs,
} from "./segmentIntegration";
export {
  DEFAULT_LABEL,
  DESTINATION_REGIONS,
  DESTINATIONS,
  EMAIL_EVENTS,
  type Destination,
  type DestinationRegion,
  type EmailEvent,
} from "./types";
export {
  ApiError,
  ConfigurationError,
  InvalidIdError,
  RequestError,
  SendGridError,
} from "./errors";
