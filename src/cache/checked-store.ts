import type Keyv from 'keyv';

import { CACHE_FORMAT_VERSION } from '../fingerprint/cache-format.js';
import { hashValue } from '../fingerprint/hash.js';

/** An entry as stored: the value, the format it was written in, and the hash of its content. */
interface StoredEntry {
  readonly format: number;
  readonly sha256: string;
  readonly value: unknown;
}

/** Told when an entry fails its check; the entry has been removed. */
export type CorruptEntryListener = (key: string, reason: string) => void;

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
  ) {}

  async get(key: string): Promise<T | undefined> {
    let raw: unknown;
    try {
      raw = await this.keyv.get(key);
    } catch (error) {
      // The store could not even decode the entry.
      return this.discard(key, `unreadable (${error instanceof Error ? error.message : error})`);
    }
    if (raw === undefined || raw === null) return undefined;

    const entry = raw as Partial<StoredEntry>;
    if (typeof entry !== 'object' || typeof entry.sha256 !== 'string' || !('value' in entry)) {
      return this.discard(key, 'not in the format kwgraph writes');
    }
    if (entry.format !== CACHE_FORMAT_VERSION) {
      return this.discard(key, `written in cache format ${entry.format}`);
    }
    if (hashValue(entry.value) !== entry.sha256) {
      return this.discard(key, 'its content does not match its hash');
    }
    return entry.value as T;
  }

  /** Stores `value`; resolves once the store has committed it. */
  async set(key: string, value: T): Promise<void> {
    const entry: StoredEntry = {
      format: CACHE_FORMAT_VERSION,
      sha256: hashValue(value),
      value,
    };
    await this.keyv.set(key, entry);
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
