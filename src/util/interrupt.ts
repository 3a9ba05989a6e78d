/**
 * Stopping a build: the CLI turns Ctrl-C (SIGINT) and SIGTERM into an AbortSignal; the engine
 * checks it before it starts a row, a call or a run, and never cuts one short.
 */

/** Thrown where work would start after the build was asked to stop; never shown as an error. */
export class Interrupted extends Error {
  constructor() {
    super('the build was stopped before this started');
  }
}

/** Throws Interrupted when `signal` has been aborted. */
export function throwIfStopped(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new Interrupted();
}

/** Waits `ms`, or less when `signal` aborts (then throws Interrupted). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new Interrupted());
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Interrupted());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
