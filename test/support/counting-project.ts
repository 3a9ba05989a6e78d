import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import sqlite3 from 'sqlite3';

import { tempProject } from './cli.js';

/**
 * A small project for tests of builds that are stopped, killed, run side by side or fed bad
 * rows. Its model is a local module that answers after a short sleep and logs every call it
 * receives to `calls.log`, synchronously, so that a test counts calls where they are paid for:
 *
 *   start <id>   written when the request arrives (before the sleep)
 *   done <id>    written when the answer is returned
 *
 * `<id>` is a short hash of the request; the answer carries it as `[<id>]`, so the test can tell
 * which requests the call cache holds. Requests with temperature > 0 get a random suffix in
 * their answer: a fresh sample differs from the last.
 *
 * Stages: `ask` (2 variants) → `judge` (2 variants) → `score` (code, with an aggregation): 10
 * runs and 6 calls per row.
 */
export const COUNTING_MODEL = `import { appendFileSync, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';

const log = new URL('../calls.log', import.meta.url);
const failFlag = new URL('../fail-flaky', import.meta.url);

export default async function complete(request) {
  const id = createHash('sha256').update(JSON.stringify(request)).digest('hex').slice(0, 12);
  appendFileSync(log, 'start ' + id + '\\n');
  await new Promise((resolve) => setTimeout(resolve, Number(process.env.COUNTING_MODEL_MS ?? 30)));
  const text = String(request.messages.at(-1)?.content ?? '');
  if (text.includes('flaky') && existsSync(failFlag)) {
    appendFileSync(log, 'fail ' + id + '\\n');
    throw new Error('the model is unavailable for flaky rows');
  }
  const noise = (request.temperature ?? 0) > 0 ? ' ~' + Math.random().toString(36).slice(2, 8) : '';
  appendFileSync(log, 'done ' + id + '\\n');
  return {
    choices: [{ message: { role: 'assistant', content: text.toUpperCase() + noise + ' [' + id + ']' } }],
    usage: { prompt_tokens: 5, completion_tokens: 5, total_tokens: 10 },
  };
}
`;

export const COUNTING_EXPERIMENT = `name: counting
datasets:
  items: { path: data/items.jsonl, key: id }
connections:
  model: { kind: module, module: models/counting-model.mjs, model: count-1 }
defaults: { connection: model, concurrency: 2, temperature: 0 }
stages:
  ask:
    flow: flows/ask
    rows: items
    inputs: { text: "\${data.text}" }
    variants: [a, b]
  judge:
    flow: flows/judge
    rows: ask
    inputs: { answer: "\${ask.outputs.answer}" }
    variants: [x, y]
  score:
    flow: flows/score
    rows: judge
    inputs: { verdict: "\${judge.outputs.verdict}", text: "\${data.text}" }
`;

const ASK_FLOW = `inputs:
  text: { type: string }
outputs:
  answer: { reference: "\${ask.output}" }
nodes:
  - name: ask
    use_variants: true
node_variants:
  ask:
    default_variant_id: a
    variants:
      a:
        node:
          type: llm
          source: { path: a.jinja2 }
          inputs: { text: "\${inputs.text}" }
      b:
        node:
          type: llm
          source: { path: b.jinja2 }
          inputs: { text: "\${inputs.text}" }
`;

const JUDGE_FLOW = `inputs:
  answer: { type: string }
outputs:
  verdict: { reference: "\${judge.output}" }
nodes:
  - name: judge
    use_variants: true
node_variants:
  judge:
    default_variant_id: x
    variants:
      x:
        node:
          type: llm
          source: { path: x.jinja2 }
          inputs: { answer: "\${inputs.answer}" }
      y:
        node:
          type: llm
          source: { path: y.jinja2 }
          inputs: { answer: "\${inputs.answer}" }
`;

const SCORE_FLOW = `inputs:
  verdict: { type: string }
  text: { type: string }
outputs:
  length: { reference: "\${measure.output}" }
nodes:
  - name: measure
    type: code
    source: { path: score.mjs, function: measure }
    inputs: { verdict: "\${inputs.verdict}", text: "\${inputs.text}" }
  - name: total
    type: code
    aggregation: true
    source: { path: score.mjs, function: total }
    inputs: { lengths: "\${measure.output}" }
`;

const SCORE_CODE = `export function measure({ verdict, text }) {
  if (text.includes('explode')) throw new Error('cannot score "' + text + '"');
  return verdict.length;
}
export function total({ lengths }) {
  return { rows: lengths.length, mean_length: lengths.reduce((a, b) => a + b, 0) / Math.max(1, lengths.length) };
}
`;

