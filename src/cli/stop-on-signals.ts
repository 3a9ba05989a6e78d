/** Exit codes of a build stopped by a signal: 128 + the signal's number, as shells report. */
const EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;

export type StopSignal = keyof typeof EXIT_CODES;

export interface SignalStop {
  /** Aborted at the first Ctrl-C (SIGINT) or SIGTERM. */
  readonly signal: AbortSignal;
  /** The signal received, if any. */
  received(): StopSignal | undefined;
  /** The exit code for the signal received. */
  exitCode(): number;
  /** Restores the default handling. */
  dispose(): void;
}

/**
 * The first SIGINT or SIGTERM asks the build to stop: nothing new starts, work in flight
 * finishes and is saved. The second ends the process at once; what was saved stays saved,
 * since every write is atomic, and the calls cut off are sent again by the next build.
 */
export function stopOnSignals(tell: (line: string) => void): SignalStop {
  const controller = new AbortController();
  let received: StopSignal | undefined;

  const handler = (name: StopSignal) => () => {
    if (received === undefined) {
      received = name;
      controller.abort();
      tell(
        `stopping: letting the calls in flight finish and saving them ` +
          `(${name === 'SIGINT' ? 'Ctrl-C' : name} again to quit at once)`,
      );
      return;
    }
    tell('quitting now; calls in flight are not saved');
    process.exit(EXIT_CODES[received]);
  };
  const onInt = handler('SIGINT');
  const onTerm = handler('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);

  return {
    signal: controller.signal,
    received: () => received,
    exitCode: () => (received === undefined ? 0 : EXIT_CODES[received]),
    dispose: () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    },
  };
}
