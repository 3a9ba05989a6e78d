import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument, stringify } from 'yaml';

import { buildJson, runCli, tempProject } from '../support/cli.js';

interface StatusJson {
  stale: number;
  runs: { id: string; state: 'fresh' | 'stale'; reasons: string[] }[];
}

async function status(dir: string): Promise<StatusJson> {
  const result = await runCli(dir, ['status', '--json']);
  expect(result.stderr).toBe('');
  return JSON.parse(result.stdout) as StatusJson;
}

/**
 * Fingerprints are canonical: what a file says matters, not how it is written. Any change of
 * meaning makes exactly the affected runs stale, with a reason naming the change.
 */
describe('fingerprints', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let original: string;

  beforeAll(async () => {
    ({ dir, cleanup } = await tempProject());
    const first = await buildJson(dir);
    expect(first.code).toBe(0);
    original = await readFile(path.join(dir, 'experiment.yaml'), 'utf8');
  });
  afterAll(async () => cleanup());

  it('ignore key order, comments and YAML style in experiment.yaml and flow.yaml', async () => {
    // Re-emit both files with every map's keys reversed, in flow style, without comments.
    const reverse = (value: unknown): unknown => {
      if (Array.isArray(value)) return value.map(reverse);
      if (value === null || typeof value !== 'object') return value;
      return Object.fromEntries(
        Object.entries(value)
          .reverse()
          .map(([key, item]) => [key, reverse(item)]),
      );
    };
    const experiment = parseDocument(original).toJS();
    await writeFile(
      path.join(dir, 'experiment.yaml'),
      stringify(reverse(experiment), { defaultCollectionType: 'flow', lineWidth: 0 }),
    );

    const result = await status(dir);
    expect(result.stale).toBe(0);
    expect(result.runs).toHaveLength(14);
  });

  it('make the runs a changed setting affects stale, saying which setting changed', async () => {
    await writeFile(
      path.join(dir, 'experiment.yaml'),
      original.replace(
        /(settings: \{ .*model: gpt-4o-mini, detail: low) \}/,
        '$1, temperature: 0.2 }',
      ),
    );
    const result = await status(dir);
    const stale = result.runs.filter((run) => run.state === 'stale');
    // The describe runs changed; everything downstream of them is stale through its lineage.
    expect(stale).toHaveLength(14);
    const describe = result.runs.find((run) => run.id === 'describe@concise');
    expect(describe?.reasons).toContain('setting describe.temperature 0 → 0.2');
    const validate = result.runs.find((run) => run.id === 'validate@strict_top5~describe@concise');
    expect(validate?.reasons).toEqual(['upstream describe@concise will re-run']);

    await writeFile(path.join(dir, 'experiment.yaml'), original);
    expect((await status(dir)).stale).toBe(0);
  });

  it('change when the concurrency changes? no: it alters speed, not results', async () => {
    await writeFile(
      path.join(dir, 'experiment.yaml'),
      original.replace('concurrency: 4', 'concurrency: 9'),
    );
    expect((await status(dir)).stale).toBe(0);
    await writeFile(path.join(dir, 'experiment.yaml'), original);
  });

  it('change when a template of the chosen variant changes, not when another variant’s does', async () => {
    const file = path.join(dir, 'flows/describe/detailed.jinja2');
    const template = await readFile(file, 'utf8');
    await writeFile(file, `${template}\nMention the pattern if there is one.\n`);

    const result = await status(dir);
    const describe = result.runs.filter((run) => run.id.startsWith('describe@'));
    expect(describe.find((run) => run.id === 'describe@concise')?.state).toBe('fresh');
    expect(describe.find((run) => run.id === 'describe@detailed')?.reasons).toEqual([
      'prompt flows/describe/detailed.jinja2 changed',
    ]);
    expect(result.stale).toBe(7);

    await writeFile(file, template);
    expect((await status(dir)).stale).toBe(0);
  });
});
