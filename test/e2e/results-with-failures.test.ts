import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runCli, tempProject } from '../support/cli.js';

const EXPERIMENT = `name: some-rows-fail
datasets:
  items: { path: items.jsonl, key: id }
connections:
  echo: { kind: module, module: echo-model.ts, model: echo-1 }
defaults: { connection: echo }
stages:
  shout:
    flow: flows/shout
    rows: items
    inputs: { text: "\${data.text}" }
  count:
    flow: flows/count
    rows: shout
    inputs: { loud: "\${shout.outputs.loud}" }
compare:
  metric: total
`;

const SHOUT_FLOW = `inputs:
  text: { type: string }
outputs:
  loud: { reference: "\${ask.output}" }
nodes:
  - name: check
    type: code
    source: { path: check.ts, function: check }
    inputs: { text: "\${inputs.text}" }
  - name: ask
    type: llm
    source: { path: ask.jinja2 }
    inputs: { text: "\${check.output}" }
`;

const COUNT_FLOW = `inputs:
  loud: { type: string }
outputs:
  length: { reference: "\${measure.output}" }
nodes:
  - name: measure
    type: code
    source: { path: measure.ts, function: measure }
    inputs: { loud: "\${inputs.loud}" }
  - name: total
    type: code
    aggregation: true
    source: { path: measure.ts, function: total }
    inputs: { lengths: "\${measure.output}" }
`;

const ECHO_MODEL = `export default async function complete(request: { messages: { content: string }[] }) {
  const text = String(request.messages.at(-1)?.content ?? '');
  return { choices: [{ message: { role: 'assistant', content: text.toUpperCase() } }],
           usage: { prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 } };
}
`;

/**
 * The result commands on an experiment where a row fails: the failure is shown, not hidden.
 * A run whose rows failed is still the result of the current plan, so it is compared, shown,
 * exported and drawn, with its failures.
 */
describe('results of runs with failed rows', () => {
  let dir: string;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ dir, cleanup } = await tempProject([]));
    await mkdir(path.join(dir, 'flows/shout'), { recursive: true });
    await mkdir(path.join(dir, 'flows/count'), { recursive: true });
    await writeFile(path.join(dir, 'package.json'), '{ "type": "module" }\n');
    await writeFile(path.join(dir, 'experiment.yaml'), EXPERIMENT);
    await writeFile(path.join(dir, 'echo-model.ts'), ECHO_MODEL);
    await writeFile(path.join(dir, 'flows/shout/flow.yaml'), SHOUT_FLOW);
    await writeFile(path.join(dir, 'flows/count/flow.yaml'), COUNT_FLOW);
    await writeFile(
      path.join(dir, 'flows/shout/ask.jinja2'),
      '# system:\nbe loud\n# user:\nsay {{ text }}\n',
    );
    await writeFile(
      path.join(dir, 'flows/shout/check.ts'),
      `export function check({ text }: { text: string }) {
  if (text.includes('bad')) throw new Error('refusing "' + text + '"');
  return text;
}
`,
    );
    await writeFile(
      path.join(dir, 'flows/count/measure.ts'),
      `export const measure = ({ loud }: { loud: string }) => loud.length;
export const total = ({ lengths }: { lengths: number[] }) => ({ total: lengths.reduce((a, b) => a + b, 0) });
`,
    );
    const items = ['one', 'bad two', 'three'].map((text, i) =>
      JSON.stringify({ id: `i${i + 1}`, text }),
    );
    await writeFile(path.join(dir, 'items.jsonl'), `${items.join('\n')}\n`);
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
