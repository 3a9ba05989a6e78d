import { rm } from 'node:fs/promises';

import { afterAll, describe, expect, it } from 'vitest';

import { loadProject } from '../../src/config/load-project.js';
import { writeProject } from './write-project.js';

const EXPERIMENT = `
name: keyword-check

datasets:
  products:
    path: data/products.jsonl
    key: fsn

connections:
  baseline:
    kind: module
    module: models/baseline.ts
  openai:
    kind: openai
    base_url: \${OPENAI_BASE_URL:-https://api.openai.com/v1}

defaults:
  connection: baseline
  concurrency: \${CONCURRENCY:-4}
  temperature: 0

cache: sqlite://cache/other.sqlite

stages:
  describe:
    flow: ./flows/describe/
    rows: products
    inputs:
      image: \${data.images.0}
      attributes: \${data.attributes}
    variants: [concise, describe.detailed]
    settings: { model: gpt-4o-mini, detail: low, stop: "###" }

  validate:
    flow: flows/validate
    rows: describe
    inputs:
      description: \${describe.outputs.description}
      keywords: \${data.keywords}
    variants:
      - strict
      - { id: warm, use: judge.strict, settings: { temperature: 0.7, connection: openai } }
      - { id: hot, settings: { temperature: 1 } }

  evaluate:
    flow: flows/evaluate
    rows: [validate]
    inputs:
      answer: \${validate.outputs.answer}
      labels: \${data.keywords}

compare:
  metric: recall_incorrect
`;

const DESCRIBE_FLOW = `
inputs:
  image: { type: image }
  attributes: { type: list, default: [] }
outputs:
  description: { reference: "\${describe.output}" }
nodes:
  - name: split
    type: code
    source: { type: code, path: split.ts, function: splitAttributes }
    inputs:
      attributes: \${inputs.attributes}
  - name: describe
    use_variants: true
node_variants:
  describe:
    default_variant_id: concise
    variants:
      concise:
        node:
          type: llm
          source: { path: concise.jinja2 }
          parameters: { max_tokens: 300 }
          inputs:
            image: \${inputs.image}
            mandatory: \${split.output.mandatory}
      detailed:
        node:
          type: llm
          source: { path: ./detailed.jinja2 }
          connection: openai
          inputs:
            image: \${inputs.image}
`;

// promptflow's file name, to check it is accepted.
const VALIDATE_FLOW = `
$schema: https://azuremlschemas.azureedge.net/promptflow/latest/Flow.schema.json
inputs:
  description: { type: string }
  keywords: { type: list }
outputs:
  answer: { reference: "\${judge.output}" }
nodes:
  - name: judge
    use_variants: true
node_variants:
  judge:
    default_variant_id: lenient
    variants:
      lenient:
        node: { type: llm, source: { path: judge.jinja2 }, inputs: { d: "\${inputs.description}" } }
      strict:
        node: { type: llm, source: { path: judge.jinja2 }, inputs: { k: "\${inputs.keywords}" } }
`;

const EVALUATE_FLOW = `
inputs:
  answer: { type: string }
  labels: { type: list }
outputs:
  score: { reference: "\${score.output}" }
nodes:
  - name: score
    type: code
    source: { path: score.ts }
    inputs: { answer: "\${inputs.answer}", labels: "\${inputs.labels}" }
  - name: metrics
    type: code
    aggregation: true
    source: { path: score.ts, function: aggregate }
    inputs: { scores: "\${score.output}" }
`;

const roots: string[] = [];
afterAll(async () => {
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});

async function project(overrides: Record<string, string> = {}): Promise<string> {
  const root = await writeProject({
    'experiment.yaml': EXPERIMENT,
    'data/products.jsonl': '{"fsn": "a", "images": ["x.jpg"], "attributes": [], "keywords": []}\n',
    'models/baseline.ts': 'export default async () => ({ choices: [] });\n',
    'flows/describe/flow.yaml': DESCRIBE_FLOW,
    'flows/describe/split.ts': 'export function splitAttributes() { return {}; }\n',
    'flows/describe/concise.jinja2': '# system:\nDescribe.\n# user:\n{{ image }}\n',
    'flows/describe/detailed.jinja2': '# user:\n{% for a in mandatory %}{{ a }}{% endfor %}\n',
    'flows/validate/flow.dag.yaml': VALIDATE_FLOW,
    'flows/validate/judge.jinja2': '# user:\n{{ d }}{{ k }}\n',
    'flows/evaluate/flow.yaml': EVALUATE_FLOW,
    'flows/evaluate/score.ts': 'export default () => 1;\nexport const aggregate = () => ({});\n',
    ...overrides,
  });
  roots.push(root);
  return root;
}

