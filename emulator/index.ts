export {
  type Emulator,
  type EmulatorOptions,
  type Fault,
  INTEGRATION_LIMIT,
  type LoggedRequest,
  type StoredIntegration,
  startEmulator,
} from "./server";
