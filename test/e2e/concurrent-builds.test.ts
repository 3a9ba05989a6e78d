import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { tryLock } from '../../src/locks/file-lock.js';
import { runLockTarget } from '../../src/locks/run-lock.js';
import type { RunId } from '../../src/plan/run-id.js';
import { runCli, startCli } from '../support/cli.js';
import { countingProject, idsOf, modelLog, runOutputs } from '../support/counting-project.js';

/** The pid of a process that has ended. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.on('close', resolve));
  return child.pid ?? 0;
}

describe('builds of one project running at once', () => {
  let reference: { dir: string; cleanup: () => Promise<void> };
  let expected: Record<string, string>;
  let distinct: string[];

  beforeAll(async () => {
    reference = await countingProject();
    expect((await runCli(reference.dir, ['build'])).code).toBe(0);
    expected = await runOutputs(reference.dir);
    distinct = [...new Set(idsOf(await modelLog(reference.dir), 'start'))].sort();
  });
  afterAll(async () => reference.cleanup());

  it('both succeed, write the outputs of one build, and send each request once', async () => {
    const { dir, cleanup } = await countingProject();
    try {
      const env = { COUNTING_MODEL_MS: '40' };
      const [first, second] = await Promise.all([
        startCli(dir, ['build', '--json'], { env }).done,
        startCli(dir, ['build', '--json'], { env }).done,
      ]);
      expect(first.code, first.stderr).toBe(0);
      expect(second.code, second.stderr).toBe(0);
      expect(await runOutputs(dir)).toEqual(expected);

      // Every distinct request started once and answered once, across both processes.
      const log = await modelLog(dir);
      expect(idsOf(log, 'start').sort()).toEqual(distinct);
      expect(idsOf(log, 'done').sort()).toEqual(distinct);

      // Together they executed each run at least once; what one executed the other found built.
      const reports = [first, second].map(
        (result) => JSON.parse(result.stdout) as { runs: { id: string; calls: number }[] },
      );
      const calls = reports
        .flatMap((report) => report.runs)
        .reduce((sum, run) => sum + run.calls, 0);
      expect(calls).toBe(distinct.length);
    } finally {
      await cleanup();
    }
  });

  it('waits for a run another build holds, saying so, then finds it or builds it', async () => {
    const { dir, cleanup } = await countingProject();
    try {
      const held = await tryLock(runLockTarget(dir, 'ask@a' as RunId));
      if (!held.acquired) throw new Error('the test could not take the lock');

      const build = startCli(dir, ['build']);
      let ended = false;
      void build.done.then(() => (ended = true));
      while (!ended && !build.output().stdout.includes('waiting for ask@a')) await delay(10);
      expect(build.output().stdout).toContain(`waiting for ask@a (held by pid ${process.pid})`);
      // Meanwhile the build works on what it is not waiting for.
      while (!ended && !/done\s+ask@b/.test(build.output().stdout)) await delay(10);
      expect(build.output().stdout).toMatch(/done\s+ask@b/);

      await held.lock.release();
      const result = await build.done;
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/done\s+ask@a/);
      expect(await runOutputs(dir)).toEqual(expected);
    } finally {
      await cleanup();
    }
  });

  it('takes over a lock whose holder was killed, without waiting', async () => {
    const { dir, cleanup } = await countingProject();
    try {
      // What a build killed with SIGKILL while executing ask@a leaves behind.
      const lock = `${runLockTarget(dir, 'ask@a' as RunId)}.lock`;
      await mkdir(lock, { recursive: true });
      await writeFile(
        path.join(lock, 'owner.json'),
        JSON.stringify({
          pid: await deadPid(),
          host: os.hostname(),
          since: new Date().toISOString(),
        }),
      );

      const result = await runCli(dir, ['build']);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).not.toContain('waiting for');
      expect(await runOutputs(dir)).toEqual(expected);
    } finally {
      await cleanup();
    }
  });
});
