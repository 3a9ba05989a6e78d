import { appendFile, readFile, rm } from 'node:fs/promises';
import path from 'node:path';

import type { CallKey, RowKey } from '../cache/cache-keys.js';
import { CACHE_FORMAT_VERSION } from '../fingerprint/cache-format.js';
import { hashValue } from '../fingerprint/hash.js';
import type { RunId } from '../plan/run-id.js';
import { runFolder, writeFileAtomic } from './run-folder.js';

/**
 * `index.json` of a built run: for every row, in input order, its key, a short hash of its
 * dataset row and the row-cache key of its result; and every call-cache key the run used.
 * `status` compares the row hashes with the dataset to say how many rows changed; `cache gc`
 * keeps exactly the cache entries that some run's index names.
 */
export interface RunIndex {
  readonly version: number;
  /** `[row key, dataset row hash, row-cache key or null when the row never got one]`. */
  readonly rows: readonly (readonly [string, string, RowKey | null])[];
  readonly calls: readonly CallKey[];
}

/** One journal line: the cache entries one row of an unfinished build stored or used. */
interface JournalLine {
  readonly row: RowKey | null;
  readonly calls: readonly CallKey[];
}

const INDEX_FILE = 'index.json';
/**
 * While a run executes, each finished row appends its cache keys here, so that `cache gc` after
 * an interrupted build keeps the rows and calls it already paid for. Removed once the run's
 * index is written.
 */
const JOURNAL_FILE = 'index.journal';

/**
 * A short hash of a dataset row's content: 64 bits tell an edited row from an unchanged one,
 * at a quarter of the size of a full hash in an index of many thousands of rows.
 */
const rowHashes = new WeakMap<object, string>();
export function rowDataHash(data: object): string {
  let hash = rowHashes.get(data);
  if (hash === undefined) {
    hash = hashValue(data).slice(0, 16);
    rowHashes.set(data, hash);
  }
  return hash;
}

export async function writeRunIndex(root: string, id: RunId, index: RunIndex): Promise<void> {
  await writeFileAtomic(path.join(runFolder(root, id), INDEX_FILE), `${JSON.stringify(index)}\n`);
}

/** A run's index; undefined when it has none or one from another cache format. */
export async function readRunIndex(root: string, id: RunId): Promise<RunIndex | undefined> {
  try {
    const index = JSON.parse(
      await readFile(path.join(runFolder(root, id), INDEX_FILE), 'utf8'),
    ) as RunIndex;
    return index.version === CACHE_FORMAT_VERSION ? index : undefined;
  } catch {
    return undefined;
  }
}

export function newRunIndex(
  rows: readonly (readonly [string, string, RowKey | null])[],
  calls: Iterable<CallKey>,
): RunIndex {
  return { version: CACHE_FORMAT_VERSION, rows, calls: [...new Set(calls)].sort() };
}

/** Records the cache keys of one finished row of a run that is still executing. */
export async function journalRow(
  root: string,
  id: RunId,
  row: RowKey | null,
  calls: readonly CallKey[],
): Promise<void> {
  if (row === null && calls.length === 0) return;
  const line: JournalLine = { row, calls };
  await appendLine(path.join(runFolder(root, id), JOURNAL_FILE), `${JSON.stringify(line)}\n`);
}

export async function removeJournal(root: string, id: RunId): Promise<void> {
  const file = path.join(runFolder(root, id), JOURNAL_FILE);
  await appends.get(file)?.written;
  await rm(file, { force: true });
}

/** Lines waiting to be appended to a journal, and the write they will go out with. */
interface PendingAppends {
  lines: string[];
  /** Resolves once these lines are in the file. */
  written: Promise<void>;
}

const appends = new Map<string, PendingAppends>();

/**
 * Appends a line to a file, resolving once it is written. The rows of a run finish many at
 * a time: lines that arrive while a write is under way go out together in the next one, one
 * append instead of an open, write and close per line.
 */
function appendLine(file: string, line: string): Promise<void> {
  const pending = appends.get(file);
  if (pending !== undefined && pending.lines.length > 0) {
    pending.lines.push(line);
    return pending.written;
  }
  const lines = [line];
  const previous = pending?.written.catch(() => {}) ?? Promise.resolve();
  const next: PendingAppends = {
    lines,
    written: previous.then(async () => {
      // From here on, new lines wait for the next write.
      next.lines = [];
      try {
        await appendFile(file, lines.join(''));
      } finally {
        if (appends.get(file) === next) appends.delete(file);
      }
    }),
  };
  appends.set(file, next);
  return next.written;
}

/**
 * Every cache key a run folder names: its index and the journal of an unfinished build. A line
 * torn by a crash is skipped.
 */
export async function keysNamedBy(
  root: string,
  id: RunId,
): Promise<{ rows: Set<string>; calls: Set<string> }> {
  const rows = new Set<string>();
  const calls = new Set<string>();
  const index = await readRunIndex(root, id);
  for (const [, , key] of index?.rows ?? []) if (key !== null) rows.add(key);
  for (const key of index?.calls ?? []) calls.add(key);

  let journal = '';
  try {
    journal = await readFile(path.join(runFolder(root, id), JOURNAL_FILE), 'utf8');
  } catch {
    // No unfinished build.
  }
  for (const text of journal.split('\n')) {
    if (text === '') continue;
    try {
      const line = JSON.parse(text) as JournalLine;
      if (line.row) rows.add(line.row);
      for (const key of line.calls ?? []) calls.add(key);
    } catch {
      continue;
    }
  }
  return { rows, calls };
}
