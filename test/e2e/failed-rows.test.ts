import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildJson, runCli } from '../support/cli.js';
import { failingRowsProject } from '../support/failing-rows-project.js';

/**
 * A failing row fails its run, not the build's other rows: the run is `failed` with the row's
 * error, the build exits 1, downstream rows built on it are skipped, and the next build re-runs
 * only what failed.
 */
describe('failed rows', () => {
  let dir: string;
  let cleanup: () => Promise<void>;

  const calls = async () =>
    (await readFile(path.join(dir, 'calls.log'), 'utf8').catch(() => ''))
      .split('\n')
      .filter(Boolean);

  beforeAll(async () => {
    ({ dir, cleanup } = await failingRowsProject({
      texts: ['one', 'two', 'bad three', 'four', 'five'],
    }));
  });
  afterAll(async () => cleanup());

  it('fails the run with the row error, keeps the other rows, and exits 1', async () => {
    const result = await runCli(dir, ['build']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/failed\s+shout\s+1 of 5 rows failed/);
    expect(result.stdout).toContain('row i3 in check: refusing "bad three"');
    expect(result.stdout).toMatch(
      /failed\s+count~shout\s+1 of 5 rows skipped \(no upstream output\)/,
    );
    expect(await calls()).toHaveLength(4);

    const outputs = (await readFile(path.join(dir, 'cache/runs/shout/outputs.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(outputs.map((line) => line.status)).toEqual(['ok', 'ok', 'failed', 'ok', 'ok']);
    expect(outputs[2]).toMatchObject({ key: 'i3', node: 'check', error: 'refusing "bad three"' });

    const metrics = JSON.parse(
      await readFile(path.join(dir, 'cache/runs/count~shout/metrics.json'), 'utf8'),
    );
    expect(metrics).toEqual({
      scored: 4,
      total: 'SAY ONE'.length + 'SAY TWO'.length + 'SAY FOUR'.length + 'SAY FIVE'.length,
    });
  });

  it('says why the failed runs are stale', async () => {
    const result = await runCli(dir, ['status']);
    expect(result.stdout).toMatch(/stale\s+shout\s+1 row failed last time/);
  });

  it('re-runs only the failed row once its input is fixed', async () => {
    const file = path.join(dir, 'items.jsonl');
    await writeFile(file, (await readFile(file, 'utf8')).replace('bad three', 'three'));

    const { code, report } = await buildJson(dir);
    expect(code).toBe(0);
    const shout = report.runs.find((run) => run.id === 'shout');
    expect(shout).toMatchObject({ status: 'executed', calls: 1, rowsCached: 4 });
    expect(await calls()).toHaveLength(5);
    expect((await buildJson(dir)).report.runs.every((run) => run.status === 'cached')).toBe(true);
  });
});
