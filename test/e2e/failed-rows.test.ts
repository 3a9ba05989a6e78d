import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildJson, runCli, tempProject } from '../support/cli.js';

const EXPERIMENT = `name: failing-rows
datasets:
  items: { path: items.jsonl, key: id }
connections:
  echo: { kind: module, module: echo-model.ts, model: echo-1 }
defaults: { connection: echo, concurrency: 2 }
stages:
  shout:
    flow: flows/shout
    rows: items
    inputs: { text: "\${data.text}" }
  count:
    flow: flows/count
    rows: shout
    inputs: { loud: "\${shout.outputs.loud}" }
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

/** Counts the calls that reach it, one line per call, so tests can see what was sent. */
const ECHO_MODEL = `import { appendFileSync } from 'node:fs';
export default async function complete(request: { messages: { content: string }[] }) {
  const text = String(request.messages.at(-1)?.content ?? '');
  appendFileSync(new URL('./calls.log', import.meta.url), text + '\\n');
  return { choices: [{ message: { role: 'assistant', content: text.toUpperCase() } }],
           usage: { prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 } };
}
`;

/**
 * A failing row fails its run, not the build's other rows: the run is `failed` with the row's
 * error, the build exits 1, downstream rows built on it are skipped, and the next build re-runs
 * only what failed.
 */
describe('failed rows', () => {
  let dir: string;
  let cleanup: () => Promise<void>;

  const calls = async () =>
    (await readFile(path.join(dir, 'calls.log'), 'utf8').catch(() => '')).split('\n').filter(Boolean);

  beforeAll(async () => {
    ({ dir, cleanup } = await tempProject([]));
    await mkdir(path.join(dir, 'flows/shout'), { recursive: true });
    await mkdir(path.join(dir, 'flows/count'), { recursive: true });
    await writeFile(path.join(dir, 'package.json'), '{ "type": "module" }\n');
    await writeFile(path.join(dir, 'experiment.yaml'), EXPERIMENT);
    await writeFile(path.join(dir, 'echo-model.ts'), ECHO_MODEL);
    await writeFile(path.join(dir, 'flows/shout/flow.yaml'), SHOUT_FLOW);
    await writeFile(path.join(dir, 'flows/count/flow.yaml'), COUNT_FLOW);
    await writeFile(path.join(dir, 'flows/shout/ask.jinja2'), '# user:\nsay {{ text }}\n');
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
export const total = ({ lengths }: { lengths: number[] }) => ({ rows: lengths.length, total: lengths.reduce((a, b) => a + b, 0) });
`,
    );
    const items = ['one', 'two', 'bad three', 'four', 'five'].map((text, i) =>
      JSON.stringify({ id: `i${i + 1}`, text }),
    );
    await writeFile(path.join(dir, 'items.jsonl'), `${items.join('\n')}\n`);
  });
  afterAll(async () => cleanup());

  it('fails the run with the row error, keeps the other rows, and exits 1', async () => {
    const result = await runCli(dir, ['build']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/failed\s+shout\s+1 of 5 rows failed/);
    expect(result.stdout).toContain('row i3 in check: refusing "bad three"');
    expect(result.stdout).toMatch(/failed\s+count~shout\s+1 of 5 rows failed/);
    expect(await calls()).toHaveLength(4);

    const outputs = (await readFile(path.join(dir, 'cache/runs/shout/outputs.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(outputs.map((line) => line.status)).toEqual(['ok', 'ok', 'failed', 'ok', 'ok']);
    expect(outputs[2]).toMatchObject({ key: 'i3', node: 'check', error: 'refusing "bad three"' });

    const metrics = JSON.parse(await readFile(path.join(dir, 'cache/runs/count~shout/metrics.json'), 'utf8'));
    expect(metrics).toEqual({ rows: 4, total: 'SAY ONE'.length + 'SAY TWO'.length + 'SAY FOUR'.length + 'SAY FIVE'.length });
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
