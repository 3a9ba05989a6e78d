import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runCli } from '../support/cli.js';
import { failingRowsProject } from '../support/failing-rows-project.js';

/** An emptied dataset is more often a mistake than a wish: the build says so, once. */
describe('a dataset with no rows', () => {
  let dir: string;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ dir, cleanup } = await failingRowsProject({ texts: [] }));
  });
  afterAll(async () => cleanup());

  it('builds empty runs and warns once, naming the dataset and its file', async () => {
    const result = await runCli(dir, ['build']);
    expect(result.code, result.stderr).toBe(0);
    const warnings = `${result.stdout}\n${result.stderr}`
      .split('\n')
      .filter((line) => line.includes('has no rows'));
    expect(warnings).toEqual([
      'warning: dataset items (items.jsonl) has no rows: the runs that read it build empty',
    ]);
    expect(result.stdout).toMatch(/2 runs: 2 executed/);
  });
});
