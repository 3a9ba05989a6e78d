import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildJson, runCli, sum } from '../support/cli.js';
import { failingRowsProject } from '../support/failing-rows-project.js';

/**
 * `--force` is how a user re-runs code that fingerprints cannot see: a module a code node
 * imports from outside its flow folder. Every row of the forced runs is computed again; the
 * LLM calls they make are still served from the call cache.
 */
describe('build --force', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const calls = async () =>
    (await readFile(path.join(dir, 'calls.log'), 'utf8')).split('\n').filter(Boolean).length;
  const lengths = async () =>
    (await readFile(path.join(dir, 'cache/runs/count~shout/outputs.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line).outputs.length);

  beforeAll(async () => {
    ({ dir, cleanup } = await failingRowsProject({ texts: ['one', 'three'] }));
    await mkdir(path.join(dir, 'lib'));
    await writeFile(path.join(dir, 'lib/scale.ts'), 'export const scale = (n: number) => n;\n');
    await writeFile(
      path.join(dir, 'flows/count/measure.ts'),
      `import { scale } from '../../lib/scale.ts';
export const measure = ({ loud }: { loud: string }) => scale(loud.length);
export const total = ({ lengths }: { lengths: number[] }) => ({ total: lengths.reduce((a, b) => a + b, 0) });
`,
    );
    const build = await runCli(dir, ['build']);
    expect(build.code, build.stderr).toBe(0);
  });
  afterAll(async () => cleanup());

  it('re-computes the rows of the forced runs with the outside module as it is now', async () => {
    expect(await lengths()).toEqual(['SAY ONE'.length, 'SAY THREE'.length]);
    const sent = await calls();
    await writeFile(
      path.join(dir, 'lib/scale.ts'),
      'export const scale = (n: number) => n * 10;\n',
    );

    // The fingerprints cannot see the change: nothing is stale.
    const status = await runCli(dir, ['status', 'count']);
    expect(status.stdout).toMatch(/0 of 2 runs stale/);

    const { code, report } = await buildJson(dir, ['--force']);
    expect(code).toBe(0);
    expect(report.runs.map((run) => run.status)).toEqual(['executed', 'executed']);
    expect(await lengths()).toEqual([70, 90]);
    // The shout rows made their calls again, every one served from the call cache.
    expect(sum(report.runs, 'calls')).toBe(0);
    expect(sum(report.runs, 'cachedCalls')).toBe(2);
    expect(await calls()).toBe(sent);
  });

  it('forces only the runs it names, not the runs they read', async () => {
    const { code, report } = await buildJson(dir, ['--force', 'count']);
    expect(code).toBe(0);
    expect(report.runs.map((run) => [run.id, run.status])).toEqual([
      ['shout', 'cached'],
      ['count~shout', 'executed'],
    ]);
    expect(sum(report.runs, 'calls')).toBe(0);
  });
});
