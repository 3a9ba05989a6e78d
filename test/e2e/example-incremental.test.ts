import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildJson, runCli, sum, tempProject, type BuildJsonRun } from '../support/cli.js';

/**
 * The example experiment, built through the real CLI on a copy of the repository's project:
 * a cold build, a no-op build, and the edits a user makes between builds. Each edit must
 * re-execute exactly the runs that depend on it, and send exactly the calls that changed.
 */
describe('the keyword-correctness example', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let rows: number;

  beforeAll(async () => {
    ({ dir, cleanup } = await tempProject());
    const data = await readFile(path.join(dir, 'data/products.jsonl'), 'utf8');
    rows = data.split('\n').filter((line) => line.trim() !== '').length;
  });
  afterAll(async () => cleanup());

  const byStatus = (runs: readonly BuildJsonRun[], status: BuildJsonRun['status']) =>
    runs
      .filter((run) => run.status === status)
      .map((run) => run.id)
      .sort();

  it('builds 14 runs from scratch and prints metrics for every evaluate run', async () => {
    const result = await runCli(dir, ['build']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/14 runs: 14 executed, 0 cached, 0 failed/);

    const metricLines = result.stdout
      .split('\n')
      .filter((line) => /^\s+evaluate~validate@\S+~describe@\S+\s+recall_incorrect \d/.test(line));
    expect(metricLines).toHaveLength(6);

    const manifest = JSON.parse(
      await readFile(
        path.join(dir, 'cache/runs/evaluate~validate@strict_top5~describe@detailed/manifest.json'),
        'utf8',
      ),
    );
    expect(manifest.status).toBe('succeeded');
    expect(manifest.lineage).toEqual({
      describe: 'describe@detailed',
      validate: 'validate@strict_top5~describe@detailed',
    });
    expect(manifest.rows.total).toBe(rows);
  });

  it('serves everything from cache on the second build', async () => {
    const { code, report } = await buildJson(dir);
    expect(code).toBe(0);
    expect(report.runs).toHaveLength(14);
    expect(byStatus(report.runs, 'cached')).toHaveLength(14);
    expect(sum(report.runs, 'calls')).toBe(0);
  });

  it('writes outputs in input order with a status per row', async () => {
    const outputs = (
      await readFile(path.join(dir, 'cache/runs/describe@concise/outputs.jsonl'), 'utf8')
    )
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(outputs).toHaveLength(rows);
    expect(outputs.map((line) => line.index)).toEqual([...Array(rows).keys()]);
    expect(
      outputs.every((line) => line.status === 'ok' && typeof line.outputs.description === 'string'),
    ).toBe(true);
  });

  it('re-executes only the runs of an edited validate prompt variant', async () => {
    const template = path.join(dir, 'flows/validate/top5.jinja2');
    await writeFile(template, `${await readFile(template, 'utf8')}\nBe brief in each reason.\n`);

    const status = await runCli(dir, ['status']);
    expect(status.stdout).toMatch(
      /stale\s+validate@strict_top5~describe@concise\s+prompt flows\/validate\/top5\.jinja2 changed/,
    );

    const { code, report } = await buildJson(dir);
    expect(code).toBe(0);
    expect(byStatus(report.runs, 'executed')).toEqual(
      [
        'evaluate~validate@strict_top5~describe@concise',
        'evaluate~validate@strict_top5~describe@detailed',
        'validate@strict_top5~describe@concise',
        'validate@strict_top5~describe@detailed',
      ].sort(),
    );
    expect(byStatus(report.runs, 'cached')).toHaveLength(10);
    expect(report.totals).toMatchObject({
      runs: 14,
      executed: 4,
      cached: 10,
      failed: 0,
      calls: sum(report.runs, 'calls'),
      cachedCalls: sum(report.runs, 'cachedCalls'),
    });
    expect(report.totals.tokens.total).toBeGreaterThan(0);
    const describeCalls = report.runs.filter((run) => run.stage === 'describe');
    expect(sum(describeCalls, 'calls')).toBe(0);
    const validateCalls = report.runs.filter(
      (run) => run.status === 'executed' && run.stage === 'validate',
    );
    expect(sum(validateCalls, 'calls')).toBe(2 * rows);
  });

  it('re-runs only the changed row when one keyword of one product is renamed', async () => {
    const file = path.join(dir, 'data/products.jsonl');
    const lines = (await readFile(file, 'utf8')).split('\n');
    const product = JSON.parse(lines[3] ?? '');
    const [first] = Object.keys(product.keywords);
    const renamed: Record<string, string> = {};
    for (const [keyword, label] of Object.entries<string>(product.keywords)) {
      renamed[keyword === first ? `${keyword} online` : keyword] = label;
    }
    product.keywords = renamed;
    lines[3] = JSON.stringify(product);
    await writeFile(file, lines.join('\n'));

    const { code, report } = await buildJson(dir);
    expect(code).toBe(0);
    // Every run reads the dataset, so every run re-executes; but only one row of each is new.
    expect(byStatus(report.runs, 'executed')).toHaveLength(14);
    // The describe prompts do not show keywords: their rows are served from the row cache.
    expect(
      sum(
        report.runs.filter((run) => run.stage === 'describe'),
        'calls',
      ),
    ).toBe(0);
    for (const run of report.runs.filter((candidate) => candidate.stage === 'validate')) {
      expect(run.calls, run.id).toBe(1);
      expect(run.rowsCached, run.id).toBe(rows - 1);
    }
    expect(sum(report.runs, 'calls')).toBe(6);
  });

  it('re-runs the 6 evaluate runs with no LLM call when only evaluate code changes', async () => {
    const file = path.join(dir, 'flows/evaluate/score-row.ts');
    await writeFile(file, `${await readFile(file, 'utf8')}\n// a comment is a change too\n`);

    const { code, report } = await buildJson(dir);
    expect(code).toBe(0);
    expect(byStatus(report.runs, 'executed')).toHaveLength(6);
    expect(
      report.runs
        .filter((run) => run.status === 'executed')
        .every((run) => run.stage === 'evaluate'),
    ).toBe(true);
    expect(sum(report.runs, 'calls')).toBe(0);
  });

  it('re-runs both flows that include the shared code, sending no call it already made', async () => {
    const file = path.join(dir, 'flows/shared/split-attributes.ts');
    await writeFile(file, `${await readFile(file, 'utf8')}\n// shared by describe and validate\n`);

    const status = await runCli(dir, ['status']);
    expect(status.stdout).toMatch(
      /stale\s+describe@concise\s+code flows\/shared\/split-attributes\.ts changed/,
    );
    expect(status.stdout).toMatch(
      /stale\s+validate@lenient_top10~describe@detailed\s+code flows\/shared\/split-attributes\.ts changed/,
    );

    const { code, report } = await buildJson(dir);
    expect(code).toBe(0);
    // Conservative: every run of both flows (and so every evaluate run) re-runs; the prompts
    // they render are unchanged, so every call is served from the call cache.
    expect(byStatus(report.runs, 'executed')).toHaveLength(14);
    expect(sum(report.runs, 'calls')).toBe(0);
  });

  it('shows describe → validate → evaluate lineage for all 14 runs', async () => {
    const tree = await runCli(dir, ['graph']);
    expect(tree.code).toBe(0);
    expect(tree.stdout).toContain(
      'describe@concise\n├── validate@strict_top10~describe@concise\n│   └── evaluate~validate@strict_top10~describe@concise',
    );

    const json = await runCli(dir, ['graph', '--format', 'json']);
    const graph = JSON.parse(json.stdout) as { runs: { id: string; upstream: string[] }[] };
    expect(graph.runs).toHaveLength(14);
    const evaluate = graph.runs.filter((run) => run.id.startsWith('evaluate~'));
    expect(evaluate).toHaveLength(6);
    for (const run of evaluate) expect(run.upstream).toEqual([run.id.slice('evaluate~'.length)]);
  });
});
