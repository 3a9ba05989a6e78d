import path from 'node:path';

import fg from 'fast-glob';

import { fileHashCacheFor } from './file-hash-cache.js';
import type { ContentHash } from './hash.js';

/** What never belongs to a flow's definition: caches, dependencies, editor and VCS files. */
const IGNORED = ['**/node_modules/**', '**/__pycache__/**', '**/*.pyc', '**/.*', '**/.*/**'];

/**
 * Hashes every file of a flow folder, keyed by path relative to the project root. Every file
 * counts, not only the ones flow.yaml names: a helper module or a data file a node reads is as
 * much part of the flow, and re-running on a change nobody needed is cheaper than a stale result.
 * Unchanged files are not read again (see FileHashCache).
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

  const cache = await fileHashCacheFor(root);
  const hashes: Record<string, ContentHash> = {};
  const hashed = await Promise.all(files.map((file) => cache.hash(path.posix.join(flowDir, file))));
  files.forEach((file, index) => {
    hashes[path.posix.join(flowDir, file)] = hashed[index] as ContentHash;
  });
  return hashes;
}

/** Hashes one file of the project (a connection module, a dataset). */
export async function hashProjectFile(root: string, file: string): Promise<ContentHash> {
  return (await fileHashCacheFor(root)).hash(file);
}
