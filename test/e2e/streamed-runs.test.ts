import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildJson, startCli, tempProject } from '../support/cli.js';

const ROWS = 600;

const EXPERIMENT = `name: streamed
datasets:
  items: { path: items.jsonl, key: id }
connections:
  slow: { kind: module, module: slow-model.ts, model: slow-1 }
defaults: { connection: slow, concurrency: 16 }
stages:
  shout:
    flow: flows/shout
    rows: items
    inputs: { text: "\${data.text}" }
  count:
    flow: flows/count
    rows: shout
    inputs: { id: "\${data.id}", loud: "\${shout.outputs.loud}" }
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
  id: { type: string }
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
    inputs: { ids: "\${inputs.id}", lengths: "\${measure.output}" }
`;

/**
 * Answers after a delay that varies from row to row, so rows finish far out of input order;
 * logs each call so a test can wait until a build is halfway.
 */
const SLOW_MODEL = `import { appendFileSync } from 'node:fs';
export default async function complete(request: { messages: { content: string }[] }) {
  const text = String(request.messages.at(-1)?.content ?? '');
  const n = Number(/\\d+/.exec(text)?.[0] ?? 0);
  await new Promise((resolve) => setTimeout(resolve, (n * 7919) % 37));
  appendFileSync(new URL('./calls.log', import.meta.url), text + '\\n');
  return { choices: [{ message: { role: 'assistant', content: text.toUpperCase() } }],
           usage: { prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 } };
}
`;

/** Row `n`'s text; every 97th row is one the flow refuses. */
const textOf = (n: number) => (n % 97 === 5 ? `bad item ${n}` : `item ${n}`);

async function writeProject(dir: string): Promise<void> {
  await mkdir(path.join(dir, 'flows/shout'), { recursive: true });
  await mkdir(path.join(dir, 'flows/count'), { recursive: true });
  await writeFile(path.join(dir, 'package.json'), '{ "type": "module" }\n');
  await writeFile(path.join(dir, 'experiment.yaml'), EXPERIMENT);
  await writeFile(path.join(dir, 'slow-model.ts'), SLOW_MODEL);
  await writeFile(path.join(dir, 'flows/shout/flow.yaml'), SHOUT_FLOW);
  await writeFile(path.join(dir, 'flows/count/flow.yaml'), COUNT_FLOW);
  await writeFile(path.join(dir, 'flows/shout/ask.jinja2'), '# user:\nsay {{ text }}\n');
  await writeFile(
    path.join(dir, 'flows/shout/check.ts'),
    `export function check({ text }: { text: string }) {
  if (text.startsWith('bad')) throw new Error('refusing "' + text + '"');
  return text;
}
`,
  );
  await writeFile(
    path.join(dir, 'flows/count/measure.ts'),
    `export const measure = ({ loud }: { loud: string }) => loud.length;
export const total = ({ ids, lengths }: { ids: string[]; lengths: number[] }) =>
  ({ rows: lengths.length, total: lengths.reduce((a, b) => a + b, 0), ids });
`,
  );
  const items = Array.from({ length: ROWS }, (_, n) =>
    JSON.stringify({ id: `r${n}`, text: textOf(n) }),
  );
  await writeFile(path.join(dir, 'items.jsonl'), `${items.join('\n')}\n`);
}

