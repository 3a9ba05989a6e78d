import { Queue, QueueEvents, type Job } from 'bullmq';

import type { BuildEventListener } from '../events/build-events.js';
import type { RowComputer } from '../execute/execute-run.js';
import type { RowOutcome } from '../flow/execute-flow-row.js';
import type { RunId } from '../plan/run-id.js';
import type { QueueAddress } from './queue-url.js';
import {
  REFUSED,
  ROW_JOB,
  ROW_QUEUE,
  rowJobId,
  type RowJobData,
  type RowJobResult,
} from './row-job.js';

/** How long a finished job stays in Redis: long enough for a build to read its result. */
const KEEP_FINISHED_SECONDS = 3600;

/** The build's side of a queue: rows go out as jobs and come back as outcomes. */
export interface RowQueue {
  /** The row computer a queue build passes to the engine. */
  readonly computeRow: RowComputer;
  close(): Promise<void>;
}

/** What every job of a build carries besides its row, and how the build is told things. */
export interface RowQueueOptions {
  /** The build's shared cache URL, without password: workers check that they write to it. */
  readonly cache: string;
  /** The build's `--connection`, under which its fingerprints were computed. */
  readonly connection: string | undefined;
  readonly imageMaxSide: number;
  /** `--no-cache`. */
  readonly fresh: boolean;
  /** Once aborted, rows still waiting for a worker are taken back; rows being computed finish. */
  readonly signal?: AbortSignal;
  readonly emit: BuildEventListener;
}

/**
 * Opens the queue and returns a row computer that puts each row on it as a job and waits for a
 * worker's outcome. A row asked for twice (a second build of the same run) is one job. A row
 * a worker refused (its checkout is not the build's) fails, and the build is told once per run
 * what to do about it.
 */
export async function openRowQueue(
  address: QueueAddress,
  options: RowQueueOptions,
): Promise<RowQueue> {
  const connection = { ...address.redis, maxRetriesPerRequest: null };
  const queue = new Queue<RowJobData, RowJobResult>(ROW_QUEUE, {
    connection,
    prefix: address.name,
  });
  const events = new QueueEvents(ROW_QUEUE, { connection, prefix: address.name });
  // One pair of listeners per row waiting: hundreds at once is expected, not a leak.
  events.setMaxListeners(0);
  queue.setMaxListeners(0);
  await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);

  const warn = (message: string) => options.emit({ type: 'warning', message });
  const refusedRuns = new Set<RunId>();
  // Rows waiting for their outcome, by job id: taken back from the queue if the build stops.
  const waiting = new Map<string, (outcome: RowOutcome) => void>();
  let toldAboutWorkers = false;

  const takeBack = async () => {
    for (const [id, settle] of [...waiting]) {
      // 0: a worker holds it; its outcome still comes.
      if ((await queue.remove(id).catch(() => 0)) === 1) settle(stoppedOutcome);
    }
  };
  options.signal?.addEventListener('abort', () => void takeBack(), { once: true });

  const computeRow: RowComputer = async (job, key, inputs) => {
    if (!toldAboutWorkers) {
      toldAboutWorkers = true;
      if ((await queue.getWorkersCount()) === 0) {
        warn(
          `no worker is taking rows from queue ${address.shown} yet; the build waits for one ` +
            '(start it with `kwgraph worker --queue …`)',
        );
      }
    }

    const id = rowJobId(job.run.id, key);
    // A job left finished by an earlier build is no answer for this one: it may have been
    // refused by a stale worker, or computed before --no-cache asked for fresh calls.
    const state = await queue.getJobState(id);
    if (state === 'completed' || state === 'failed') await queue.remove(id);

    const data: RowJobData = {
      run: job.run.id,
      fingerprint: job.fingerprint,
      fingerprintHash: job.fingerprintHash,
      key,
      inputs,
      connection: options.connection ?? null,
      imageMaxSide: options.imageMaxSide,
      fresh: options.fresh,
      cache: options.cache,
    };
    const added = await queue.add(ROW_JOB, data, {
      jobId: id,
      removeOnComplete: { age: KEEP_FINISHED_SECONDS },
      removeOnFail: { age: KEEP_FINISHED_SECONDS },
    });

    const outcome = await new Promise<RowOutcome>((resolve) => {
      waiting.set(id, resolve);
      finished(added, events).then(resolve, (error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        if (message.startsWith(REFUSED) && !refusedRuns.has(job.run.id)) {
          refusedRuns.add(job.run.id);
          warn(`run ${job.run.id}: ${message}`);
        }
        resolve(failedOutcome(message));
      });
    });
    waiting.delete(id);
    return outcome;
  };

  return {
    computeRow,
    close: async () => {
      await Promise.all([events.close(), queue.close()]);
    },
  };
}

/** The outcome of a job once a worker finished it; rejects with the worker's failure. */
function finished(job: Job<RowJobData, RowJobResult>, events: QueueEvents): Promise<RowOutcome> {
  return job.waitUntilFinished(events) as Promise<RowOutcome>;
}

function failedOutcome(error: string): RowOutcome {
  return { status: 'failed', error, node: undefined, nodes: {}, calls: [] };
}

/** A row taken back before a worker started it: the engine counts it as not done. */
const stoppedOutcome = failedOutcome('stopped before a worker took it');
