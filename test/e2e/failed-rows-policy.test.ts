import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildJson, runCli } from '../support/cli.js';
import { countingProject, idsOf, modelLog } from '../support/counting-project.js';

const ROWS = ['one', 'flaky two', 'three', 'flaky four', 'five', 'six'];

async function outputLines(dir: string, run: string) {
  return (await readFile(path.join(dir, 'cache/runs', run, 'outputs.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { key: string; status: string; error?: string });
}

/**
 * Rows whose calls fail (the model refuses "flaky" rows while `fail-flaky` exists): the run
 * fails, the next build re-sends only those rows; `--retry-failed=false` keeps them failed
 * without sending anything; `on_failed_rows` decides whether metrics are computed over the
 * rows that succeeded.
 */
describe('failed rows', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let firstBuild: [string, string][];

  beforeAll(async () => {
    ({ dir, cleanup } = await countingProject(ROWS));
    await writeFile(path.join(dir, 'fail-flaky'), '');
  });
  afterAll(async () => cleanup());

  const sinceMark = async (mark: number) => (await modelLog(dir)).slice(mark);

  it('fail their runs; downstream rows are skipped and aggregation covers the rest', async () => {
    const result = await runCli(dir, ['build']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/failed\s+ask@a\s+2 of 6 rows failed/);
    expect(result.stdout).toContain(
      '2 rows (r2, r4) in ask: the model is unavailable for flaky rows',
    );
    // on_failed_rows: skip (the default): metrics over the 4 rows that got through.
    expect(result.stdout).toMatch(/score~judge@x~ask@a\s+rows 4 .*\(over 4 of 6 rows\)/);
    const manifest = JSON.parse(
      await readFile(path.join(dir, 'cache/runs/score~judge@x~ask@a/manifest.json'), 'utf8'),
    );
    expect(manifest.aggregated).toEqual({ rows: 4, of: 6 });
    firstBuild = await modelLog(dir);
  });

  it('says how many rows failed', async () => {
    const result = await runCli(dir, ['status']);
    expect(result.stdout).toMatch(/stale\s+ask@a\s+2 rows failed last time/);
  });

  it('are kept failed, nothing sent, with --retry-failed=false', async () => {
    const mark = (await modelLog(dir)).length;
    const result = await runCli(dir, ['build', '--retry-failed=false']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/failed\s+ask@a\s+2 of 6 rows failed/);
    expect(await sinceMark(mark)).toEqual([]);
  });

  it('stay failed under --no-retry-failed while changed rows are executed', async () => {
    const file = path.join(dir, 'data/items.jsonl');
    await writeFile(file, (await readFile(file, 'utf8')).replace('"one"', '"uno"'));
    const mark = (await modelLog(dir)).length;

    const result = await runCli(dir, ['build', '--no-retry-failed']);
    expect(result.code).toBe(1);
    const log = await sinceMark(mark);
    // Only the changed row: 2 ask calls and 4 judge calls; no flaky row was sent.
    expect(idsOf(log, 'start')).toHaveLength(6);
    expect(idsOf(log, 'fail')).toEqual([]);
    const lines = await outputLines(dir, 'ask@b');
    expect(lines.map((line) => line.status)).toEqual(['ok', 'failed', 'ok', 'failed', 'ok', 'ok']);
    expect(lines[1]?.error).toBe('the model is unavailable for flaky rows');
  });

  it('are the only rows sent again once the model recovers', async () => {
    await rm(path.join(dir, 'fail-flaky'));
    const mark = (await modelLog(dir)).length;
    const { code, report } = await buildJson(dir);
    expect(code).toBe(0);
    const log = await sinceMark(mark);
    // 2 flaky rows × (2 ask + 4 judge) calls.
    expect(idsOf(log, 'start')).toHaveLength(12);
    // None of them had been answered before.
    const answered = new Set(idsOf(firstBuild, 'done'));
    expect(idsOf(log, 'start').filter((id) => answered.has(id))).toEqual([]);
    expect(report.runs.find((run) => run.id === 'ask@a')).toMatchObject({
      status: 'executed',
      rowsCached: 4,
      calls: 2,
      reasons: ['2 rows failed last time'],
    });
  });

  it('fail the run without aggregating under on_failed_rows: fail', async () => {
    const experiment = path.join(dir, 'experiment.yaml');
    await writeFile(
      experiment,
      (await readFile(experiment, 'utf8')).replace(
        'inputs: { verdict: "${judge.outputs.verdict}", text: "${data.text}" }',
        'inputs: { verdict: "${judge.outputs.verdict}", text: "${data.text}" }\n    on_failed_rows: fail',
      ),
    );
    const status = await runCli(dir, ['status']);
    expect(status.stdout).toMatch(
      /stale\s+score~judge@x~ask@a\s+setting on_failed_rows "skip" → "fail"/,
    );

    // A row whose code node throws: the row fails, naming the node and the message.
    const file = path.join(dir, 'data/items.jsonl');
    await writeFile(file, (await readFile(file, 'utf8')).replace('"three"', '"explode"'));
    const result = await runCli(dir, ['build']);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('row r3 in measure: cannot score "explode"');
    expect(result.stdout).toContain(
      'row (aggregation): not aggregated: 1 of 6 rows failed (on_failed_rows: fail)',
    );
    const manifest = JSON.parse(
      await readFile(path.join(dir, 'cache/runs/score~judge@x~ask@a/manifest.json'), 'utf8'),
    );
    expect(manifest).toMatchObject({
      status: 'failed',
      metrics: {},
      aggregated: { rows: 0, of: 6 },
    });
    await expect(
      readFile(path.join(dir, 'cache/runs/score~judge@x~ask@a/metrics.json'), 'utf8'),
    ).rejects.toThrow();
  });
});
