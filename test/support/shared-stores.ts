import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

import { Redis } from 'ioredis';

/**
 * The Redis and PostgreSQL servers on 127.0.0.1 (standard ports) that the shared-cache tests
 * use, each test in a key prefix or table of its own, removed afterwards.
 */
export const REDIS_URL = 'redis://127.0.0.1:6379';
export const POSTGRES_URL = 'postgres://root@127.0.0.1:5432/test';

/** A name no other test uses: a Redis key prefix or a PostgreSQL table. */
export function uniqueName(kind: string): string {
  return `kwgraph_test_${kind}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/** Deletes every Redis key starting with `prefix`. */
export async function dropRedisPrefix(prefix: string): Promise<void> {
  const redis = new Redis(6379, '127.0.0.1', { lazyConnect: true });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** The number of Redis keys starting with `prefix`. */
export async function countRedisKeys(prefix: string): Promise<number> {
  const redis = new Redis(6379, '127.0.0.1', { lazyConnect: true });
  await redis.connect();
  try {
    let cursor = '0';
    let count = 0;
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      count += keys.length;
      cursor = next;
    } while (cursor !== '0');
    return count;
  } finally {
    redis.disconnect();
  }
}

/** Runs one statement on the test database (with psql, which comes with the server). */
export async function postgresQuery(sql: string): Promise<string> {
  const { stdout } = await promisify(execFile)('psql', [
    POSTGRES_URL,
    '--no-psqlrc',
    '--quiet',
    '--set=ON_ERROR_STOP=1',
    '--command',
    sql,
  ]);
  return stdout;
}
