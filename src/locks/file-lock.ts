import { readlinkSync, rmSync } from 'node:fs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import lockfile from 'proper-lockfile';

/**
 * Locks shared by the processes building one project: a lock on `target` is the directory
 * `<target>.lock` (made with mkdir, which is atomic), holding `owner.json` with who holds it.
 *
 * A holder that dies without releasing (kill -9, a lost machine) must not block others for
 * ever. Two checks find such a lock stale: its owner's process no longer exists on this machine
 * (immediate), or its mtime, which a live holder refreshes every few seconds, is old (for a
 * holder on another machine sharing the folder).
 */

/** Who holds a lock. */
export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  /** The holder's PID namespace (Linux): a PID means nothing across containers. */
  readonly pidNamespace?: string;
  readonly since: string;
}

export interface HeldLock {
  /** Releases the lock; safe to call twice. */
  release(): Promise<void>;
}

export type LockAttempt =
  | { readonly acquired: true; readonly lock: HeldLock }
  | { readonly acquired: false; readonly holder: LockHolder | undefined };

/** A live holder refreshes its lock's mtime this often... */
const UPDATE_MS = 10_000;
/** ...and a lock not refreshed for this long is stale whoever holds it. */
const STALE_MS = 60_000;

const OWNER_FILE = 'owner.json';

/** Locks this process holds, by lock directory: removed whole if the process exits holding them. */
const held = new Set<string>();
let exitHookInstalled = false;

/**
 * Tries once to take the lock on `target`. A lock left by a process that no longer exists is
 * removed and taken. `onCompromised` is told when another process took the lock while this one
 * held it (this process stalled past the stale limit).
 */
export async function tryLock(
  target: string,
  onCompromised: (message: string) => void = () => {},
): Promise<LockAttempt> {
  await mkdir(path.dirname(target), { recursive: true });
  installExitHook();
  const directory = lockDirectory(target);

  for (let attempt = 0; ; attempt++) {
    let unlock: () => Promise<void>;
    try {
      unlock = await lockfile.lock(target, {
        realpath: false,
        stale: STALE_MS,
        update: UPDATE_MS,
        retries: 0,
        onCompromised: (error) => {
          held.delete(directory);
          onCompromised(`lock ${path.basename(target)} was taken over: ${error.message}`);
        },
      });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // ENOTEMPTY: proper-lockfile found the lock stale (not refreshed in time) and could not
      // remove it with rmdir, since it holds the owner's file.
      if (code !== 'ELOCKED' && code !== 'ENOTEMPTY') throw error;
      const state = await lockState(target, directory);
      if (attempt === 0 && (code === 'ENOTEMPTY' || !state.held)) {
        // NOTE: two processes breaking the same dead lock at the same instant could both take
        // it; the later one's lock is then reported compromised to the earlier one. Call
        // claims still keep the pair from sending any request twice.
        await rm(directory, { recursive: true, force: true });
        continue;
      }
      return { acquired: false, holder: state.holder };
    }

    held.add(directory);
    try {
      await writeFile(path.join(directory, OWNER_FILE), JSON.stringify(thisProcess()));
    } catch (error) {
      held.delete(directory);
      await unlock().catch(() => {});
      throw error;
    }

    let released = false;
    const release = async () => {
      if (released) return;
      released = true;
      held.delete(directory);
      // proper-lockfile removes the directory with rmdir, which needs it empty.
      await rm(path.join(directory, OWNER_FILE), { force: true });
      await unlock().catch(() => {});
    };
    return { acquired: true, lock: { release } };
  }
}

/** Who holds the lock on `target`, if anyone; undefined when free or the holder is unknown. */
export async function readHolder(target: string): Promise<LockHolder | undefined> {
  try {
    const parsed: unknown = JSON.parse(
      await readFile(path.join(lockDirectory(target), OWNER_FILE), 'utf8'),
    );
    if (
      typeof parsed === 'object' &&
      parsed !== null &&
      typeof (parsed as LockHolder).pid === 'number' &&
      typeof (parsed as LockHolder).host === 'string'
    ) {
      return parsed as LockHolder;
    }
  } catch {
    // No owner file: free, or taken an instant ago and not yet described.
  }
  return undefined;
}

/**
 * Whether the lock on `target` is held by a process that may be alive: not when there is no
 * lock, when its holder is gone, or when nobody refreshed it for the stale limit.
 */
export async function lockState(
  target: string,
  ownDirectory?: string,
): Promise<{ readonly held: boolean; readonly holder?: LockHolder }> {
  let modified: number;
  try {
    modified = (await stat(lockDirectory(target))).mtimeMs;
  } catch {
    return { held: false };
  }
  const holder = await readHolder(target);
  const known = holder ? { holder } : {};
  if (holder !== undefined) {
    // A lock with this process's PID that this process does not hold was left by an earlier
    // process that had the same PID.
    const leftByNamesake =
      holder.pid === process.pid &&
      holder.host === os.hostname() &&
      ownDirectory !== undefined &&
      !held.has(ownDirectory);
    if (leftByNamesake || !isAlive(holder)) return { held: false, ...known };
  }
  if (Date.now() - modified > STALE_MS) return { held: false, ...known };
  return { held: true, ...known };
}

/** Whether `holder` may still be running. Only a process known to be gone counts as dead. */
export function isAlive(holder: LockHolder): boolean {
  const self = thisProcess();
  if (holder.host !== self.host) return true;
  // In another container a PID names another process; where either side does not know its
  // namespace, the PID is all there is to go on.
  if (holder.pidNamespace && self.pidNamespace && holder.pidNamespace !== self.pidNamespace) {
    return true;
  }
  if (holder.pid === process.pid) return true;
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function lockDirectory(target: string): string {
  return `${target}.lock`;
}

function thisProcess(): LockHolder {
  return {
    pid: process.pid,
    host: os.hostname(),
    ...(pidNamespace ? { pidNamespace } : {}),
    since: new Date().toISOString(),
  };
}

const pidNamespace = (() => {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return undefined;
  }
})();

/**
 * On exit (a second Ctrl-C ends the process at once) the locks still held are removed, so the
 * next build need not wait for them to go stale.
 */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const directory of held) rmSync(directory, { recursive: true, force: true });
  });
}
