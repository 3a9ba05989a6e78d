import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

import sqlite3 from 'sqlite3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { tryLock } from '../../src/locks/file-lock.js';
import { runLockTarget } from '../../src/locks/run-lock.js';
import type { RunId } from '../../src/plan/run-id.js';
import { buildJson, runCli, startCli } from '../support/cli.js';
import {
  copyProject,
  countingProject,
  idsOf,
  modelLog,
  storedCallIds,
} from '../support/counting-project.js';

/** How many entries each cache level holds. */
function entries(dir: string): Promise<{ rows: number; calls: number }> {
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(path.join(dir, 'cache', 'kwgraph.sqlite'));
    db.all(
      "SELECT sum(key LIKE 'rows:%') AS rows, sum(key LIKE 'calls:%') AS calls FROM keyv",
      (error, result: { rows: number | null; calls: number | null }[]) => {
        db.close();
        if (error) reject(error);
        else resolve({ rows: result[0]?.rows ?? 0, calls: result[0]?.calls ?? 0 });
      },
    );
  });
}

describe('kwgraph cache', () => {
  let built: { dir: string; cleanup: () => Promise<void> };
  let dir: string;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    built = await countingProject();
    expect((await runCli(built.dir, ['build'])).code).toBe(0);
  });
  afterAll(async () => built.cleanup());

  beforeEach(async () => {
    ({ dir, cleanup } = await copyProject(built.dir));
  });
  afterEach(async () => cleanup());

  it('gc removes entries and run folders no current run uses, and keeps the rest', async () => {
    // 6 rows: 10 runs × 6 row results, 36 calls.
    expect(await entries(dir)).toEqual({ rows: 60, calls: 36 });

    // A new prompt for variant a: 5 runs re-run; their old rows and calls become garbage.
    await writeFile(path.join(dir, 'flows/ask/a.jinja2'), '# user:\necho {{ text }}\n');
    // And judge@y is dropped from the experiment: 4 run folders nobody builds any more.
    const experiment = path.join(dir, 'experiment.yaml');
    await writeFile(
      experiment,
      (await readFile(experiment, 'utf8')).replace('variants: [x, y]', 'variants: [x]'),
    );
    expect((await runCli(dir, ['build'])).code).toBe(0);

    const dry = await runCli(dir, ['cache', 'gc', '--dry-run']);
    expect(dry.code).toBe(0);
    // ask@a, judge@x~ask@a and score~judge@x~ask@a as they were (18 rows, 12 calls), and
    // the dropped judge@y runs and their score runs (24 rows, 12 calls).
    expect(dry.stdout).toContain('would remove 42 row results and 24 calls');
    expect(dry.stdout).toContain(
      'would remove 4 run folders of runs no longer in the experiment: judge@y~ask@a, judge@y~ask@b, score~judge@y~ask@a, score~judge@y~ask@b',
    );
    expect(await entries(dir)).toEqual({ rows: 60 + 18, calls: 36 + 12 });

    const gc = await runCli(dir, ['cache', 'gc']);
    expect(gc.code, gc.stderr).toBe(0);
    expect(gc.stdout).toContain('removed 42 row results and 24 calls');
    expect(await entries(dir)).toEqual({ rows: 36, calls: 24 });
    expect((await readdir(path.join(dir, 'cache/runs'))).sort()).toEqual([
      'ask@a',
      'ask@b',
      'judge@x~ask@a',
      'judge@x~ask@b',
      'score~judge@x~ask@a',
      'score~judge@x~ask@b',
    ]);

    // Nothing the experiment uses went: the next build is all cached.
    const mark = (await modelLog(dir)).length;
    const { report } = await buildJson(dir);
    expect(report.runs.every((run) => run.status === 'cached')).toBe(true);
    expect((await modelLog(dir)).slice(mark)).toEqual([]);
  });

  it('gc keeps what a killed build paid for', async () => {
    await writeFile(path.join(dir, 'flows/judge/x.jinja2'), '# user:\nassess {{ answer }}\n');
    const build = startCli(dir, ['build'], { env: { COUNTING_MODEL_MS: '80' } });
    const mark = (await modelLog(dir)).length;
    while ((await modelLog(dir)).length < mark + 6) await new Promise((r) => setTimeout(r, 5));
    build.child.kill('SIGKILL');
    await build.done;
    const saved = await storedCallIds(dir);

    expect((await runCli(dir, ['cache', 'gc'])).code).toBe(0);
    expect(await storedCallIds(dir)).toEqual(saved);
    // The locks the killed build held are gone too.
    for (const kind of ['runs', 'calls']) {
      expect(await readdir(path.join(dir, 'cache/locks', kind)).catch(() => [])).toEqual([]);
    }

    const afterKill = (await modelLog(dir)).length;
    const resumed = await runCli(dir, ['build']);
    expect(resumed.code).toBe(0);
    // No answer that was stored before the kill was paid for again.
    const sent = idsOf((await modelLog(dir)).slice(afterKill), 'start');
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.filter((id) => saved.has(id))).toEqual([]);
  });

  it('gc and clear refuse while a build holds the project', async () => {
    const held = await tryLock(runLockTarget(dir, 'ask@a' as RunId));
    if (!held.acquired) throw new Error('the test could not take the lock');
    try {
      for (const args of [
        ['cache', 'gc'],
        ['cache', 'clear', '--yes'],
      ]) {
        const result = await runCli(dir, args);
        expect(result.code).toBe(1);
        expect(result.stderr).toContain(
          `the cache is in use: a build (pid ${process.pid}) is working on ask@a`,
        );
      }
      expect(await entries(dir)).toEqual({ rows: 60, calls: 36 });
    } finally {
      await held.lock.release();
    }
  });

  it('clear asks first: without a terminal and without --yes it deletes nothing', async () => {
    const refused = await runCli(dir, ['cache', 'clear']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('there is no terminal to confirm it: pass --yes to delete');
    expect(await readdir(path.join(dir, 'cache/runs'))).toHaveLength(10);
    expect(await entries(dir)).toEqual({ rows: 60, calls: 36 });

    const cleared = await runCli(dir, ['cache', 'clear', '--yes']);
    expect(cleared.code).toBe(0);
    expect(cleared.stdout).toContain(
      'deleted every cached row result and LLM call (cache/kwgraph.sqlite) and 10 run folders',
    );
    expect(await entries(dir)).toEqual({ rows: 0, calls: 0 });
    const status = await runCli(dir, ['status']);
    expect(status.stdout).toContain('10 of 10 runs stale');
  });
});
