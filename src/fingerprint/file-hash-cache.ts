import { statSync, type BigIntStats } from 'node:fs';
import { open, readFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

import pLimit from 'p-limit';

import { writeFileAtomic } from '../runs/run-folder.js';
import { hashBytes, hashValue, type ContentHash } from './hash.js';

/** Where the stat cache lives, relative to the project root. */
export const STAT_CACHE_FILE = 'cache/stat-cache.json';
const FORMAT = 1;

/**
 * A file whose mtime is this close to the moment its hash was recorded is not trusted later: a
 * second write within the same timestamp tick (a second or two on some file systems, a few
 * milliseconds on others) would leave size, times and inode unchanged. Git calls such entries
 * "racily clean" and re-checks them; so does this cache, until a later look records the file
 * when it is old enough. (A write that also puts an old mtime back changes the ctime, which is
 * part of the signature.)
 */
const RACY_WINDOW_NS = 2_000_000_000n;

/** Files read or stat'ed at once: enough to keep the disk busy, far below the open-file limit. */
const FILE_CONCURRENCY = 32;

/** size, mtime, ctime (nanoseconds), inode and device, as one comparable string. */
type Signature = string & { readonly __brand: 'Signature' };

interface FileEntry {
  readonly signature: Signature;
  readonly hash: ContentHash;
  /** False when the file changed so close to the recording that the signature cannot vouch. */
  readonly trusted: boolean;
}

/** A value computed from files, reused while every one of them still has the same content. */
export interface DerivedValue {
  readonly value: string;
  /** The files it was computed from (project-relative or absolute), in a fixed order. */
  readonly files: readonly string[];
}

interface StoredDerived extends DerivedValue {
  /** Hash of the files' content hashes (null for a missing file), in `files` order. */
  readonly filesHash: ContentHash;
  /** When it was last used (ms since the epoch): the least recently used go first. */
  usedAt: number;
}

/**
 * Derived values kept. Each dataset version leaves one behind; old ones are dropped, least
 * recently used first, so the file stays small however often a dataset is edited.
 */
const MAX_DERIVED = 256;

interface StoredCache {
  readonly format: number;
  readonly files: Record<string, [Signature, ContentHash]>;
  readonly derived: Record<string, StoredDerived>;
}

/**
 * Content hashes of a project's files, re-read only when a file's stat signature (size, mtime
 * and ctime in nanoseconds, inode, device) changed, as DVC and git do. Persisted in
 * `cache/stat-cache.json`, so a build that changes nothing reads no file twice across builds.
 *
 * It also keeps values derived from many files (e.g. the hash of every image a dataset's rows
 * point at): such a value is reused while each of its files still hashes the same, which costs
 * a stat per file instead of re-reading and re-parsing what led to them.
 *
 * Never a stale hash: a signature mismatch, or a file modified too close to when it was hashed,
 * means reading the file again. Losing the stat cache file only costs time.
 */
export class FileHashCache {
  private readonly entries = new Map<string, FileEntry>();
  private readonly derivedValues = new Map<string, StoredDerived>();
  private readonly inFlight = new Map<string, Promise<ContentHash | null>>();
  private readonly limit = pLimit(FILE_CONCURRENCY);
  private dirty = false;
  private reads = 0;

  private readonly rootPrefix: string;

  private constructor(readonly root: string) {
    this.rootPrefix = root.endsWith(path.sep) ? root : `${root}${path.sep}`;
  }

  /** The cache of a project, as stored; an unreadable or outdated file starts it empty. */
  static async load(root: string): Promise<FileHashCache> {
    const cache = new FileHashCache(root);
    let stored: StoredCache | undefined;
    try {
      stored = JSON.parse(await readFile(path.join(root, STAT_CACHE_FILE), 'utf8')) as StoredCache;
    } catch {
      stored = undefined;
    }
    if (stored?.format === FORMAT) {
      for (const [file, [signature, hash]] of Object.entries(stored.files ?? {})) {
        cache.entries.set(file, { signature, hash, trusted: true });
      }
      for (const [key, derived] of Object.entries(stored.derived ?? {})) {
        cache.derivedValues.set(key, derived);
      }
    }
    return cache;
  }

  /** How many files this cache has read (and hashed) so far: what it exists to keep low. */
  get filesRead(): number {
    return this.reads;
  }

  /** The content hash of a file (relative to the root, or absolute); throws when unreadable. */
  async hash(file: string): Promise<ContentHash> {
    const hash = await this.hashIfExists(file);
    if (hash === null) {
      const error = new Error(`ENOENT: no such file, ${file}`) as NodeJS.ErrnoException;
      error.code = 'ENOENT';
      throw error;
    }
    return hash;
  }

  /**
   * The content hash of a file, or null when there is no file to read there (missing, a
   * folder, not permitted). Other failures (out of file handles, I/O errors) throw: a hash must
   * never silently stand for "could not look".
   */
  hashIfExists(file: string): Promise<ContentHash | null> {
    const key = this.keyOf(file);
    // Concurrent asks for one file share one read.
    const pending = this.inFlight.get(key);
    if (pending !== undefined) return pending;

    let stats: BigIntStats | undefined;
    try {
      // Synchronous on purpose: a stat answers in microseconds, and a no-op build makes one per
      // image; a round trip through the thread pool costs several times the stat itself.
      stats = statSync(this.absolute(key), { bigint: true, throwIfNoEntry: false });
    } catch (error) {
      if (isNoFile(error)) return Promise.resolve(this.forget(key));
      return Promise.reject(error);
    }
    if (stats === undefined || !stats.isFile()) return Promise.resolve(this.forget(key));
    const known = this.entries.get(key);
    if (known !== undefined && known.trusted && known.signature === signatureOf(stats)) {
      return Promise.resolve(known.hash);
    }

    const reading = this.limit(() => this.readRecording(key))
      .then((read) => read?.hash ?? null)
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, reading);
    return reading;
  }

  /**
   * Reads a file whole and returns its bytes with their hash, recording the hash so a later
   * look at the unchanged file needs no read. For callers that need the content anyway.
   */
  async read(file: string): Promise<{ bytes: Buffer; hash: ContentHash }> {
    const key = this.keyOf(file);
    const read = await this.limit(() => this.readRecording(key));
    if (read === null) {
      const error = new Error(`ENOENT: no such file, ${file}`) as NodeJS.ErrnoException;
      error.code = 'ENOENT';
      throw error;
    }
    return read;
  }

  /**
   * A derived value stored under `key`, if every file it was computed from still has the same
   * content. `key` must identify everything else the value depends on.
   */
  async derived(key: string): Promise<string | undefined> {
    const stored = this.derivedValues.get(key);
    if (stored === undefined) return undefined;
    const hashes = await Promise.all(stored.files.map((file) => this.hashIfExists(file)));
    if (hashValue(hashes) !== stored.filesHash) return undefined;
    // Not worth a write by itself; recorded whenever the cache is saved for another reason.
    stored.usedAt = Date.now();
    return stored.value;
  }

  /** Stores a derived value and the hashes its files have now. */
  async remember(key: string, derived: DerivedValue): Promise<void> {
    const files = derived.files.map((file) => this.keyOf(file));
    const hashes = await Promise.all(files.map((file) => this.hashIfExists(file)));
    this.derivedValues.set(key, {
      value: derived.value,
      files,
      filesHash: hashValue(hashes),
      usedAt: Date.now(),
    });
    this.dirty = true;
  }

  /**
   * Writes the cache if anything was learnt (atomically: a reader sees old or new, whole).
   *
   * NOTE: a file's entry goes only when the file is found missing; entries of files no build
   * looks at any more stay. Concurrent builds each write what they know, the last one wins:
   * that only costs the other's entries, never correctness (entries are checked by stat).
   */
  async save(): Promise<void> {
    if (!this.dirty) return;
    const files: Record<string, [Signature, ContentHash]> = {};
    for (const [file, entry] of [...this.entries].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (entry.trusted) files[file] = [entry.signature, entry.hash];
    }
    const recent = [...this.derivedValues]
      .sort(([, a], [, b]) => b.usedAt - a.usedAt)
      .slice(0, MAX_DERIVED);
    const stored: StoredCache = { format: FORMAT, files, derived: Object.fromEntries(recent) };
    await writeFileAtomic(path.join(this.root, STAT_CACHE_FILE), JSON.stringify(stored));
    this.dirty = false;
  }

  /** Project-relative POSIX paths for files inside the root (the cache survives a move). */
  private keyOf(file: string): string {
    // The common cases without path.resolve: per-row lookups make this hot.
    if (path.isAbsolute(file)) {
      if (!file.startsWith(this.rootPrefix) || file.includes(`${path.sep}..`)) {
        return this.keyOfResolved(path.resolve(file));
      }
      const relative = file.slice(this.rootPrefix.length);
      return path.sep === '/' ? relative : relative.split(path.sep).join('/');
    }
    return this.keyOfResolved(path.resolve(this.root, file));
  }

  private absolute(key: string): string {
    return path.isAbsolute(key) ? key : path.join(this.root, key);
  }

  private keyOfResolved(absolute: string): string {
    const relative = path.relative(this.root, absolute);
    return relative.startsWith('..') || path.isAbsolute(relative)
      ? absolute
      : relative.split(path.sep).join('/');
  }

  /**
   * Reads a file and records its hash under the signature it had before and after the read;
   * a file that changed during the read is hashed but not recorded.
   */
  private async readRecording(key: string): Promise<{ bytes: Buffer; hash: ContentHash } | null> {
    let handle: FileHandle;
    try {
      handle = await open(this.absolute(key), 'r');
    } catch (error) {
      if (isNoFile(error)) return this.forget(key);
      throw error;
    }
    try {
      const before = await handle.stat({ bigint: true });
      if (!before.isFile()) return this.forget(key);
      // Taken before reading: a write after this moment shows as a time at or after it.
      const recordedNs = BigInt(Date.now()) * 1_000_000n;
      const bytes = await handle.readFile();
      this.reads++;
      const after = await handle.stat({ bigint: true });
      const hash = hashBytes(bytes);

      const signature = signatureOf(after);
      if (signature === signatureOf(before)) {
        const trusted = after.mtimeNs < recordedNs - RACY_WINDOW_NS;
        const known = this.entries.get(key);
        if (known?.signature !== signature || known.hash !== hash || known.trusted !== trusted) {
          this.entries.set(key, { signature, hash, trusted });
          this.dirty = true;
        }
      } else {
        this.forget(key);
      }
      return { bytes, hash };
    } finally {
      await handle.close();
    }
  }

  private forget(key: string): null {
    if (this.entries.delete(key)) this.dirty = true;
    return null;
  }
}

function signatureOf(stats: BigIntStats): Signature {
  return `${stats.size}:${stats.mtimeNs}:${stats.ctimeNs}:${stats.ino}:${stats.dev}` as Signature;
}

function isNoFile(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR' || code === 'EACCES';
}

const caches = new Map<string, Promise<FileHashCache>>();

/**
 * The process's file hash cache for a project root, loaded on first use. One per root, so the
 * planner, the fingerprints and the row cache keys of one build share what they learn.
 */
export function fileHashCacheFor(root: string): Promise<FileHashCache> {
  const resolved = path.resolve(root);
  let cache = caches.get(resolved);
  if (cache === undefined) {
    cache = FileHashCache.load(resolved);
    caches.set(resolved, cache);
  }
  return cache;
}
