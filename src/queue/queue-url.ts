import { closestMatch } from '../config/did-you-mean.js';
import { redact } from '../cache/shared-store.js';

/** Where a queue build and its workers meet: a Redis server and a queue name on it. */
export interface QueueAddress {
  /** The URL without its password, as messages show it. */
  readonly shown: string;
  /** The queue's name: every key of the queue starts with it. */
  readonly name: string;
  /** How a Redis client (ioredis, BullMQ) reaches the server. */
  readonly redis: RedisServer;
  /**
   * The shared cache a build on this queue uses when none is configured: the same server, keys
   * under the queue's name. Builds and workers derive it alike, so they meet in it.
   */
  readonly defaultCacheUrl: string;
}

/** A Redis server, in the options both ioredis and BullMQ take. */
export interface RedisServer {
  readonly host: string;
  readonly port: number;
  readonly db?: number;
  readonly username?: string;
  readonly password?: string;
  readonly tls?: Record<string, never>;
}

/** Thrown for a `--queue` URL kwgraph cannot use; a usage error. */
export class QueueUrlError extends Error {}

/**
 * Reads `redis://[user:password@]host[:port][/db][?name=queue]` (or `rediss://` for TLS). The
 * queue's name defaults to the experiment's name, so the builds and workers of one project meet
 * without naming it; `name` keeps several queues (two copies of one experiment) apart.
 */
export function parseQueueUrl(url: string, experimentName: string): QueueAddress {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new QueueUrlError(`--queue "${url}" is not a URL; use redis://host:port`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new QueueUrlError(
      `--queue "${redact(url)}": the queue lives in Redis; use redis://host:port (or rediss://)`,
    );
  }
  // The only parameter: the connection itself is host, port, path and user. A misspelt one
  // would put the build and its workers on different queues, each waiting for the other.
  for (const parameter of parsed.searchParams.keys()) {
    if (parameter === 'name') continue;
    throw new QueueUrlError(
      `--queue "${redact(url)}": unknown parameter \`${parameter}\`` +
        (closestMatch(parameter, ['name']) ? '; did you mean `name`?' : '; only `name` is read'),
    );
  }
  const name = parsed.searchParams.get('name') ?? experimentName;
  if (!/^[\w.-]+$/.test(name)) {
    throw new QueueUrlError(
      `--queue: queue name "${name}" may hold only letters, digits, ".", "_" and "-"`,
    );
  }
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) {
    throw new QueueUrlError(`--queue "${redact(url)}": the path is a database number, like /0`);
  }

  const redis: RedisServer = {
    host: parsed.hostname || '127.0.0.1',
    port: parsed.port === '' ? 6379 : Number(parsed.port),
    ...(db === '' ? {} : { db: Number(db) }),
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
  };

  const cache = new URL(parsed.toString());
  cache.search = '';
  cache.searchParams.set('prefix', name);
  const shownUrl = new URL(parsed.toString());
  shownUrl.searchParams.set('name', name);
  return {
    shown: redact(shownUrl.toString()),
    name,
    redis,
    defaultCacheUrl: cache.toString(),
  };
}
