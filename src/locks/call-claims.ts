import path from 'node:path';

import type { CallKey } from '../cache/cache-keys.js';
import { tryLock, type LockAttempt } from './file-lock.js';
import { locksFolder } from './run-lock.js';

/**
 * Claims on LLM calls across the builds of one project. The process that claims a request sends
 * it and stores the answer; another that needs the same request meanwhile waits for the answer
 * instead of paying for it again. Runs are locked too, but two different runs (or two samples
 * of a row) can share a request, so the run locks alone would not keep it from being sent twice.
 */
export class CallClaims {
  constructor(
    private readonly root: string,
    private readonly onCompromised: (message: string) => void,
  ) {}

  tryClaim(key: CallKey): Promise<LockAttempt> {
    const name = key.replace(/^call:/, '');
    return tryLock(path.join(locksFolder(this.root), 'calls', name), this.onCompromised);
  }
}
