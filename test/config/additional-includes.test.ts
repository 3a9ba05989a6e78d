import { rm } from 'node:fs/promises';

import { afterAll, describe, expect, it } from 'vitest';

import { loadFlow } from '../../src/config/load-flow.js';
import { writeProject } from './write-project.js';

const roots: string[] = [];
afterAll(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

async function load(flowYaml: string, extra: Record<string, string> = {}) {
  const root = await writeProject({
    'flows/x/flow.yaml': flowYaml,
    'flows/shared/split.ts': 'export const split = () => [];\n',
    'flows/shared/prompts/ask.jinja2': '# user:\n{{ q }}\n',
    ...extra,
  });
  roots.push(root);
  const loaded = await loadFlow(root, 'flows/x', {});
  if (loaded.kind !== 'read') throw new Error(`no flow: ${loaded.message}`);
  return loaded;
}

const NODES = `nodes:
  - name: split
    type: code
    source: { path: split.ts, function: split }
  - name: ask
    type: llm
    source: { path: prompts/ask.jinja2 }
    inputs: { q: "\${split.output}" }
`;

describe('additional_includes', () => {
  it('lets nodes use included files and folders under their own name', async () => {
    const { flow, diagnostics } = await load(
      `additional_includes: [../shared/split.ts, ../shared/prompts]\n${NODES}`,
    );
    expect(diagnostics).toEqual([]);
    expect(flow?.config.includes).toEqual(['flows/shared/split.ts', 'flows/shared/prompts']);
    expect(flow?.config.nodes).toMatchObject([
      { name: 'split', type: 'code', module: '../shared/split.ts' },
      { name: 'ask', type: 'llm', template: '../shared/prompts/ask.jinja2' },
    ]);
  });

  it('points at an included path that does not exist', async () => {
    const { diagnostics } = await load(
      `additional_includes:\n  - ../shared/split.ts\n  - ../shared/splitter.ts\n${NODES}`,
    );
    expect(diagnostics).toHaveLength(2);
    expect(diagnostics[0]).toMatchObject({
      position: { file: 'flows/x/flow.yaml', line: 3, column: 5 },
      message: 'included path `../shared/splitter.ts` does not exist',
    });
    // Without the include, the node's file is missing too; that is reported where it is named.
    expect(diagnostics[1]?.message).toMatch(/prompts\/ask\.jinja2/);
  });

  it('refuses an included file that would shadow a file of the flow', async () => {
    const { diagnostics } = await load(
      `additional_includes: [../shared/split.ts, ../shared/prompts]\n${NODES}`,
      { 'flows/x/split.ts': 'export const split = () => [1];\n' },
    );
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({
      position: { line: 1, column: 23 },
      message: 'the flow folder already has `split.ts`',
    });
  });

  it('refuses a path that leads outside the project', async () => {
    const { diagnostics } = await load(
      `additional_includes: [../../../elsewhere.ts, ../shared/prompts]\n${NODES}`,
    );
    expect(diagnostics.map((diagnostic) => diagnostic.message)).toContain(
      'path `../../../elsewhere.ts` leads outside the project',
    );
  });

  it('refuses the flow folder itself, a folder holding it, or a path inside it', async () => {
    const { diagnostics } = await load(
      `additional_includes: [../.., ., '', ../x/sub, ../shared/prompts, ../shared/split.ts]\n${NODES}`,
    );
    expect(diagnostics.map((diagnostic) => diagnostic.message)).toEqual([
      'included path `../..` holds the flow folder or is in it',
      'included path `.` holds the flow folder or is in it',
      'included path `` holds the flow folder or is in it',
      'included path `../x/sub` holds the flow folder or is in it',
    ]);
  });
});
