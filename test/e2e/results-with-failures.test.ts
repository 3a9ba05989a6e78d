import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runCli } from '../support/cli.js';
import { failingRowsProject } from '../support/failing-rows-project.js';

/**
 * The result commands on an experiment where a row fails: the failure is shown, not hidden.
 * A run whose rows failed is still the result of the current plan, so it is compared, shown,
 * exported and drawn, with its failures.
 */
describe('results of runs with failed rows', () => {
  let dir: string;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ dir, cleanup } = await failingRowsProject({
      texts: ['one', 'bad two', 'three'],
      experimentTail: 'compare:\n  metric: total\n',
    }));
    const build = await runCli(dir, ['build']);
    expect(build.code).toBe(1);
  });
  afterAll(async () => cleanup());

  it('compare shows the failed rows of the run and its lineage usage', async () => {
    const table = JSON.parse((await runCli(dir, ['compare', '--json'])).stdout);
    expect(table.runs).toEqual([
      {
        rank: 1,
        best: true,
        run: 'count~shout',
        total: 'SAY ONE'.length + 'SAY THREE'.length,
        scored: 2,
        status: 'failed',
        rows: 3,
        rows_ok: 2,
        rows_failed: 1,
        calls: 2,
        prompt_tokens: 6,
        completion_tokens: 6,
        tokens: 12,
      },
    ]);
    expect(table.unbuilt).toEqual([]);
  });

  it("show lists a run's row errors and traces a failed row to the node that failed", async () => {
    const summary = await runCli(dir, ['show', 'count~shout']);
    expect(summary.stdout).toMatch(/status\s+failed · current/);
    expect(summary.stdout).toContain('Errors (1 row)');
    expect(summary.stdout).toContain('✗ row i2: upstream run shout failed on this row');

    const trace = await runCli(dir, ['show', 'count~shout', '--row', 'i2']);
    expect(trace.code).toBe(0);
    expect(trace.stdout).toContain('━━ shout');
    expect(trace.stdout).toContain('✗ in check: refusing "bad two"');
    expect(trace.stdout).toContain('━━ count~shout');
    expect(trace.stdout).toMatch(/stage count · skipped/);

    const ok = await runCli(dir, ['show', 'count~shout', '--row', '0', '--json']);
    const [shout, count] = JSON.parse(ok.stdout).steps;
    const call = shout.nodes[1].calls[0];
    expect(call.stored.request.messages).toEqual([
      { role: 'system', content: 'be loud' },
      { role: 'user', content: 'say one' },
    ]);
    expect(call.stored.response.choices[0].message.content).toBe('SAY ONE');
    expect(count.outputs).toEqual({ length: 'SAY ONE'.length });
  });

  it('export keeps failed rows with their status and error', async () => {
    const result = await runCli(dir, ['export', 'count', '--format', 'csv']);
    const records = parse(result.stdout, { columns: true }) as Record<string, string>[];
    expect(
      records.map((record) => [record['key'], record['shout.status'], record['count.status']]),
    ).toEqual([
      ['i1', 'ok', 'ok'],
      ['i2', 'failed', 'skipped'],
      ['i3', 'ok', 'ok'],
    ]);
    expect(records[1]?.['shout.error']).toBe('refusing "bad two"');
    expect(records[1]?.['shout.loud']).toBe('');
    expect(records[0]?.['count.length']).toBe(String('SAY ONE'.length));
  });

  it('report draws the failed runs as failed', async () => {
    const result = await runCli(dir, ['report', '-o', 'report.html']);
    expect(result.code).toBe(0);
    const html = await readFile(path.join(dir, 'report.html'), 'utf8');
    expect(html).toContain('<g class="run failed best" data-run="count~shout">');
    expect(html).toContain('<g class="run failed best" data-run="shout">');
  });
});
