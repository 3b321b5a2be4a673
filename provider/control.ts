/**
 * What bounds one operation from outside: the engine's custom timeout for it (`CreateRequest.timeout`,
 * `UpdateRequest.timeout`, `DeleteRequest.timeout`) and its Cancel (sent on Ctrl-C). Every request,
 * retry wait and settle wait of the operation stops when either fires, and says which one it was.
 */
import { setTimeout as delay } from "node:timers/promises";

/** Why an operation was stopped from outside. */
export class Stopped extends Error {
  constructor(readonly why: string) {
    super(why);
    this.name = "Stopped";
  }
}

export interface Control {
  /** Aborted when the operation must stop; its `reason` is a `Stopped`. */
  readonly signal: AbortSignal;
  /** When the operation's time runs out (ms since epoch); undefined: no limit from outside. */
  readonly deadline?: number;
  /** Tells the user something about this operation where they see it (the engine's log). */
  readonly warn?: (message: string) => void;
}

/** No limit from outside. */
export const UNBOUNDED: Control = { signal: new AbortController().signal };

/**
 * A control for one operation: `cancel` is the deployment's (aborted on Cancel), `timeoutSeconds`
 * the engine's custom timeout for the operation (0 or absent: none).
 */
export function controlFor(
  cancel: AbortSignal,
  timeoutSeconds = 0,
  what = "the operation",
  warn?: (message: string) => void,
): Control {
  const told = warn ? { warn } : {};
  if (timeoutSeconds > 0) {
    const ms = Math.ceil(timeoutSeconds * 1000);
    const deadline = Date.now() + ms;
    const timer = new AbortController();
    const seconds = Number.isInteger(timeoutSeconds) ? timeoutSeconds : timeoutSeconds.toFixed(1);
    const handle = setTimeout(
      () => timer.abort(new Stopped(`${what}'s custom timeout (${seconds} s, customTimeouts) ran out`)),
      ms,
    );
    handle.unref();
    return { signal: AbortSignal.any([cancel, timer.signal]), deadline, ...told };
  }
  return { signal: cancel, ...told };
}

/** Why `control` stopped, or undefined while it has not. */
export const stoppedBy = (control: Control): Stopped | undefined =>
  control.signal.aborted ? (control.signal.reason as Stopped) : undefined;

/** Throws the control's `Stopped` once it has fired. */
export function throwIfStopped(control: Control): void {
  const stopped = stoppedBy(control);
  if (stopped) throw stopped;
}

/** Waits `ms`, or less when the control fires (then throws its `Stopped`). */
export async function sleep(ms: number, control: Control = UNBOUNDED): Promise<void> {
  throwIfStopped(control);
  try {
    await delay(ms, undefined, { signal: control.signal });
  } catch {
    throwIfStopped(control);
  }
}
