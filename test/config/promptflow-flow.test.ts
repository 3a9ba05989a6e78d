import { rm } from 'node:fs/promises';

import { afterAll, describe, expect, it } from 'vitest';

import { loadFlow } from '../../src/config/load-flow.js';
import { writeProject } from './write-project.js';

const roots: string[] = [];
afterAll(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

async function load(files: Record<string, string>) {
  const root = await writeProject(files);
  roots.push(root);
  const loaded = await loadFlow(root, 'flows/x', {});
  if (loaded.kind !== 'read' || loaded.flow === undefined) {
    throw new Error(`flow did not load: ${JSON.stringify(loaded)}`);
  }
  expect(loaded.diagnostics).toEqual([]);
  return loaded.flow.config;
}

const TEMPLATE = '# user:\n{{ question }}\n';

describe('llm nodes as promptflow writes them', () => {
  it('take a vision chat tool (custom_llm) with its connection among the inputs', async () => {
    const flow = await load({
      'flows/x/chat.jinja2': TEMPLATE,
      'flows/x/flow.dag.yaml': `inputs:
  question: { type: string }
outputs:
  answer: { reference: "\${chat.output}" }
nodes:
- name: chat
  type: custom_llm
  source:
    type: package_with_prompt
    tool: promptflow.tools.aoai_gpt4v.AzureOpenAI.chat
    path: chat.jinja2
  inputs:
    connection: aoai_vision
    deployment_name: gpt-4v
    max_tokens: 512
    question: \${inputs.question}
`,
    });
    expect(flow.nodes[0]).toMatchObject({
      type: 'llm',
      template: 'chat.jinja2',
      connection: 'aoai_vision',
      parameters: { model: 'gpt-4v', max_tokens: 512 },
      inputs: { question: '${inputs.question}' },
    });
  });

  it('take parameters and input defaults from a .prompty file, below the node', async () => {
    const flow = await load({
      'flows/x/ask.prompty': `---
model:
  api: chat
  configuration:
    type: openai
    model: gpt-4o-mini
  parameters:
    temperature: 0.7
    max_tokens: 100
inputs:
  question: { type: string }
  tone: { type: string, default: friendly }
---
system:
Be {{ tone }}.
user:
{{ question }}
`,
      'flows/x/flow.dag.yaml': `inputs:
  question: { type: string }
outputs:
  answer: { reference: "\${ask.output}" }
nodes:
- name: ask
  type: llm
  source: { type: code, path: ask.prompty }
  inputs:
    temperature: 0
    question: \${inputs.question}
`,
    });
    expect(flow.nodes[0]).toMatchObject({
      parameters: { model: 'gpt-4o-mini', temperature: 0, max_tokens: 100 },
      inputs: { tone: 'friendly', question: '${inputs.question}' },
    });
  });

  it('keep every input a template variable in kwgraph flow.yaml files', async () => {
    const flow = await load({
      'flows/x/chat.jinja2': TEMPLATE,
      'flows/x/flow.yaml': `inputs:
  question: { type: string }
outputs:
  answer: { reference: "\${chat.output}" }
nodes:
- name: chat
  type: llm
  source: { path: chat.jinja2 }
  parameters: { temperature: 0 }
  inputs:
    question: \${inputs.question}
    user: \${inputs.question}
`,
    });
    expect(flow.nodes[0]).toMatchObject({
      parameters: { temperature: 0 },
      inputs: { question: '${inputs.question}', user: '${inputs.question}' },
    });
  });
});
