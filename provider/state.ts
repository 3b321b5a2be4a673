/**
 * The version of the state shape this release writes, and the refusal to act on state written by
 * a newer one (it may hold fields this release does not know, such as an account to act under).
 */
import { StateVersionError } from "./errors";
import { PACKAGE_VERSION } from "./package";
import { STATE_VERSION } from "./types";

/** Throws, naming what it was about to do, when `props` (outputs in state) are newer than this release. */
export function assertReadableState(props: Record<string, unknown>, doing: string): void {
  const version = props.stateVersion;
  if (version === undefined) return; // 0.1.0 and 0.2.0 wrote none: version 1
  if (Number.isInteger(version) && (version as number) >= 1 && (version as number) <= STATE_VERSION) return;
  throw new StateVersionError(doing, version, STATE_VERSION, PACKAGE_VERSION);
}
