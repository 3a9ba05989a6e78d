import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';

import type { BuildContext } from '../execute/build-context.js';
import { holdRuns, type CacheInUse } from '../locks/hold-runs.js';
import { ok, type Result } from '../util/result.js';
import { CheckedStore } from './checked-store.js';
import { runFolderNames } from './collect-garbage.js';
import { DEFAULT_CACHE_URL, localCacheUrl, openCacheStores, sqliteFile } from './open-store.js';

/** What `cache clear` deletes. */
export interface CacheContents {
  readonly runFolders: number;
  /** Where the row and call caches are: a file of the project, or a store URL. */
  readonly store: string;
}

/** What a clear would delete, for the question asked before it. */
export async function cacheContents(context: BuildContext): Promise<CacheContents> {
  // The local layer only: a shared store behind it is the whole team's.
  const url = localCacheUrl(context.project.experiment.cache ?? DEFAULT_CACHE_URL);
  return {
    runFolders: (await runFolderNames(context.root)).length,
    store: url.startsWith('sqlite:')
      ? path.relative(context.root, sqliteFile(url, context.root))
      : url,
  };
}

/**
 * Deletes every cached result: all row and call entries of the store and every run folder.
 * Refused while a build of the project is running.
 */
export async function clearCache(context: BuildContext): Promise<Result<void, CacheInUse>> {
  const root = context.root;
  const held = await holdRuns(
    root,
    context.graph.runs.map((run) => run.id),
  );
  if (!held.ok) return held;
  try {
    // The local layer only: a shared store behind it is the whole team's.
    const url = localCacheUrl(context.project.experiment.cache ?? DEFAULT_CACHE_URL);
    if (!url.startsWith('sqlite:') || existsSync(sqliteFile(url, root))) {
      const stores = await openCacheStores(url, root);
      try {
        await new CheckedStore(stores.rows).clear();
        await new CheckedStore(stores.calls).clear();
        await stores.compact();
      } finally {
        await stores.close();
      }
    }
    await rm(path.join(root, 'cache', 'runs'), { recursive: true, force: true });
    return ok(undefined);
  } finally {
    await held.value.release();
  }
}
