import { readFile } from 'node:fs/promises';
import path from 'node:path';

import fg from 'fast-glob';

import { hashBytes, type ContentHash } from './hash.js';

/** What never belongs to a flow's definition: caches, dependencies, editor and VCS files. */
const IGNORED = ['**/node_modules/**', '**/__pycache__/**', '**/*.pyc', '**/.*', '**/.*/**'];

/**
 * Hashes every file of a flow folder, keyed by path relative to the project root. Every file
 * counts, not only the ones flow.yaml names: a helper module or a data file a node reads is as
 * much part of the flow, and re-running on a change nobody needed is cheaper than a stale result.
 */
export async function hashFlowFiles(
  root: string,
  flowDir: string,
): Promise<Record<string, ContentHash>> {
  const files = await fg('**/*', {
    cwd: path.join(root, flowDir),
    ignore: IGNORED,
    dot: false,
    onlyFiles: true,
    followSymbolicLinks: false,
  });
  files.sort();

  const hashes: Record<string, ContentHash> = {};
  await Promise.all(
    files.map(async (file) => {
      const bytes = await readFile(path.join(root, flowDir, file));
      hashes[path.posix.join(flowDir, file)] = hashBytes(bytes);
    }),
  );
  return hashes;
}

/** Hashes one file of the project (a connection module, a dataset). */
export async function hashProjectFile(root: string, file: string): Promise<ContentHash> {
  return hashBytes(await readFile(path.join(root, file)));
}
