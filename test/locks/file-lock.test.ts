import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { lockState, tryLock } from '../../src/locks/file-lock.js';

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.on('close', resolve));
  return child.pid ?? 0;
}

/** Leaves a lock as another process would, last touched `ageMs` ago. */
async function leaveLock(target: string, owner: object, ageMs = 0): Promise<void> {
  const directory = `${target}.lock`;
  await mkdir(directory, { recursive: true });
  const file = path.join(directory, 'owner.json');
  await writeFile(file, JSON.stringify({ token: 'f00d', since: 'then', ...owner }));
  const then = new Date(Date.now() - ageMs);
  await utimes(file, then, then);
}

describe('file locks', () => {
  let root: string;
  let target: string;

  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'kwgraph-lock-'));
    target = path.join(root, 'locks', 'runs', 'describe@concise');
  });
  afterEach(async () => rm(root, { recursive: true, force: true }));

  it('are held by one taker at a time and say who holds them', async () => {
    const first = await tryLock(target);
    expect(first.acquired).toBe(true);
    const second = await tryLock(target);
    expect(second).toMatchObject({ acquired: false, holder: { pid: process.pid } });
    expect((await lockState(target)).held).toBe(true);

    if (first.acquired) await first.lock.release();
    expect(await readdir(path.dirname(target))).toEqual([]);
    const third = await tryLock(target);
    expect(third.acquired).toBe(true);
    if (third.acquired) await third.lock.release();
  });

  it('are taken over at once when their holder no longer exists', async () => {
    await leaveLock(target, { pid: await deadPid(), host: os.hostname() });
    expect((await lockState(target)).held).toBe(false);
    const attempt = await tryLock(target);
    expect(attempt.acquired).toBe(true);
    if (attempt.acquired) await attempt.lock.release();
  });

  it('are free again when a release was cut short', async () => {
    await mkdir(`${target}.lock`, { recursive: true });
    const attempt = await tryLock(target);
    expect(attempt.acquired).toBe(true);
    if (attempt.acquired) await attempt.lock.release();
  });

  it('are respected while a holder elsewhere keeps them fresh, taken over once it goes silent', async () => {
    const elsewhere = { pid: 1, host: 'another-machine', token: 'beef', since: 'then' };
    await leaveLock(target, elsewhere);
    expect(await tryLock(target)).toMatchObject({ acquired: false, holder: elsewhere });

    // Not refreshed for longer than the stale limit (a minute): its holder is gone.
    await leaveLock(target, elsewhere, 5 * 60_000);
    expect((await lockState(target)).held).toBe(false);
    const attempt = await tryLock(target);
    expect(attempt.acquired).toBe(true);
    if (attempt.acquired) await attempt.lock.release();
  });
});
