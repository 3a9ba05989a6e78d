import { cacheUrlProblem } from '../../cache/open-store.js';
import { parseQueueUrl, QueueUrlError, type QueueAddress } from '../../queue/queue-url.js';
import { EXIT_USAGE, loadOrReport, reportDiagnostics, type GlobalOptions } from '../load.js';
import { plural } from '../render/format.js';
import { stopOnSignals } from '../stop-on-signals.js';

/** `kwgraph worker`'s options. */
export interface WorkerCommandOptions extends GlobalOptions {
  readonly queue: string;
  readonly concurrency: number;
  /** Seconds. */
  readonly stallTimeout: number;
}

/**
 * `kwgraph worker --queue redis://…`: computes rows that `build --queue` builds put on the
 * queue, until Ctrl-C or SIGTERM, which let the rows in hand finish first.
 */
export async function workerCommand(options: WorkerCommandOptions): Promise<number> {
  const project = await loadOrReport(options);
  if (project === undefined) return EXIT_USAGE;
  const root = project.experiment.root;

  let address: QueueAddress;
  try {
    address = parseQueueUrl(options.queue, project.experiment.name);
  } catch (error) {
    if (!(error instanceof QueueUrlError)) throw error;
    reportDiagnostics(root, [{ message: error.message, hint: 'e.g. redis://127.0.0.1:6379' }]);
    return EXIT_USAGE;
  }
  // Loaded only here: BullMQ and the Redis client would slow every other command's start.
  const { queueCacheUrl, queueUnreachable } = await import('../../queue/queue-cache.js');
  const { runRowWorker } = await import('../../queue/row-worker.js');
  const cacheUrl = queueCacheUrl(project.experiment, address);
  const cacheProblem = cacheUrlProblem(cacheUrl);
  if (cacheProblem !== undefined) {
    reportDiagnostics(root, [
      { message: `KWGRAPH_CACHE: ${cacheProblem}`, hint: 'unset it to use the queue’s Redis' },
    ]);
    return EXIT_USAGE;
  }
  const unreachable = await queueUnreachable(address);
  if (unreachable !== undefined) {
    reportDiagnostics(root, [
      {
        message: `--queue ${address.shown}: unreachable (${unreachable})`,
        hint: 'start Redis, or fix the URL',
      },
    ]);
    return EXIT_USAGE;
  }

  const say = (line: string) => process.stdout.write(`${line}\n`);
  const stop = stopOnSignals((line) => process.stderr.write(`${line}\n`));
  try {
    const summary = await runRowWorker({
      project,
      address,
      cacheUrl,
      concurrency: options.concurrency,
      stallTimeoutMs: Math.round(options.stallTimeout * 1000),
      signal: stop.signal,
      say,
    });
    say(
      `worker stopped: ${plural(summary.rows, 'row')} computed, ` +
        `${plural(summary.calls, 'call')} sent, ${plural(summary.refused, 'row')} refused`,
    );
  } finally {
    stop.dispose();
  }
  return stop.exitCode();
}
