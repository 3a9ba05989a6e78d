import { createRequire } from 'node:module';

import Keyv from 'keyv';

/**
 * How long one operation on the shared store may take before the store counts as unreachable.
 * Short: a build that waits on a store it cannot reach is worse than one that recomputes a
 * little on the local layer.
 */
const SHARED_TIMEOUT_MS = 1500;

/** The shared levels of a team cache (Redis or PostgreSQL), behind the local store. */
export interface SharedStores {
  /** The store's URL without its password, as messages show it. */
  readonly url: string;
  readonly rows: Keyv;
  readonly calls: Keyv;
  readonly status: SharedStatus;
  close(): Promise<void>;
}

/** The URL schemes of the shared stores. */
export const SHARED_SCHEMES = ['redis', 'rediss', 'postgres', 'postgresql'] as const;

/**
 * Whether the shared store still answers. The first failure (refused, reset, timed out) turns
 * it off for the rest of the process and is told once: from then on the build runs on the local
 * layer alone instead of waiting on a store that is gone.
 *
 * NOTE: what is computed while the store is off stays local; it is not sent to the shared store
 * when it comes back.
 */
export class SharedStatus {
  private down = false;

  constructor(
    private readonly url: string,
    private readonly onUnreachable: (message: string) => void,
  ) {}

  get reachable(): boolean {
    return !this.down;
  }

  /** Runs `operation` on the shared store; undefined if it fails, times out or the store is off. */
  async guard<T>(operation: () => Promise<T>): Promise<T | undefined> {
    if (this.down) return undefined;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${SHARED_TIMEOUT_MS / 1000} s`)),
        SHARED_TIMEOUT_MS,
      );
    });
    try {
      return await Promise.race([operation(), timeout]);
    } catch (error) {
      this.fail(error);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  fail(error: unknown): void {
    if (this.down) return;
    this.down = true;
    this.onUnreachable(
      `shared cache ${this.url} unreachable (${reasonOf(error)}); continuing on the local cache`,
    );
  }
}

/**
 * Opens the shared store a redis:// or postgres:// URL names. Query parameters choose where in
 * the store kwgraph keeps its entries: `prefix` (default `kwgraph`) starts every key, so teams
 * or projects can share one server; `table` (PostgreSQL, default `kwgraph_cache`) is the table.
 * An unreachable store is reported through `onUnreachable` and the stores come back turned off.
 */
export async function openSharedStores(
  url: string,
  onUnreachable: (message: string) => void,
): Promise<SharedStores> {
  const parsed = new URL(url);
  const prefix = parsed.searchParams.get('prefix') ?? 'kwgraph';
  const table = parsed.searchParams.get('table') ?? 'kwgraph_cache';
  parsed.searchParams.delete('prefix');
  parsed.searchParams.delete('table');
  const shown = redact(url);
  const status = new SharedStatus(shown, onUnreachable);

  const postgres = parsed.protocol.startsWith('postgres');
  const closers: (() => Promise<unknown>)[] = [];
  const open = async (level: string): Promise<Keyv> => {
    const namespace = `${prefix}:${level}`;
    // Loaded only here: most builds never open a shared store.
    if (postgres) {
      const { default: KeyvPostgres } = await import('@keyv/postgres');
      const store = new KeyvPostgres({
        uri: parsed.toString(),
        table,
        Client: quietPostgresClient((error) => status.fail(error)),
        connectionTimeoutMillis: SHARED_TIMEOUT_MS,
        query_timeout: SHARED_TIMEOUT_MS * 4,
      });
      store.on('error', (error: unknown) => status.fail(error));
      // One pool serves every level of the process: closing it once closes them all.
      if (closers.length === 0) closers.push(() => store.disconnect());
      return new Keyv({ store, namespace, throwOnErrors: true });
    }
    const { default: KeyvRedis } = await import('@keyv/redis');
    const store = new KeyvRedis(
      {
        url: parsed.toString(),
        // Fail at once instead of queueing commands for a server that may never come back.
        disableOfflineQueue: true,
        socket: { connectTimeout: SHARED_TIMEOUT_MS, reconnectStrategy: false },
      },
      { throwOnConnectError: true, throwOnErrors: true, connectionTimeout: SHARED_TIMEOUT_MS },
    );
    store.on('error', (error: unknown) => status.fail(error));
    closers.push(() => store.disconnect());
    return new Keyv({ store, namespace, throwOnErrors: true });
  };

  // Levels opened one after the other: PostgreSQL creates the table on first use, and two
  // creations at once can collide.
  const rows = await open('rows');
  await status.guard(() => rows.get('reachable'));
  const calls = await open('calls');
  if (status.reachable) await status.guard(() => calls.get('reachable'));
  return {
    url: shown,
    rows,
    calls,
    status,
    close: async () => {
      await Promise.all(
        closers.map(async (close) => {
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([
            close().catch(() => undefined),
            new Promise((resolve) => (timer = setTimeout(resolve, SHARED_TIMEOUT_MS))),
          ]);
          clearTimeout(timer);
        }),
      );
    },
  };
}

/** What kwgraph needs of pg's Client class. */
type PostgresClientClass = new (config?: unknown) => {
  emit(event: string | symbol, ...args: unknown[]): boolean;
};

/**
 * pg's Client, from the pg that @keyv/postgres itself loads, turning connection errors into a
 * report instead of an event. A connection that drops while idle in the pool makes the pool emit
 * 'error', and @keyv/postgres does not listen for it: the build would crash on a store it was
 * told it may lose. Kept quiet, the dead connection fails the next query instead, which the
 * status turns into the one "unreachable" warning.
 */
function quietPostgresClient(onError: (error: unknown) => void): PostgresClientClass {
  const require = createRequire(import.meta.resolve('@keyv/postgres'));
  const { Client } = require('pg') as { Client: PostgresClientClass };
  return class QuietClient extends Client {
    override emit(event: string | symbol, ...args: unknown[]): boolean {
      if (event === 'error') {
        onError(args[0]);
        return true;
      }
      return super.emit(event, ...args);
    }
  };
}

/** A URL without the password it may carry, for messages. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

function reasonOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return reasonOf(error.errors[0]);
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return error.message !== '' ? error.message : typeof code === 'string' ? code : error.name;
  }
  return String(error);
}
