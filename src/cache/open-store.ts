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
  /** Gives the space of deleted entries back to the file system, where the store can. */
  compact(): Promise<void>;
  close(): Promise<void>;
}

/** Thrown when the cache URL names a store kwgraph cannot open; a configuration error. */
export class CacheUrlError extends Error {}

/** Why kwgraph cannot open the store a URL names; undefined when it can. */
export function unsupportedCacheUrl(url: string): string | undefined {
  return url.startsWith('sqlite://')
    ? undefined
    : `cache store "${url}" is not supported; use sqlite://<path> (default ${DEFAULT_CACHE_URL})`;
}

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

/** The file a sqlite:// URL names, absolute. */
export function sqliteFile(url: string, root: string): string {
  const file = url.replace(/^sqlite:\/\//, '');
  return path.isAbsolute(file) ? file : path.join(root, file);
}

async function openSqlite(url: string, root: string): Promise<CacheStores> {
  const absolute = sqliteFile(url, root);
  await mkdir(path.dirname(absolute), { recursive: true });

  // One connection per level: keyv keeps a namespace on the store object, so two levels sharing
  // one store would list and clear each other's keys.
  const open = async (namespace: string) => {
    const store = new KeyvSqlite({
      uri: `sqlite://${absolute}`,
      busyTimeout: 30_000,
      iterationLimit: 1000,
    });
    // WAL lets concurrent builds read while one writes, and makes each write one append instead
    // of a rewrite of the journal. synchronous=FULL syncs the log at every commit: an answer
    // that was paid for survives a power cut, not only a killed process, and the cost is one
    // fsync per call, small next to the call itself.
    await store.query('PRAGMA journal_mode=WAL');
    await store.query('PRAGMA synchronous=FULL');
    // Failed writes must fail the row, not vanish: keyv only reports them as events otherwise.
    return { store, keyv: new Keyv({ store, namespace, throwOnErrors: true }) };
  };
  const rows = await open('rows');
  const calls = await open('calls');
  return {
    rows: rows.keyv,
    calls: calls.keyv,
    compact: async () => {
      await rows.store.query('VACUUM');
    },
    close: async () => {
      await Promise.all([rows.store.close(), calls.store.close()]);
    },
  };
}
