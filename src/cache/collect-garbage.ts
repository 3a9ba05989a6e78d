import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';

import type { BuildContext } from '../execute/build-context.js';
import { holdRuns, sweepLocks, type CacheInUse } from '../locks/hold-runs.js';
import type { RunId } from '../plan/run-id.js';
import { keysNamedBy } from '../runs/run-index.js';
import { ok, type Result } from '../util/result.js';
import { CheckedStore } from './checked-store.js';
import { DEFAULT_CACHE_URL, localCacheUrl, openCacheStores, sqliteFile } from './open-store.js';

/** What `cache gc` removed (or, with dryRun, would remove). */
export interface GarbageReport {
  readonly rowEntries: number;
  readonly callEntries: number;
  /** Row and call entries kept because a run of the experiment names them. */
  readonly keptEntries: number;
  /** Folders under cache/runs of runs the experiment no longer has. */
  readonly runFolders: readonly string[];
}

/**
 * Removes what no run of the experiment as it is now refers to: row and call cache entries
 * that no run's index (or the journal of an unfinished build) names, and run folders of runs
 * no longer in the plan, and locks left by builds that died. A run that is stale still keeps
 * what its last build used: changing a prompt back must not cost anything.
 */
export async function collectGarbage(
  context: BuildContext,
  options: { readonly dryRun: boolean },
): Promise<Result<GarbageReport, CacheInUse>> {
  const root = context.root;
  const planned = new Set<string>(context.graph.runs.map((run) => run.id));
  const held = await holdRuns(root, [...planned] as RunId[]);
  if (!held.ok) return held;

  try {
    const rows = new Set<string>();
    const calls = new Set<string>();
    for (const id of planned) {
      const named = await keysNamedBy(root, id as RunId);
      for (const key of named.rows) rows.add(key);
      for (const key of named.calls) calls.add(key);
    }

    let rowEntries = 0;
    let callEntries = 0;
    let keptEntries = 0;
    // The local layer only: a shared store behind it is the whole team's.
    const url = localCacheUrl(context.project.experiment.cache ?? DEFAULT_CACHE_URL);
    // Opening a SQLite store creates its file; a project never built has nothing to collect.
    if (!url.startsWith('sqlite:') || existsSync(sqliteFile(url, root))) {
      const stores = await openCacheStores(url, root);
      try {
        const unusedRows = await unusedKeys(new CheckedStore(stores.rows), rows);
        const unusedCalls = await unusedKeys(new CheckedStore(stores.calls), calls);
        rowEntries = unusedRows.unused.length;
        callEntries = unusedCalls.unused.length;
        keptEntries = unusedRows.kept + unusedCalls.kept;
        if (!options.dryRun && rowEntries + callEntries > 0) {
          await new CheckedStore(stores.rows).deleteMany(unusedRows.unused);
          await new CheckedStore(stores.calls).deleteMany(unusedCalls.unused);
          await stores.compact();
        }
      } finally {
        await stores.close();
      }
    }

    const runFolders = (await runFolderNames(root)).filter((name) => !planned.has(name));
    if (!options.dryRun) {
      for (const name of runFolders) {
        await rm(path.join(root, 'cache', 'runs', name), { recursive: true, force: true });
      }
      await sweepLocks(root);
    }
    return ok({ rowEntries, callEntries, keptEntries, runFolders });
  } finally {
    await held.value.release();
  }
}

async function unusedKeys(
  store: CheckedStore<unknown>,
  referenced: ReadonlySet<string>,
): Promise<{ unused: string[]; kept: number }> {
  const keys = await store.keys();
  const unused = keys.filter((key) => !referenced.has(key));
  return { unused, kept: keys.length - unused.length };
}

/** The folders under cache/runs. */
export async function runFolderNames(root: string): Promise<string[]> {
  try {
    const entries = await readdir(path.join(root, 'cache', 'runs'), { withFileTypes: true });
    return entries
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
  } catch {
    return [];
  }
}
