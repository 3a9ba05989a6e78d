import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

import type { RunId } from '../plan/run-id.js';
import type { OutputLine, RunManifest } from './run-manifest.js';

/** Where a run is materialised: `cache/runs/<run id>/`. */
export function runFolder(root: string, id: RunId): string {
  return path.join(root, 'cache', 'runs', id);
}

/**
 * Writes a file so that a reader (or a crash) sees the old content or the new, never half of
 * it: write a temporary file beside it, then rename over.
 */
export async function writeFileAtomic(file: string, content: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.${Date.now()}.tmp`;
  try {
    await writeFile(temporary, content);
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

export async function readManifest(root: string, id: RunId): Promise<RunManifest | undefined> {
  try {
    return JSON.parse(await readFile(path.join(runFolder(root, id), 'manifest.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

/** Removes the manifest first: until a new one is written, the run counts as not built. */
export async function invalidateRun(root: string, id: RunId): Promise<void> {
  await rm(path.join(runFolder(root, id), 'manifest.json'), { force: true });
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