/** The files of the counting project, by path. */
export function countingFiles(rows: readonly string[]): Record<string, string> {
  return {
    'package.json': '{ "type": "module" }\n',
    'experiment.yaml': COUNTING_EXPERIMENT,
    'models/counting-model.mjs': COUNTING_MODEL,
    'flows/ask/flow.yaml': ASK_FLOW,
    'flows/ask/a.jinja2': '# user:\nrepeat {{ text }}\n',
    'flows/ask/b.jinja2': '# system:\nBe terse.\n# user:\nsay {{ text }}\n',
    'flows/judge/flow.yaml': JUDGE_FLOW,
    'flows/judge/x.jinja2': '# user:\njudge {{ answer }}\n',
    'flows/judge/y.jinja2': '# user:\nrate {{ answer }}\n',
    'flows/score/flow.yaml': SCORE_FLOW,
    'flows/score/score.mjs': SCORE_CODE,
    'data/items.jsonl': rows
      .map((text, index) => JSON.stringify({ id: `r${index + 1}`, text }))
      .join('\n')
      .concat('\n'),
  };
}

/** The default rows: six harmless texts. */
export const ROWS = ['one', 'two', 'three', 'four', 'five', 'six'];

/** A temporary counting project. */
export async function countingProject(
  rows: readonly string[] = ROWS,
): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const project = await tempProject([]);
  await writeFiles(project.dir, countingFiles(rows));
  return project;
}

/**
 * A copy of a project folder, caches and all (symbolic links copied as links): a built project
 * to start a test from without building it again.
 */
export async function copyProject(
  from: string,
): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kwgraph-test-'));
  await cp(from, dir, { recursive: true, verbatimSymlinks: true });
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [file, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), content);
  }
}

/** The model's log, as `[event, id]` pairs. */
export async function modelLog(dir: string): Promise<[string, string][]> {
  const text = await readFile(path.join(dir, 'calls.log'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.split(' ') as [string, string]);
}

/** Ids of the requests with an event in the log. */
export function idsOf(log: readonly [string, string][], event: string): string[] {
  return log.filter(([kind]) => kind === event).map(([, id]) => id);
}

/**
 * Every run folder's outputs.jsonl and metrics.json, by `run/file`: what must be byte-identical
 * between two builds of the same project.
 */
export async function runOutputs(dir: string): Promise<Record<string, string>> {
  const outputs: Record<string, string> = {};
  const runs = path.join(dir, 'cache', 'runs');
  for (const run of (await readdir(runs)).sort()) {
    for (const file of ['outputs.jsonl', 'metrics.json', 'manifest.json']) {
      const text = await readFile(path.join(runs, run, file), 'utf8').catch(() => undefined);
      if (text === undefined) continue;
      // The manifest records times and costs; only its existence and status are compared.
      outputs[`${run}/${file}`] =
        file === 'manifest.json' ? (JSON.parse(text) as { status: string }).status : text;
    }
  }
  return outputs;
}

/** A call as the call cache stores it: the request sent and the answer's text. */
export interface StoredCall {
  readonly request: { messages: { role: string; content: unknown }[] };
  readonly answer: string;
}

/**
 * Ids of the requests whose answers the call cache holds, read from the SQLite file directly:
 * what a build has saved, whatever it printed.
 */
export async function storedCallIds(dir: string): Promise<Set<string>> {
  const ids = new Set<string>();
  for (const call of await storedCalls(dir)) {
    const match = /\[([0-9a-f]{12})\]$/.exec(call.answer);
    if (match?.[1]) ids.add(match[1]);
  }
  return ids;
}

/** Every call the call cache holds, read from the SQLite file directly. */
export async function storedCalls(dir: string): Promise<StoredCall[]> {
  const file = path.join(dir, 'cache', 'kwgraph.sqlite');
  const rows = await new Promise<{ value: string }[]>((resolve, reject) => {
    const db = new sqlite3.Database(file, sqlite3.OPEN_READWRITE, (error) => {
      if (error) {
        // No store yet: nothing saved.
        resolve([]);
        return;
      }
      db.all("SELECT value FROM keyv WHERE key LIKE 'calls:%'", (queryError, result) => {
        db.close();
        if (queryError) {
          if (/no such table/.test(queryError.message)) resolve([]);
          else reject(queryError);
        } else resolve(result as { value: string }[]);
      });
    });
  });
  return rows.map(({ value }) => {
    // keyv's record → kwgraph's checked entry → the call.
    const entry = JSON.parse(value) as {
      value: {
        value: {
          request: StoredCall['request'];
          response: { choices: { message: { content: string } }[] };
        };
      };
    };
    const call = entry.value.value;
    return { request: call.request, answer: call.response.choices[0]?.message.content ?? '' };
  });
}
