import { Redis } from 'ioredis';

import { cacheUrlOf } from '../cache/open-store.js';
import type { QueueAddress } from './queue-url.js';

/**
 * The cache a build on a queue and its workers use: the shared store the project (or
 * KWGRAPH_CACHE) names, else the queue's own Redis server. Workers store every call they send
 * there, and a build must read them: a local SQLite file on each machine would not do.
 */
export function queueCacheUrl(
  experiment: { readonly cache?: string },
  address: QueueAddress,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const configured = cacheUrlOf(experiment, env);
  return configured.startsWith('sqlite:') ? address.defaultCacheUrl : configured;
}

/** Why the queue's Redis server cannot be reached, or undefined when it answers. */
export async function queueUnreachable(address: QueueAddress): Promise<string | undefined> {
  const redis = new Redis({
    ...address.redis,
    lazyConnect: true,
    connectTimeout: 3000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.ping();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    redis.disconnect();
  }
}
