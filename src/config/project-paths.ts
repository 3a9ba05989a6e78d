import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

import { closestMatch } from './did-you-mean.js';

/**
 * Paths in config files are relative (to the project root, or to a flow folder) and must stay
 * inside the project: a run's fingerprint hashes the files it reads, and a project that reaches
 * outside itself could not be moved, shared or cached faithfully.
 */

export type ProjectPath =
  | {
      readonly ok: true;
      /** POSIX, relative to the project root; '' for the root. */ readonly path: string;
    }
  | { readonly ok: false; readonly message: string; readonly hint: string };

/**
 * Resolves `written` against `baseDir` (POSIX, relative to the root; '' for the root) and
 * rejects absolute paths and paths that climb out of the project.
 */
export function resolveProjectPath(written: string, baseDir: string): ProjectPath {
  if (path.posix.isAbsolute(written) || path.win32.isAbsolute(written)) {
    return {
      ok: false,
      message: `absolute path \`${written}\` is not allowed`,
      hint: 'write the path relative to the project root (or, in a flow, to the flow folder)',
    };
  }
  const joined = path.posix.normalize(path.posix.join(baseDir === '' ? '.' : baseDir, written));
  if (joined === '..' || joined.startsWith('../')) {
    return {
      ok: false,
      message: `path \`${written}\` leads outside the project`,
      hint: 'keep every file the experiment uses inside the project folder',
    };
  }
  return { ok: true, path: joined === '.' ? '' : joined.replace(/\/$/, '') };
}

export type FileKind = 'file' | 'directory' | 'missing';

/** What is at `relativePath` under `root`; symlinks are followed. */
export async function fileKind(root: string, relativePath: string): Promise<FileKind> {
  try {
    const stats = await stat(path.join(root, relativePath));
    if (stats.isDirectory()) return 'directory';
    return stats.isFile() ? 'file' : 'missing';
  } catch {
    return 'missing';
  }
}

/** Extensions a code module or a module connection may have: what Node and tsx can import. */
export const MODULE_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs'] as const;

export function isModulePath(file: string): boolean {
  return MODULE_EXTENSIONS.some((extension) => file.endsWith(extension));
}

/**
 * `; did you mean `data/products.jsonl`?` when the folder of a missing file holds a file with a
 * similar name (the usual cause: a typo or a wrong extension), else the empty string.
 */
export async function suggestSibling(root: string, relativePath: string): Promise<string> {
  const folder = path.posix.dirname(relativePath);
  let entries: string[];
  try {
    entries = await readdir(path.join(root, folder));
  } catch {
    return '';
  }
  const match = closestMatch(path.posix.basename(relativePath), entries);
  return match === undefined ? '' : `; did you mean \`${path.posix.join(folder, match)}\`?`;
}
