import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildJson, runCli } from '../support/cli.js';
import { countingProject, idsOf, modelLog, runOutputs } from '../support/counting-project.js';

/**
 * Calls at temperature > 0 are cached like any other: a build is reproducible. Fresh samples
 * are asked for explicitly, with `repeat: N` (each sample its own runs and cached calls) or
 * `--no-cache` (everything sent again, the new answers stored).
 */
describe('sampling at temperature > 0', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let first: Record<string, string>;

  const sent = async (mark: number) => idsOf((await modelLog(dir)).slice(mark), 'start');
  const mark = async () => (await modelLog(dir)).length;

  beforeAll(async () => {
    ({ dir, cleanup } = await countingProject());
    const experiment = path.join(dir, 'experiment.yaml');
    await writeFile(
      experiment,
      (await readFile(experiment, 'utf8')).replace('temperature: 0', 'temperature: 0.7'),
    );
    expect((await runCli(dir, ['build'])).code).toBe(0);
    first = await runOutputs(dir);
  });
  afterAll(async () => cleanup());

  it('is cached: the next build sends nothing and keeps the samples it has', async () => {
    const before = await mark();
    const { code, report } = await buildJson(dir);
    expect(code).toBe(0);
    expect(report.runs.every((run) => run.status === 'cached')).toBe(true);
    expect(await sent(before)).toEqual([]);
    expect(await runOutputs(dir)).toEqual(first);
  });

  it('gives fresh samples with repeat: N, each keyed by its index', async () => {
    const experiment = path.join(dir, 'experiment.yaml');
    await writeFile(
      experiment,
      (await readFile(experiment, 'utf8')).replace(
        'variants: [a, b]',
        'variants: [a, b]\n    repeat: 2',
      ),
    );
    const status = JSON.parse((await runCli(dir, ['status', '--json'])).stdout) as {
      runs: { id: string; state: string; reasons: string[] }[];
    };
    expect(status.runs).toHaveLength(20);
    // The first sample keeps its plain id and everything built on it.
    expect(status.runs.find((run) => run.id === 'ask@a')?.state).toBe('fresh');
    expect(status.runs.find((run) => run.id === 'ask@a#2')?.reasons).toEqual(['never built']);
    expect(status.runs.find((run) => run.id === 'score~judge@y~ask@b#2')?.state).toBe('stale');

    const before = await mark();
    const { code, report } = await buildJson(dir);
    expect(code).toBe(0);
    expect(report.runs.filter((run) => run.status === 'executed')).toHaveLength(10);
    // Sample 2 sends the very requests sample 1 sent, and gets other answers.
    const again = await sent(before);
    expect(again).toHaveLength(36);
    const sample2 = await runOutputs(dir);
    expect(sample2['ask@a#2/outputs.jsonl']).not.toBe(sample2['ask@a/outputs.jsonl']);
    expect(sample2['ask@a/outputs.jsonl']).toBe(first['ask@a/outputs.jsonl']);

    const rebuilt = await buildJson(dir);
    expect(rebuilt.report.runs.every((run) => run.status === 'cached')).toBe(true);
  });

  it('gives fresh samples with --no-cache, and stores them', async () => {
    const before = await runOutputs(dir);
    const start = await mark();
    const { code, report } = await buildJson(dir, ['--no-cache']);
    expect(code).toBe(0);
    expect(report.runs.every((run) => run.status === 'executed')).toBe(true);
    expect(report.runs[0]?.reasons).toEqual(['--no-cache']);
    // Every request of the experiment sent again: 6 rows × 6 calls × 2 samples.
    expect(await sent(start)).toHaveLength(72);
    const fresh = await runOutputs(dir);
    expect(fresh['ask@a/outputs.jsonl']).not.toBe(before['ask@a/outputs.jsonl']);

    // The fresh samples are what the cache serves from now on.
    const next = await mark();
    const rebuilt = await buildJson(dir);
    expect(rebuilt.report.runs.every((run) => run.status === 'cached')).toBe(true);
    expect(await sent(next)).toEqual([]);
    expect(await runOutputs(dir)).toEqual(fresh);
  });
});
