import { readFile } from 'node:fs/promises';
import path from 'node:path';

import type { CallRecord } from '../flow/execute-flow-row.js';
import type { RunId } from '../plan/run-id.js';
import { readManifest, readOutputs, runFolder } from '../runs/run-folder.js';
import type { OutputLine, RunManifest } from '../runs/run-manifest.js';

/**
 * Every read of a materialised run that the result commands (compare, show, export, report)
 * make goes through this file, so a change in what a run folder holds is absorbed here.
 */

/** One line of a run's `trace.jsonl`: what a row was given, what each node said, which calls. */
export interface TraceLine {
  readonly key: string;
  readonly index: number;
  /** The flow inputs; null when they could not be resolved (the row failed before any node). */
  readonly inputs: Record<string, unknown> | null;
  /** Node name → output, in execution order; null when the row failed. */
  readonly nodes: Record<string, unknown> | null;
  readonly calls: readonly CallRecord[];
}

export function readRunManifest(root: string, id: RunId): Promise<RunManifest | undefined> {
  return readManifest(root, id);
}

/** The run's output lines in row order; empty when the run folder has none. */
export async function readRunOutputs(root: string, id: RunId): Promise<OutputLine[]> {
  try {
    return await readOutputs(root, id);
  } catch (error) {
    if (isMissingFile(error)) return [];
    throw error;
  }
}

/** The run's trace lines in row order; empty when the run folder has none. */
export async function readRunTrace(root: string, id: RunId): Promise<TraceLine[]> {
  const text = await readOptional(path.join(runFolder(root, id), 'trace.jsonl'));
  if (text === undefined) return [];
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as TraceLine);
}

/** What the run's aggregation nodes returned (`metrics.json`), if it has any. */
export async function readRunMetrics(root: string, id: RunId): Promise<unknown> {
  const text = await readOptional(path.join(runFolder(root, id), 'metrics.json'));
  return text === undefined ? undefined : (JSON.parse(text) as unknown);
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if (isMissingFile(error)) return undefined;
    throw error;
  }
}

function isMissingFile(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}
