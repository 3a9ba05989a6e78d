import path from 'node:path';

import type { RunId } from '../plan/run-id.js';
import { sleep } from '../util/interrupt.js';
import { tryLock, type HeldLock, type LockHolder } from './file-lock.js';

/** Where the locks of a project live: `cache/locks/`. */
export function locksFolder(root: string): string {
  return path.join(root, 'cache', 'locks');
}

/** The lock a build holds while it executes a run: `cache/locks/runs/<run id>.lock`. */
export function runLockTarget(root: string, id: RunId): string {
  return path.join(locksFolder(root), 'runs', id);
}

export interface RunLockOptions {
  readonly signal?: AbortSignal;
  /** Told once, when the run is held by another build and this one starts waiting. */
  readonly onWait: (holder: LockHolder | undefined) => void;
  readonly onCompromised: (message: string) => void;
}

/**
 * Takes a run's lock, waiting while another build holds it. Two builds of one project thus
 * never execute the same run at once; the one that waited finds the run built when it gets
 * the lock, and must check its freshness again before executing anything.
 *
 * Throws Interrupted when `signal` aborts while waiting.
 */
export async function lockRun(root: string, id: RunId, options: RunLockOptions): Promise<HeldLock> {
  const target = runLockTarget(root, id);
  let waited = false;
  for (let delay = 50; ; delay = Math.min(delay * 2, 500)) {
    const attempt = await tryLock(target, options.onCompromised);
    if (attempt.acquired) return attempt.lock;
    if (!waited) {
      waited = true;
      options.onWait(attempt.holder);
    }
    await sleep(delay, options.signal);
  }
}
