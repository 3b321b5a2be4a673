export {
  DEFAULT_REDIRECT_LOCATION,
  type Emulator,
  type EmulatorOptions,
  type Fault,
  INTEGRATION_LIMIT,
  type LoggedRequest,
  MALFORMED,
  type Malformed,
  parseFault,
  REDIRECT_STATUSES,
  type StoredIntegration,
  startEmulator,
} from "./server";
