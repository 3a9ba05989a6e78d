import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The interpreter python nodes run on: `KWGRAPH_PYTHON`, else the experiment's `python:`
 * (a path relative to the project root, or a command), else the system's /usr/bin/python3 when
 * there is one, else `python3` from PATH.
 *
 * The system interpreter comes before PATH because version managers (pyenv, conda) put their
 * own `python3` first on PATH, which usually lacks the packages the system's package manager
 * installed for the flows (python3-numpy, python3-pandas, ...).
 */
export function pythonInterpreter(
  root: string,
  setting: string | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
): string {
  const chosen = env['KWGRAPH_PYTHON'] || setting;
  if (chosen !== undefined && chosen !== '') {
    // `python3.11` is a command; `.venv/bin/python` a path in the project.
    return chosen.includes('/') ? path.resolve(root, chosen) : chosen;
  }
  return existsSync(SYSTEM_PYTHON) ? SYSTEM_PYTHON : 'python3';
}

const SYSTEM_PYTHON = '/usr/bin/python3';

let runtimeDir: string | undefined;

/**
 * The folder holding the worker script and the `promptflow` stand-ins: `src/python/runtime`
 * of the kwgraph package, found from this module whether it runs from src/ (tests), from
 * dist/ (the CLI) or from an installed package (which ships src/).
 */
export function pythonRuntimeDir(): string {
  if (runtimeDir !== undefined) return runtimeDir;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (isKwgraphPackage(dir)) {
      const candidate = path.join(dir, 'src', 'python', 'runtime');
      if (!existsSync(path.join(candidate, WORKER_SCRIPT))) {
        throw new Error(`internal error: the kwgraph package at ${dir} lacks ${candidate}`);
      }
      runtimeDir = candidate;
      return candidate;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('internal error: kwgraph cannot find its package folder');
    dir = parent;
  }
}

export const WORKER_SCRIPT = 'kwgraph_worker.py';

function isKwgraphPackage(dir: string): boolean {
  try {
    const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
      name?: unknown;
    };
    return manifest.name === 'kwgraph';
  } catch {
    return false;
  }
}
