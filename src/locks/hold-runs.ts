import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';

import type { RunId } from '../plan/run-id.js';
import { fail, ok, type Result } from '../util/result.js';
import {
  isLockLeftover,
  lockState,
  STALE_MS,
  tryLock,
  type HeldLock,
  type LockHolder,
} from './file-lock.js';
import { locksFolder, runLockTarget } from './run-lock.js';

/** Why the cache cannot be changed now: a build is using it. */
export interface CacheInUse {
  /** The run (or call) being worked on. */
  readonly what: string;
  readonly holder: LockHolder | undefined;
}

/**
 * Takes the lock of every run in `ids` without waiting, and checks that no other build holds
 * any run or call lock: what `cache gc` and `cache clear` need before deleting. While they
 * hold these locks no build can start executing one of the runs, so none opens the store.
 */
export async function holdRuns(
  root: string,
  ids: readonly RunId[],
): Promise<Result<{ release(): Promise<void> }, CacheInUse>> {
  const held: HeldLock[] = [];
  const release = async () => {
    for (const lock of held) await lock.release();
  };

  const busy = await liveLock(root);
  if (busy !== undefined) return fail(busy);
  for (const id of ids) {
    const attempt = await tryLock(runLockTarget(root, id));
    if (!attempt.acquired) {
      await release();
      return fail({ what: id, holder: attempt.holder });
    }
    held.push(attempt.lock);
  }
  return ok({ release });
}

/** A run or call lock of this project whose holder may be alive, if any. */
async function liveLock(root: string): Promise<CacheInUse | undefined> {
  for (const kind of ['runs', 'calls']) {
    const folder = path.join(locksFolder(root), kind);
    let names: string[];
    try {
      names = await readdir(folder);
    } catch {
      continue;
    }
    for (const name of names) {
      if (!name.endsWith('.lock')) continue;
      const target = path.join(folder, name.slice(0, -'.lock'.length));
      const state = await lockState(target);
      if (state.held) {
        const what = kind === 'runs' ? name.slice(0, -'.lock'.length) : 'an LLM call';
        return { what, holder: state.holder };
      }
    }
  }
  return undefined;
}

/**
 * Removes what dead builds left in `cache/locks`: locks no live process holds, and the
 * directories of lock acquisitions and breaks cut short. Returns how many it removed.
 */
export async function sweepLocks(root: string): Promise<number> {
  let removed = 0;
  for (const kind of ['runs', 'calls']) {
    const folder = path.join(locksFolder(root), kind);
    let names: string[];
    try {
      names = await readdir(folder);
    } catch {
      continue;
    }
    for (const name of names) {
      const entry = path.join(folder, name);
      let remove = false;
      if (name.endsWith('.lock')) {
        remove = !(await lockState(entry.slice(0, -'.lock'.length))).held;
      } else if (isLockLeftover(name)) {
        const age = Date.now() - (await stat(entry).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
        remove = age > STALE_MS;
      }
      if (remove) {
        await rm(entry, { recursive: true, force: true });
        removed++;
      }
    }
  }
  return removed;
}