const readLines = async (file: string) =>
  (await readFile(file, 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

/**
 * A run streams its rows: they finish out of order, 16 at a time, and go to disk as they do.
 * What ends up in the run folder must be what a run holding every row would write: every row
 * once, in input order, row errors in row order, aggregation over all rows in row order; and a
 * build killed halfway resumes to the very same files.
 */
describe('a run of many rows finishing out of order', () => {
  let dir: string;
  let killedDir: string;
  const cleanups: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    for (const target of ['clean', 'killed']) {
      const { dir: project, cleanup } = await tempProject([]);
      cleanups.push(cleanup);
      await writeProject(project);
      if (target === 'clean') dir = project;
      else killedDir = project;
    }
  });
  afterAll(async () => Promise.all(cleanups.map((cleanup) => cleanup())));

  it('writes every row once, in input order, as a run that held them all would', async () => {
    const { code, report } = await buildJson(dir);
    expect(code).toBe(1);
    const bad = Array.from({ length: ROWS }, (_, n) => n).filter((n) =>
      textOf(n).startsWith('bad'),
    );
    expect(report.runs.find((run) => run.id === 'shout')).toMatchObject({
      rows: ROWS,
      rowsFailed: bad.length,
      calls: ROWS - bad.length,
    });

    const folder = path.join(dir, 'cache/runs/shout');
    const outputs = await readLines(path.join(folder, 'outputs.jsonl'));
    expect(outputs.map((line) => line.key)).toEqual(
      Array.from({ length: ROWS }, (_, n) => `r${n}`),
    );
    outputs.forEach((line, n) => {
      if (bad.includes(n)) {
        expect(line).toEqual({
          key: `r${n}`,
          index: n,
          status: 'failed',
          error: `refusing "${textOf(n)}"`,
          node: 'check',
        });
      } else {
        expect(line).toEqual({
          key: `r${n}`,
          index: n,
          status: 'ok',
          outputs: { loud: `SAY ${textOf(n).toUpperCase()}` },
        });
      }
    });

    const trace = await readLines(path.join(folder, 'trace.jsonl'));
    expect(trace.map((line) => [line.key, line.index, line.inputs])).toEqual(
      Array.from({ length: ROWS }, (_, n) => [`r${n}`, n, { text: textOf(n) }]),
    );

    const manifest = JSON.parse(await readFile(path.join(folder, 'manifest.json'), 'utf8'));
    const bytes = await readFile(path.join(folder, 'outputs.jsonl'));
    expect(manifest.outputsHash).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(manifest.rows).toMatchObject({ total: ROWS, ok: ROWS - bad.length, failed: bad.length });
    expect(manifest.rowErrors.map((error: { row: string }) => error.row)).toEqual(
      bad.map((n) => `r${n}`),
    );
    expect((await readdir(folder)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('aggregates every successful row, in row order', async () => {
    const folder = path.join(dir, 'cache/runs/count~shout');
    const metrics = JSON.parse(await readFile(path.join(folder, 'metrics.json'), 'utf8'));
    const good = Array.from({ length: ROWS }, (_, n) => n).filter(
      (n) => !textOf(n).startsWith('bad'),
    );
    expect(metrics).toEqual({
      rows: good.length,
      total: good.reduce((sum, n) => sum + `SAY ${textOf(n).toUpperCase()}`.length, 0),
      ids: good.map((n) => `r${n}`),
    });
    const outputs = await readLines(path.join(folder, 'outputs.jsonl'));
    expect(outputs.filter((line) => line.status === 'skipped').map((line) => line.key)).toEqual(
      Array.from({ length: ROWS }, (_, n) => n)
        .filter((n) => textOf(n).startsWith('bad'))
        .map((n) => `r${n}`),
    );
  });

  it('resumes a build killed halfway to the same files', async () => {
    const build = startCli(killedDir, ['build']);
    const calls = path.join(killedDir, 'calls.log');
    for (;;) {
      const logged = await readFile(calls, 'utf8').catch(() => '');
      if (logged.split('\n').length > ROWS / 3) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    build.child.kill('SIGKILL');
    const ended = await build.done;
    expect(ended.signal).toBe('SIGKILL');
    const folder = path.join(killedDir, 'cache/runs/shout');
    expect(await readdir(folder)).not.toContain('manifest.json');

    const { code, report } = await buildJson(killedDir);
    expect(code).toBe(1);
    const shout = report.runs.find((run) => run.id === 'shout');
    // The rows stored before the kill are served from the row cache.
    expect(shout?.rowsCached).toBeGreaterThan(0);
    for (const run of ['shout', 'count~shout']) {
      for (const file of ['outputs.jsonl', 'metrics.json']) {
        const clean = await readFile(path.join(dir, 'cache/runs', run, file), 'utf8').catch(
          () => undefined,
        );
        const resumed = await readFile(path.join(killedDir, 'cache/runs', run, file), 'utf8').catch(
          () => undefined,
        );
        expect(resumed, `${run}/${file}`).toEqual(clean);
      }
    }
    expect((await readdir(folder)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });
});
