import { Redis } from 'ioredis';

import { redact } from '../cache/shared-store.js';
import type { BuildEventListener } from '../events/build-events.js';
import type { BuildOptions } from '../execute/build.js';
import { sharedLimiters } from '../models/shared-rate-limiter.js';
import { openRowQueue } from './queue-rows.js';
import type { QueueAddress } from './queue-url.js';

/**
 * Rows of one run a queue build keeps on the queue at once, unless `--concurrency` says
 * otherwise: enough for every worker to stay busy, since the workers' own concurrency is what
 * paces the build.
 */
const QUEUED_ROWS_PER_RUN = 256;

/** What a build on a queue passes to the engine, and how to let go of the queue after it. */
export interface QueueBuild {
  readonly options: Pick<BuildOptions, 'computeRow' | 'limiters' | 'cacheUrl' | 'concurrency'>;
  close(): Promise<void>;
}

/**
 * Connects a build to its queue: rows the caches lack go to workers as jobs, endpoint budgets
 * are counted in the queue's Redis (for what the build itself still calls: aggregation nodes),
 * and the caches are the shared store the workers write to.
 */
export async function openQueueBuild(
  address: QueueAddress,
  options: {
    readonly cacheUrl: string;
    readonly connection: string | undefined;
    readonly concurrency: number | undefined;
    readonly imageMaxSide: number;
    readonly fresh: boolean;
    readonly signal: AbortSignal;
    readonly emit: BuildEventListener;
  },
): Promise<QueueBuild> {
  const rows = await openRowQueue(address, {
    cache: redact(options.cacheUrl),
    connection: options.connection,
    imageMaxSide: options.imageMaxSide,
    fresh: options.fresh,
    signal: options.signal,
    emit: options.emit,
  });
  const redis = new Redis({ ...address.redis, maxRetriesPerRequest: 2 });
  redis.on('error', () => {});
  return {
    options: {
      computeRow: rows.computeRow,
      limiters: sharedLimiters(redis),
      cacheUrl: options.cacheUrl,
      concurrency: options.concurrency ?? QUEUED_ROWS_PER_RUN,
    },
    close: async () => {
      await rows.close();
      redis.disconnect();
    },
  };
}
