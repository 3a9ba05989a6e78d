import { randomBytes } from 'node:crypto';
import { readlinkSync, rmSync } from 'node:fs';
import { mkdir, readFile, rename, rm, rmdir, stat, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/**
 * Locks shared by the processes building one project. The lock on `target` is the directory
 * `<target>.lock` holding `owner.json`, which says who holds it. The directory is prepared
 * under another name with its owner file inside and renamed into place, so a lock never exists
 * without its owner: rename is atomic, and it fails when the lock directory is already there.
 *
 * A holder that dies without releasing (kill -9, a lost machine) must not block others for
 * ever. Two checks find such a lock stale: its owner's process no longer exists on this machine
 * (found at once), or its owner file, which a live holder touches every few seconds, has not
 * been touched for a while (for a holder on another machine sharing the folder).
 *
 * proper-lockfile, also a dependency, does not fit: it tells its own lock from a replacement
 * by the directory's mtime, which changes as soon as an owner file is written into it.
 */

/** Who holds a lock. */
export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  /** The holder's PID namespace (Linux): a PID means nothing across containers. */
  readonly pidNamespace?: string;
  readonly since: string;
  /** Tells this holding from any other by the same process. */
  readonly token: string;
}

export interface HeldLock {
  /** Releases the lock; safe to call twice. */
  release(): Promise<void>;
}

export type LockAttempt =
  | { readonly acquired: true; readonly lock: HeldLock }
  | { readonly acquired: false; readonly holder: LockHolder | undefined };

/** A live holder touches its owner file this often... */
const UPDATE_MS = 5_000;
/** ...and a lock whose owner file was not touched for this long is stale, whoever holds it. */
export const STALE_MS = 30_000;

const OWNER_FILE = 'owner.json';

/** Lock directories this process holds, with its token: removed if it exits holding them. */
const held = new Map<string, string>();
let exitHookInstalled = false;

/**
 * Tries once to take the lock on `target`. A lock left by a process that is gone is removed
 * and taken. `onCompromised` is told if another process takes the lock while this one holds
 * it (possible only after this process stalled for longer than the stale limit).
 */
export async function tryLock(
  target: string,
  onCompromised: (message: string) => void = () => {},
): Promise<LockAttempt> {
  const directory = lockDirectory(target);
  installExitHook();

  for (let attempt = 0; ; attempt++) {
    const owner = thisProcess();
    const staging = `${directory}.${owner.token}.new`;
    await makeStaging(staging);
    await writeFile(path.join(staging, OWNER_FILE), JSON.stringify(owner));
    try {
      await rename(staging, directory);
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      if (!isTaken(error)) throw error;
      const state = await lockState(target);
      if (attempt === 0 && !state.held) {
        await breakLock(directory, state.holder);
        continue;
      }
      return { acquired: false, holder: state.holder };
    }
    return { acquired: true, lock: hold(directory, owner.token, onCompromised) };
  }
}

/** Folders of lock directories known to exist: one lock is taken per LLM call. */
const lockFolders = new Set<string>();

/** Creates a lock's staging directory, and its folder the first time or if it was removed. */
async function makeStaging(staging: string): Promise<void> {
  const folder = path.dirname(staging);
  if (!lockFolders.has(folder)) {
    await mkdir(folder, { recursive: true });
    lockFolders.add(folder);
  }
  try {
    await mkdir(staging);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    await mkdir(folder, { recursive: true });
    await mkdir(staging);
  }
}

/**
 * Whether the lock on `target` is held by a process that may be alive: not when there is no
 * lock, when its holder is gone, or when its holder stopped touching it.
 */
export async function lockState(
  target: string,
): Promise<{ readonly held: boolean; readonly holder?: LockHolder }> {
  const directory = lockDirectory(target);
  const holder = await readOwner(directory);
  if (holder === undefined) {
    // No lock, or the empty directory of a release cut short: free either way.
    return { held: false };
  }
  if (!isAlive(holder, directory)) return { held: false, holder };
  try {
    const touched = (await stat(path.join(directory, OWNER_FILE))).mtimeMs;
    if (Date.now() - touched > STALE_MS) return { held: false, holder };
  } catch {
    return { held: false };
  }
  return { held: true, holder };
}

