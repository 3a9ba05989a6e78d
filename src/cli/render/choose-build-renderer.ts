import type { BuildEvent } from '../../events/build-events.js';
import type { ExpectedWork } from './build-progress.js';
import { liveBuildRenderer, type BuildRenderer } from './live-build-renderer.js';
import { DEFAULT_PROGRESS_INTERVAL_MS, plainBuildRenderer } from './plain-build-renderer.js';

export interface RendererChoice {
  /** Machine-readable output on stdout: human text goes to stderr. */
  readonly json: boolean;
  /** No live display, even on a terminal. */
  readonly quiet: boolean;
}

/**
 * The live display when the human stream is a terminal that takes escape codes (not with
 * NO_COLOR, TERM=dumb or --quiet); plain lines otherwise. Human text goes to stdout, or to
 * stderr under --json. `expected` is asked for only when the live display needs it.
 */
export async function chooseBuildRenderer(
  choice: RendererChoice,
  expected: () => Promise<ExpectedWork | undefined>,
): Promise<BuildRenderer & { readonly stream: NodeJS.WriteStream; readonly live: boolean }> {
  const stream = choice.json ? process.stderr : process.stdout;
  const env = process.env;
  const terminal = stream.isTTY === true && env['NO_COLOR'] === undefined && env['TERM'] !== 'dumb';
  if (terminal && !choice.quiet) {
    return { ...liveBuildRenderer(stream, await expected()), stream, live: true };
  }
  const render: (event: BuildEvent) => void = plainBuildRenderer(
    (line) => stream.write(`${line}\n`),
    { color: terminal, progressIntervalMs: progressInterval(env['KWGRAPH_PROGRESS_INTERVAL']) },
  );
  return { render, stop: () => {}, stream, live: false };
}

/** KWGRAPH_PROGRESS_INTERVAL: seconds between progress lines of one run (default 5). */
function progressInterval(value: string | undefined): number {
  const seconds = value === undefined ? NaN : Number(value);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : DEFAULT_PROGRESS_INTERVAL_MS;
}
