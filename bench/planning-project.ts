import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export const PLANNING_STAGES = 20;
export const PLANNING_VARIANTS = 10;

/**
 * An experiment of 20 stages with 10 variants each, wired so that lineage-consistent expansion
 * gives thousands of runs, not 10^20:
 *
 *   s01 (dataset)            10 runs
 *   s02 ← s01               100 runs
 *   s03 ← s02             1,000 runs   (a chain three deep)
 *   s04 … s19 ← s01   16 × 100 runs   (a wide fan)
 *   s20 ← [s01, s02]      1,000 runs   (a diamond: each s02 run pairs only with its own s01 run)
 *
 * 3,710 runs in all. Every stage uses one flow whose llm node has 10 variants.
 */
export async function createPlanningProject(): Promise<{ dir: string; runs: number }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kwgraph-bench-plan-'));
  const flowDir = path.join(dir, 'flows/step');
  await mkdir(flowDir, { recursive: true });
  await mkdir(path.join(dir, 'data'), { recursive: true });
  await mkdir(path.join(dir, 'models'), { recursive: true });

  const variantIds = Array.from({ length: PLANNING_VARIANTS }, (_, index) => `v${index}`);
  const variants = variantIds
    .map(
      (id) => `      ${id}:
        node:
          type: llm
          source: { path: ${id}.jinja2 }
          inputs:
            text: \${inputs.text}`,
    )
    .join('\n');
  await writeFile(
    path.join(flowDir, 'flow.yaml'),
    `inputs:
  text: { type: string }
outputs:
  answer: { reference: "\${answer.output}" }
nodes:
  - name: answer
    use_variants: true
node_variants:
  answer:
    default_variant_id: v0
    variants:
${variants}
`,
  );
  for (const id of variantIds) {
    await writeFile(path.join(flowDir, `${id}.jinja2`), `# user:\n${id}: {{ text }}\n`);
  }
  await writeFile(
    path.join(dir, 'data/items.jsonl'),
    Array.from({ length: 10 }, (_, index) => `{"id": ${index}, "text": "item ${index}"}\n`).join(
      '',
    ),
  );
  await writeFile(
    path.join(dir, 'models/echo.js'),
    `export default async (request) => ({ choices: [{ message: { role: 'assistant', content: 'ok' } }] });\n`,
  );

  const stage = (name: string, rows: string) => {
    const fromStage = rows !== 'items';
    const upstream = rows.replace(/[[\]]/g, '').split(',')[0]?.trim() ?? '';
    const text = fromStage ? `\${${upstream}.outputs.answer}` : '${data.text}';
    return `  ${name}:
    flow: flows/step
    rows: ${rows}
    inputs:
      text: ${text}
    variants: [${variantIds.join(', ')}]
`;
  };
  const name = (index: number) => `s${String(index).padStart(2, '0')}`;
  const stages = [
    stage(name(1), 'items'),
    stage(name(2), name(1)),
    stage(name(3), name(2)),
    ...Array.from({ length: 16 }, (_, index) => stage(name(index + 4), name(1))),
    stage(name(20), `[${name(1)}, ${name(2)}]`),
  ];
  await writeFile(
    path.join(dir, 'experiment.yaml'),
    `name: planning-bench
datasets:
  items: { path: data/items.jsonl, key: id }
connections:
  echo: { kind: module, module: models/echo.js, model: echo }
defaults:
  connection: echo
stages:
${stages.join('\n')}`,
  );
  return { dir, runs: 10 + 100 + 1000 + 16 * 100 + 1000 };
}
