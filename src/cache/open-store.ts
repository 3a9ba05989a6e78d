import { mkdir } from 'node:fs/promises';
import path from 'node:path';

import Keyv from 'keyv';

import { closestMatch } from '../config/did-you-mean.js';
import { openSharedStores, redact, SHARED_SCHEMES, type SharedStores } from './shared-store.js';

/** The default store: a SQLite file in the project's cache folder. */
export const DEFAULT_CACHE_URL = 'sqlite://cache/kwgraph.sqlite';

/** The two cache levels, each a keyv namespace of one store. */
export interface CacheStores {
  /** Row results, keyed by the run's row definition and the row's resolved inputs. */
  readonly rows: Keyv;
  /** LLM call responses, keyed by the normalised request. */
  readonly calls: Keyv;
  /**
   * The team's shared store behind the local one, when the URL names one (Redis, PostgreSQL)
   * and it was asked for. Read after the local store; written with it.
   */
  readonly shared?: SharedStores;
  /** Gives the space of deleted entries back to the file system, where the store can. */
  compact(): Promise<void>;
  close(): Promise<void>;
}

/** Thrown when the cache URL names a store kwgraph cannot open; a configuration error. */
export class CacheUrlError extends Error {}

/**
 * The cache URL in effect: `KWGRAPH_CACHE` when set (a teammate points one checkout at the team
 * store without editing the shared experiment.yaml), else experiment.yaml's `cache`, else the
 * local SQLite file.
 */
export function cacheUrlOf(
  experiment: { readonly cache?: string },
  env: NodeJS.ProcessEnv = process.env,
): string {
  const fromEnv = env['KWGRAPH_CACHE'];
  return fromEnv !== undefined && fromEnv !== ''
    ? fromEnv
    : (experiment.cache ?? DEFAULT_CACHE_URL);
}

/** Why kwgraph cannot use a cache URL, or undefined when it can. */
export function cacheUrlProblem(url: string): string | undefined {
  const scheme = url.split(':')[0] ?? '';
  if (scheme === 'sqlite') return undefined;
  if ((SHARED_SCHEMES as readonly string[]).includes(scheme)) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return `cache store "${redact(url)}" is not a valid URL`;
    }
    return sharedUrlProblem(parsed, scheme.startsWith('postgres'));
  }
  return (
    `cache store "${url}" is not supported; use sqlite://<path> (default ${DEFAULT_CACHE_URL}), ` +
    'redis://host:port or postgres://user@host/database'
  );
}

/** kwgraph's own parameters of a shared store's URL; the rest go to the driver. */
const SHARED_PARAMETERS = ['prefix', 'table'];

/**
 * What is wrong with kwgraph's parameters of a redis:// or postgres:// URL. The table name goes
 * into SQL as an identifier, so only a plain one is accepted; a misspelt parameter would
 * silently use the default table or prefix, so one close to kwgraph's is refused too.
 */
function sharedUrlProblem(url: URL, postgres: boolean): string | undefined {
  const shown = redact(url.toString());
  const table = url.searchParams.get('table');
  if (table !== null) {
    if (!postgres) return `cache store "${shown}": \`table\` is for postgres:// stores only`;
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(table)) {
      return (
        `cache store "${shown}": table name "${table}" is not allowed; use letters, digits ` +
        'and underscores, starting with a letter or underscore (at most 63)'
      );
    }
  }
  if (url.searchParams.get('prefix') === '') {
    return `cache store "${shown}": \`prefix\` is empty; leave it out for the default (kwgraph)`;
  }
  const own = postgres ? SHARED_PARAMETERS : SHARED_PARAMETERS.filter((name) => name !== 'table');
  for (const name of url.searchParams.keys()) {
    if (SHARED_PARAMETERS.includes(name)) continue;
    const meant = closestMatch(name, own);
    if (meant !== undefined) {
      return `cache store "${shown}": unknown parameter \`${name}\`; did you mean \`${meant}\`?`;
    }
    // PostgreSQL's own parameters (sslmode, …) go to its driver; a Redis URL has none.
    if (!postgres)
      return `cache store "${shown}": unknown parameter \`${name}\`; only \`prefix\` is read`;
  }
  return undefined;
}

/** The local store of a URL: the file itself, or the default file in front of a shared store. */
export function localCacheUrl(url: string): string {
  return url.startsWith('sqlite:') ? url : DEFAULT_CACHE_URL;
}

/**
 * Opens the store a URL names. The engine sees only keyv. A shared store (Redis, PostgreSQL)
 * always has the local SQLite file in front of it; it is opened only when `shared` says how to
 * report it unreachable (commands that manage the local cache leave it closed).
 */
export async function openCacheStores(
  url: string,
  root: string,
  options: { shared?: { onUnreachable: (message: string) => void } } = {},
): Promise<CacheStores> {
  const problem = cacheUrlProblem(url);
  if (problem !== undefined) throw new CacheUrlError(problem);
  const local = await openSqlite(localCacheUrl(url), root);
  if (url.startsWith('sqlite:') || options.shared === undefined) return local;
  const shared = await openSharedStores(url, options.shared.onUnreachable);
  return {
    ...local,
    shared,
    close: async () => {
      await Promise.all([local.close(), shared.close()]);
    },
  };
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
  // The SQLite driver is loaded only when a build opens the store: commands that only read a
  // cache URL (and builds with every run fresh) never load the native module.
  const { default: KeyvSqlite } = await import('@keyv/sqlite');
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
