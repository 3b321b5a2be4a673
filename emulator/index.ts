export {
  startEmulator,
  INTEGRATION_LIMIT,
  type Emulator,
  type EmulatorOptions,
  type LoggedRequest,
  type StoredIntegration,
} from "./server";