describe('loadProject', () => {
  it('loads a valid project into the resolved types', async () => {
    const root = await project();
    const loaded = await loadProject(root, { env: { CONCURRENCY: '8' } });
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.error, null, 2));
    const { experiment, flows } = loaded.value;

    expect(experiment.name).toBe('keyword-check');
    expect(experiment.root).toBe(root);
    expect(experiment.file).toBe('experiment.yaml');
    expect(experiment.cache).toBe('sqlite://cache/other.sqlite');
    expect(experiment.primaryMetric).toBe('recall_incorrect');
    expect(experiment.defaults).toEqual({ connection: 'baseline', concurrency: 8, temperature: 0 });
    expect(experiment.datasets['products']).toEqual({
      name: 'products',
      path: 'data/products.jsonl',
      format: 'jsonl',
      key: 'fsn',
      position: { file: 'experiment.yaml', line: 5, column: 3 },
    });
    expect(experiment.connections).toEqual({
      baseline: {
        kind: 'module',
        name: 'baseline',
        module: 'models/baseline.ts',
        position: { file: 'experiment.yaml', line: 10, column: 3 },
      },
      openai: {
        kind: 'openai',
        name: 'openai',
        balance: 'least_busy',
        timeoutMs: 120_000,
        maxRetries: 6,
        backoffMs: 1_000,
        endpoints: [
          {
            name: 'api.openai.com',
            base_url: 'https://api.openai.com/v1',
            api_key_env: 'OPENAI_API_KEY',
            limits: {},
            position: { file: 'experiment.yaml', line: 13, column: 3 },
          },
        ],
        position: { file: 'experiment.yaml', line: 13, column: 3 },
      },
    });

    const [describeStage, validate, evaluate] = experiment.stages;
    expect(experiment.stages.map((stage) => stage.name)).toEqual([
      'describe',
      'validate',
      'evaluate',
    ]);
    expect(describeStage).toMatchObject({
      flow: 'flows/describe',
      source: { kind: 'dataset', dataset: 'products' },
      inputs: { image: '${data.images.0}', attributes: '${data.attributes}' },
      settings: { model: 'gpt-4o-mini', detail: 'low', stop: ['###'] },
      position: { file: 'experiment.yaml', line: 25, column: 3 },
      inputPositions: {
        image: { file: 'experiment.yaml', line: 29, column: 7 },
        attributes: { file: 'experiment.yaml', line: 30, column: 7 },
      },
    });
    expect(describeStage?.variants).toEqual([
      {
        id: 'concise',
        nodeVariants: { describe: 'concise' },
        settings: {},
        position: { file: 'experiment.yaml', line: 31, column: 16 },
      },
      {
        id: 'detailed',
        nodeVariants: { describe: 'detailed' },
        settings: {},
        position: { file: 'experiment.yaml', line: 31, column: 25 },
      },
    ]);
    expect(validate?.source).toEqual({ kind: 'stages', stages: ['describe'] });
    expect(
      validate?.variants.map((variant) => [variant.id, variant.nodeVariants, variant.settings]),
    ).toEqual([
      ['strict', { judge: 'strict' }, {}],
      ['warm', { judge: 'strict' }, { temperature: 0.7, connection: 'openai' }],
      ['hot', {}, { temperature: 1 }],
    ]);
    expect(evaluate?.source).toEqual({ kind: 'stages', stages: ['validate'] });
    expect(evaluate?.variants).toEqual([]);

    expect(Object.keys(flows).sort()).toEqual([
      'flows/describe',
      'flows/evaluate',
      'flows/validate',
    ]);
    const describeFlow = flows['flows/describe'];
    expect(describeFlow?.file).toBe('flows/describe/flow.yaml');
    expect(describeFlow?.inputs).toEqual({
      image: {
        name: 'image',
        type: 'image',
        position: { file: 'flows/describe/flow.yaml', line: 3, column: 3 },
      },
      attributes: {
        name: 'attributes',
        type: 'list',
        default: [],
        position: { file: 'flows/describe/flow.yaml', line: 4, column: 3 },
      },
    });
    expect(describeFlow?.outputs['description']?.reference).toBe('${describe.output}');
    expect(describeFlow?.nodes.map((node) => [node.name, node.type])).toEqual([
      ['split', 'code'],
      ['describe', 'llm'],
    ]);
    expect(describeFlow?.nodes[0]).toMatchObject({
      type: 'code',
      module: 'split.ts',
      function: 'splitAttributes',
      aggregation: false,
      inputs: { attributes: '${inputs.attributes}' },
    });
    const variants = describeFlow?.nodeVariants['describe'];
    expect(variants?.defaultVariant).toBe('concise');
    expect(describeFlow?.nodes[1]).toBe(variants?.variants['concise']);
    expect(variants?.variants['concise']).toMatchObject({
      type: 'llm',
      template: 'concise.jinja2',
      parameters: { max_tokens: 300 },
    });
    expect(variants?.variants['detailed']).toMatchObject({
      type: 'llm',
      template: 'detailed.jinja2',
      connection: 'openai',
      parameters: {},
    });

    expect(flows['flows/validate']?.file).toBe('flows/validate/flow.dag.yaml');
    expect(flows['flows/evaluate']?.nodes[1]).toMatchObject({
      name: 'metrics',
      aggregation: true,
      function: 'aggregate',
    });
  });

  it('reads another experiment file when asked', async () => {
    const root = await project({ 'other.yaml': EXPERIMENT.replace('keyword-check', 'other') });
    const loaded = await loadProject(root, { experimentFile: 'other.yaml', env: {} });
    expect(loaded.ok && loaded.value.experiment.name).toBe('other');
    expect(loaded.ok && loaded.value.experiment.file).toBe('other.yaml');
  });

  it('reports an unset variable once, not also what its `${NAME}` would be as a value', async () => {
    const root = await project({
      'experiment.yaml': EXPERIMENT.replace(
        '  connection: baseline\n',
        '  connection: ${DEFAULT_CONNECTION}\n',
      ),
    });
    const loaded = await loadProject(root, { env: {} });
    expect(!loaded.ok && loaded.error.map((d) => d.message)).toEqual([
      'environment variable `DEFAULT_CONNECTION` is not set',
    ]);
  });

  it('reports a missing experiment file without a position', async () => {
    const root = await project();
    const loaded = await loadProject(root, { experimentFile: 'missing.yaml', env: {} });
    expect(loaded.ok).toBe(false);
    if (loaded.ok) return;
    expect(loaded.error).toHaveLength(1);
    expect(loaded.error[0]?.position).toBeUndefined();
    expect(loaded.error[0]?.message).toContain('missing.yaml');
  });

  it('reports problems of several files in one pass, sorted by file and line', async () => {
    const root = await project({
      'flows/evaluate/flow.yaml': EVALUATE_FLOW.replace(
        'labels: { type: list }',
        'labels: { tpye: list }',
      ),
      'experiment.yaml': EXPERIMENT.replace('temperature: 0\n', 'temprature: 0\n').replace(
        'rows: describe',
        'rows: describ',
      ),
    });
    const loaded = await loadProject(root, { env: {} });
    expect(loaded.ok).toBe(false);
    if (loaded.ok) return;
    const located = loaded.error.map(
      (d) => `${d.position?.file}:${d.position?.line}:${d.position?.column} ${d.message}`,
    );
    // The unknown `temprature` does not stop the cross-checks (`rows`), and the lineage error
    // that `describ` would cause is not reported as a second problem.
    expect(located).toEqual([
      'experiment.yaml:20:3 unknown key `temprature`; did you mean `temperature`?',
      'experiment.yaml:36:11 `rows` names `describ`, which is neither a dataset nor a stage; ' +
        'did you mean `describe`?',
      'flows/evaluate/flow.yaml:4:13 unknown key `tpye`; did you mean `type`?',
    ]);
  });
});
