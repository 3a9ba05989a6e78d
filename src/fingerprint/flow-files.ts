import { stat } from 'node:fs/promises';
import path from 'node:path';

import fg from 'fast-glob';

import { fileHashCacheFor } from './file-hash-cache.js';
import type { ContentHash } from './hash.js';

/** What never belongs to a flow's definition: caches, dependencies, editor and VCS files. */
const IGNORED = ['**/node_modules/**', '**/__pycache__/**', '**/*.pyc', '**/.*', '**/.*/**'];

/**
 * Hashes every file of a flow folder, and of the files and folders it includes from elsewhere,
 * keyed by path relative to the project root. Every file counts, not only the ones flow.yaml
 * names: a helper module or a data file a node reads is as much part of the flow, and re-running
 * on a change nobody needed is cheaper than a stale result. Unchanged files are not read again
 * (see FileHashCache).
 */
export async function hashFlowFiles(
  root: string,
  flowDir: string,
  includes: readonly string[] = [],
): Promise<Record<string, ContentHash>> {
  const files = new Set(await filesUnder(root, flowDir));
  for (const included of includes) {
    if ((await stat(path.join(root, included))).isDirectory()) {
      for (const file of await filesUnder(root, included)) files.add(file);
    } else {
      files.add(included);
    }
  }
  const sorted = [...files].sort();

  const cache = await fileHashCacheFor(root);
  const hashed = await Promise.all(sorted.map((file) => cache.hash(file)));
  return Object.fromEntries(sorted.map((file, index) => [file, hashed[index] as ContentHash]));
}

/** The files below a folder, relative to the project root; none for a file. */
async function filesUnder(root: string, dir: string): Promise<string[]> {
  const files = await fg('**/*', {
    cwd: path.join(root, dir),
    ignore: IGNORED,
    dot: false,
    onlyFiles: true,
    followSymbolicLinks: false,
  });
  return files.map((file) => path.posix.join(dir, file));
}

/** Hashes one file of the project (a connection module, a dataset). */
export async function hashProjectFile(root: string, file: string): Promise<ContentHash> {
  return (await fileHashCacheFor(root)).hash(file);
}
