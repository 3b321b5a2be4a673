export {
  type Emulator,
  type EmulatorOptions,
  INTEGRATION_LIMIT,
  type LoggedRequest,
  type StoredIntegration,
  startEmulator,
} from "./server";
