import type Keyv from 'keyv';

import { CACHE_FORMAT_VERSION } from '../fingerprint/cache-format.js';
import { hashValue } from '../fingerprint/hash.js';
import type { SharedStatus } from './shared-store.js';

/** An entry as stored: the value, the format it was written in, and the hash of its content. */
interface StoredEntry {
  readonly format: number;
  readonly sha256: string;
  readonly value: unknown;
}

/** Told when an entry fails its check; the entry has been removed. */
export type CorruptEntryListener = (key: string, reason: string) => void;

/** The same level in the team's shared store, read after the local one. */
export interface SharedLevel {
  readonly keyv: Keyv;
  readonly status: SharedStatus;
}

/**
 * One cache level (row results or LLM calls) whose entries carry the hash of their content,
 * checked on every read. An entry that does not match (a disk fault, a hand-edited store, a
 * write from an incompatible version) is removed and reported, and the caller recomputes it: a
 * build never uses a value it cannot vouch for.
 */
export class CheckedStore<T> {
  constructor(
    private readonly keyv: Keyv,
    private readonly onCorrupt: CorruptEntryListener = () => {},
    private readonly shared?: SharedLevel,
  ) {}

  /**
   * The local entry, else the shared one (copied locally, so the next read needs no network).
   * Each layer's entry is checked on its own: a bad shared entry is never copied.
   */
  async get(key: string): Promise<T | undefined> {
    let raw: unknown;
    try {
      raw = await this.keyv.get(key);
    } catch (error) {
      // The store could not even decode the entry.
      return this.discard(key, `unreadable (${error instanceof Error ? error.message : error})`);
    }
    if (raw !== undefined && raw !== null) {
      const problem = entryProblem(raw);
      if (problem === undefined) return (raw as StoredEntry).value as T;
      // A bad local copy may still be good in the shared store.
      await this.discard(key, problem);
    }

    const shared = this.shared;
    if (shared === undefined || !shared.status.reachable) return undefined;
    const remote = await shared.status.guard(async () => (await shared.keyv.get(key)) as unknown);
    if (remote === undefined || remote === null) return undefined;
    const problem = entryProblem(remote);
    if (problem !== undefined) {
      await shared.status.guard(() => shared.keyv.delete(key));
      this.onCorrupt(key, `${problem}, in the shared store`);
      return undefined;
    }
    await this.keyv.set(key, remote);
    return (remote as StoredEntry).value as T;
  }

  /**
   * Stores `value` locally, then in the shared store; resolves once both have committed it (or
   * the shared store has been found unreachable, which is reported once and not an error).
   */
  async set(key: string, value: T): Promise<void> {
    const entry: StoredEntry = {
      format: CACHE_FORMAT_VERSION,
      sha256: hashValue(value),
      value,
    };
    await this.keyv.set(key, entry);
    const shared = this.shared;
    if (shared !== undefined) await shared.status.guard(() => shared.keyv.set(key, entry));
  }

  /** Every key of this level, read before any is deleted (deleting while paging skips keys). */
  async keys(): Promise<string[]> {
    const keys: string[] = [];
    if (this.keyv.iterator === undefined) {
      throw new Error('internal error: this cache store cannot list its keys');
    }
    for await (const [key] of this.keyv.iterator(undefined)) keys.push(String(key));
    return keys;
  }

  // NOTE: keys, deleteMany and clear work on the local layer only: `cache gc` and `cache clear`
  // on one checkout must not delete what the rest of the team still uses.
  async deleteMany(keys: readonly string[]): Promise<void> {
    for (let start = 0; start < keys.length; start += 500) {
      await this.keyv.deleteMany(keys.slice(start, start + 500));
    }
  }

  async clear(): Promise<void> {
    await this.keyv.clear();
  }

  private async discard(key: string, reason: string): Promise<undefined> {
    await this.keyv.delete(key).catch(() => false);
    this.onCorrupt(key, reason);
    return undefined;
  }
}

/** Why a stored entry cannot be trusted, or undefined when it can. */
function entryProblem(raw: unknown): string | undefined {
  const entry = raw as Partial<StoredEntry>;
  if (typeof entry !== 'object' || typeof entry.sha256 !== 'string' || !('value' in entry)) {
    return 'not in the format kwgraph writes';
  }
  if (entry.format !== CACHE_FORMAT_VERSION) return `written in cache format ${entry.format}`;
  if (hashValue(entry.value) !== entry.sha256) return 'its content does not match its hash';
  return undefined;
}
