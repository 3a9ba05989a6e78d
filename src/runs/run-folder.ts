import { fileHashCacheFor } from '../fingerprint/file-hash-cache.js';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';

import { hashBytes, type ContentHash } from '../fingerprint/hash.js';
import type { RunId } from '../plan/run-id.js';
import type { OutputLine, RunManifest } from './run-manifest.js';

/** Where a run is materialised: `cache/runs/<run id>/`. */
export function runFolder(root: string, id: RunId): string {
  return path.join(root, 'cache', 'runs', id);
}

let temporaryCount = 0;

/**
 * Writes a file so that a reader (or a crash) sees the old content or the new, never half of
 * it: write a temporary file beside it, flush it to disk, then rename over. The flush comes
 * before the rename so that after a power cut the name never points at unwritten blocks.
 */
export async function writeFileAtomic(file: string, content: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.${++temporaryCount}.tmp`;
  try {
    const handle = await open(temporary, 'w');
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  await syncFolder(path.dirname(file));
}

/** Flushes a folder's entries (a rename) to disk; not every system can, and then it is skipped. */
async function syncFolder(folder: string): Promise<void> {
  try {
    const handle = await open(folder, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Windows cannot open a folder for syncing; its renames are durable enough for this.
  }
}

export async function readManifest(root: string, id: RunId): Promise<RunManifest | undefined> {
  try {
    return JSON.parse(await readFile(path.join(runFolder(root, id), 'manifest.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Readies a run folder for a new build of the run. The manifest goes first: until a new one is
 * written, the run counts as not built, whatever else the folder holds. Then what a build
 * killed halfway left behind (temporary files) and what the new build may not rewrite (metrics
 * of a run that no longer aggregates) go too. The index of the last build and the journal of
 * an unfinished one stay until the new index replaces them: they name the cache entries those
 * builds paid for, which `cache gc` must keep.
 */
export async function invalidateRun(root: string, id: RunId): Promise<void> {
  const folder = runFolder(root, id);
  await rm(path.join(folder, 'manifest.json'), { force: true });
  let names: string[] = [];
  try {
    names = await readdir(folder);
  } catch {
    return;
  }
  for (const name of names) {
    if (name.endsWith('.tmp') || name === 'metrics.json') {
      await rm(path.join(folder, name), { force: true });
    }
  }
}

/** Whether a run folder exists without a manifest: a build of the run started and never ended. */
export async function hasUnfinishedBuild(root: string, id: RunId): Promise<boolean> {
  try {
    const names = await readdir(runFolder(root, id));
    return !names.includes('manifest.json') && names.length > 0;
  } catch {
    return false;
  }
}

/** The hash of a run's outputs.jsonl as it is on disk now; undefined when it is missing. */
export async function outputsFileHash(root: string, id: RunId): Promise<ContentHash | undefined> {
  // Through the stat cache: a no-op build checks every run's outputs without re-reading them.
  const files = await fileHashCacheFor(root);
  return (await files.hashIfExists(outputsPath(root, id))) ?? undefined;
}

export async function readOutputs(root: string, id: RunId): Promise<OutputLine[]> {
  const text = await readFile(path.join(runFolder(root, id), 'outputs.jsonl'), 'utf8');
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as OutputLine);
}

export function outputsPath(root: string, id: RunId): string {
  return path.join(runFolder(root, id), 'outputs.jsonl');
}
