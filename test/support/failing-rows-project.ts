import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { tempProject } from './cli.js';

/**
 * A two-stage project in which some rows fail: `shout` sends each item's text to a module
 * model that answers in capitals, after a code node that refuses any text containing "bad";
 * `count` measures each answer and totals them in an aggregation node. The model appends what
 * it is sent to `calls.log`, so tests can count the calls that were made.
 */
export async function failingRowsProject(options: {
  /** One item per text, keyed i1, i2, … */
  readonly texts: readonly string[];
  /** Lines appended to experiment.yaml (a `compare` block, say). */
  readonly experimentTail?: string;
}): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const project = await tempProject([]);
  const items = options.texts.map((text, i) => JSON.stringify({ id: `i${i + 1}`, text }));
  const files: Record<string, string> = {
    'package.json': '{ "type": "module" }\n',
    'experiment.yaml': EXPERIMENT + (options.experimentTail ?? ''),
    'echo-model.ts': ECHO_MODEL,
    'items.jsonl': `${items.join('\n')}\n`,
    'flows/shout/flow.yaml': SHOUT_FLOW,
    'flows/shout/ask.jinja2': '# system:\nbe loud\n# user:\nsay {{ text }}\n',
    'flows/shout/check.ts': `export function check({ text }: { text: string }) {
  if (text.includes('bad')) throw new Error('refusing "' + text + '"');
  return text;
}
`,
    'flows/count/flow.yaml': COUNT_FLOW,
    'flows/count/measure.ts': `export const measure = ({ loud }: { loud: string }) => loud.length;
export const total = ({ lengths }: { lengths: number[] }) =>
  ({ total: lengths.reduce((a, b) => a + b, 0), scored: lengths.length });
`,
  };
  for (const [file, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(project.dir, file)), { recursive: true });
    await writeFile(path.join(project.dir, file), text);
  }
  return project;
}

const EXPERIMENT = `name: some-rows-fail
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

const ECHO_MODEL = `import { appendFileSync } from 'node:fs';
export default async function complete(request: { messages: { content: string }[] }) {
  const text = String(request.messages.at(-1)?.content ?? '');
  appendFileSync(new URL('./calls.log', import.meta.url), text + '\\n');
  return { choices: [{ message: { role: 'assistant', content: text.toUpperCase() } }],
           usage: { prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 } };
}
`;
