export {
  type Emulator,
  type EmulatorOptions,
  type Fault,
  INTEGRATION_LIMIT,
  type LoggedRequest,
  parseFault,
  type StoredIntegration,
  startEmulator,
} from "./server";