/** Who holds the lock on `target`, if anyone. */
export function readHolder(target: string): Promise<LockHolder | undefined> {
  return readOwner(lockDirectory(target));
}

export function lockDirectory(target: string): string {
  return `${target}.lock`;
}

/** Whether a name in a locks folder is the leftover of an acquisition or a break cut short. */
export function isLockLeftover(name: string): boolean {
  return /\.lock\.[0-9a-f]+\.(new|stale)$/.test(name);
}

function hold(directory: string, token: string, onCompromised: (message: string) => void) {
  held.set(directory, token);
  const ownerFile = path.join(directory, OWNER_FILE);
  const heartbeat = setInterval(() => {
    void (async () => {
      const owner = await readOwner(directory);
      if (owner?.token !== token) {
        clearInterval(heartbeat);
        held.delete(directory);
        onCompromised(`lock ${path.basename(directory)} was taken over by another process`);
        return;
      }
      const now = new Date();
      await utimes(ownerFile, now, now).catch(() => {});
    })();
  }, UPDATE_MS);
  heartbeat.unref();

  let released = false;
  return {
    release: async () => {
      if (released) return;
      released = true;
      clearInterval(heartbeat);
      if (held.get(directory) !== token) return;
      held.delete(directory);
      // The owner file goes first: a directory without one is free.
      await rm(ownerFile, { force: true });
      // Empty now, unless something was put in it: then it goes with what it holds.
      await rmdir(directory).catch(() => rm(directory, { recursive: true, force: true }));
    },
  };
}

/**
 * Removes a lock found stale. It is first renamed aside, atomically; if what was renamed turns
 * out not to be the stale holder's lock (another process broke it and took it meanwhile), it is
 * put back.
 */
async function breakLock(directory: string, stale: LockHolder | undefined): Promise<void> {
  const aside = `${directory}.${randomBytes(6).toString('hex')}.stale`;
  try {
    await rename(directory, aside);
  } catch {
    return; // Gone already.
  }
  const moved = await readOwner(aside);
  if (moved !== undefined && moved.token !== stale?.token) {
    await rename(aside, directory).catch(() => {});
    return;
  }
  await rm(aside, { recursive: true, force: true });
}

async function readOwner(directory: string): Promise<LockHolder | undefined> {
  try {
    const parsed: unknown = JSON.parse(await readFile(path.join(directory, OWNER_FILE), 'utf8'));
    if (
      typeof parsed === 'object' &&
      parsed !== null &&
      typeof (parsed as LockHolder).pid === 'number' &&
      typeof (parsed as LockHolder).host === 'string' &&
      typeof (parsed as LockHolder).token === 'string'
    ) {
      return parsed as LockHolder;
    }
  } catch {
    // Missing or unreadable: no owner.
  }
  return undefined;
}

/**
 * Whether `holder` may still be running. Only a process known to be gone counts as dead: on
 * another machine, or in another PID namespace, a lock goes stale only by not being touched.
 */
export function isAlive(holder: LockHolder, directory?: string): boolean {
  const self = thisProcess();
  if (holder.host !== self.host) return true;
  if (holder.pidNamespace && self.pidNamespace && holder.pidNamespace !== self.pidNamespace) {
    return true;
  }
  if (holder.pid === process.pid) {
    // A lock with this process's PID that it does not hold was left by an earlier process
    // that had the same PID.
    return directory === undefined || held.get(directory) === holder.token;
  }
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** rename onto an existing lock directory fails with one of these, depending on the system. */
function isTaken(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'EPERM' || code === 'EISDIR';
}

function thisProcess(): LockHolder {
  return {
    pid: process.pid,
    host: os.hostname(),
    ...(pidNamespace ? { pidNamespace } : {}),
    since: new Date().toISOString(),
    token: randomBytes(8).toString('hex'),
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
 * next build need not find out that their holder is gone.
 */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const directory of held.keys()) rmSync(directory, { recursive: true, force: true });
  });
}
