import { mkdir } from 'node:fs/promises';
import path from 'node:path';

import KeyvSqlite from '@keyv/sqlite';
import Keyv from 'keyv';

/** The default store: a SQLite file in the project's cache folder. */
export const DEFAULT_CACHE_URL = 'sqlite://cache/kwgraph.sqlite';

/** The two cache levels, each a keyv namespace of one store. */
export interface CacheStores {
  /** Row results, keyed by the run's row definition and the row's resolved inputs. */
  readonly rows: Keyv;
  /** LLM call responses, keyed by the normalised request. */
  readonly calls: Keyv;
  close(): Promise<void>;
}

/** Thrown when the cache URL names a store kwgraph cannot open; a configuration error. */
export class CacheUrlError extends Error {}

/**
 * Opens the store a URL names. The engine sees only keyv, so another store (Redis, Postgres) is
 * a new case here and nothing else.
 */
export async function openCacheStores(url: string, root: string): Promise<CacheStores> {
  const scheme = url.split(':')[0];
  switch (scheme) {
    case 'sqlite':
      return openSqlite(url, root);
    default:
      throw new CacheUrlError(
        `cache store "${url}" is not supported; use sqlite://<path> (default ${DEFAULT_CACHE_URL})`,
      );
  }
}

async function openSqlite(url: string, root: string): Promise<CacheStores> {
  const file = url.replace(/^sqlite:\/\//, '');
  const absolute = path.isAbsolute(file) ? file : path.join(root, file);
  await mkdir(path.dirname(absolute), { recursive: true });

  const store = new KeyvSqlite({ uri: `sqlite://${absolute}`, busyTimeout: 30_000 });
  // WAL lets concurrent builds read while one writes, and makes each write one append instead
  // of a rewrite of the journal.
  await store.query('PRAGMA journal_mode=WAL');
  await store.query('PRAGMA synchronous=NORMAL');

  const rows = new Keyv({ store, namespace: 'rows' });
  const calls = new Keyv({ store, namespace: 'calls' });
  return {
    rows,
    calls,
    close: async () => {
      await store.close();
    },
  };
}
