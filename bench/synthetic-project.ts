import { cp, mkdir, mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { tinyPng } from '../test/support/tiny-png.js';

/** The repository root: the example's flows are copied from it, node_modules linked to it. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface SyntheticProjectOptions {
  /** Rows of the dataset. */
  readonly rows: number;
  /** One small PNG per row (the describe stage sends it); without, describe takes no image. */
  readonly images: boolean;
  /** The OpenAI-compatible endpoint every llm node calls. */
  readonly baseUrl: string;
  /** Row concurrency of every stage. */
  readonly concurrency: number;
}

/**
 * A throw-away copy of the example experiment scaled to `rows` synthetic products: the same
 * three stages (describe with 2 variants → validate with 3 → evaluate), the same flows, every
 * llm node on one OpenAI-compatible connection. Products follow the example's schema with
 * fewer attributes (9) and keywords (6), so a row is about 1 KB.
 */
export async function createSyntheticProject(options: SyntheticProjectOptions): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `kwgraph-bench-${options.rows}-`));
  await cp(path.join(REPO_ROOT, 'flows'), path.join(dir, 'flows'), { recursive: true });
  await symlink(path.join(REPO_ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  // The example's flow code imports kwgraph's own types from src/.
  await symlink(path.join(REPO_ROOT, 'src'), path.join(dir, 'src'), 'dir');

  if (!options.images) {
    // Without images the describe flow takes no image input at all.
    const flowFile = path.join(dir, 'flows/describe/flow.yaml');
    const flow = await readFile(flowFile, 'utf8');
    await writeFile(
      flowFile,
      flow
        .split('\n')
        .filter((line) => !/^\s+image: /.test(line))
        .join('\n'),
    );
  }

  await writeFile(path.join(dir, 'experiment.yaml'), experimentYaml(options));
  await mkdir(path.join(dir, 'data'), { recursive: true });
  if (options.images) await mkdir(path.join(dir, 'data/images'), { recursive: true });

  const out = createWriteStream(path.join(dir, 'data/products.jsonl'));
  const random = mulberry32(42);
  for (let index = 0; index < options.rows; index++) {
    const id = `P${String(index + 1).padStart(7, '0')}`;
    const imagePath = `data/images/${id}.png`;
    if (options.images) await writeFile(path.join(dir, imagePath), tinyPng(index));
    const line = `${JSON.stringify(product(id, index, options.images ? [imagePath] : [], random))}\n`;
    if (!out.write(line)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) =>
    out.end((error?: Error | null) => (error ? reject(error) : resolve())),
  );
  return dir;
}

function experimentYaml(options: SyntheticProjectOptions): string {
  const image = options.images ? '\n      image: ${data.images.0}' : '';
  return `name: keyword-correctness-bench

datasets:
  products:
    path: data/products.jsonl
    key: fsn

connections:
  stub:
    kind: openai
    base_url: ${options.baseUrl}
    api_key_env: BENCH_API_KEY
    # Room for two runs of 64 rows side by side (the incremental build): the endpoint's own
    # default of 16 in flight would measure that limit, not kwgraph.
    limits: { concurrency: 128 }

defaults:
  connection: stub
  concurrency: ${options.concurrency}
  temperature: 0

stages:
  describe:
    flow: flows/describe
    rows: products
    inputs:${image}
      attributes: \${data.grounding_attributes}
    variants: [concise, detailed]
    settings: { model: gpt-4o-mini, detail: low }

  validate:
    flow: flows/validate
    rows: describe
    inputs:
      description: \${describe.outputs.description}
      attributes: \${data.grounding_attributes}
      keywords: \${data.keywords}
    variants: [strict_top10, lenient_top10, strict_top5]

  evaluate:
    flow: flows/evaluate
    rows: validate
    inputs:
      answer: \${validate.outputs.answer}
      labels: \${data.keywords}

compare:
  metric: recall_incorrect
`;
}

const COLOURS = ['Maroon', 'Navy', 'Olive', 'Black', 'White', 'Mustard', 'Teal', 'Pink'];
const MATERIALS = ['Cotton', 'Rayon', 'Silk', 'Polyester', 'Linen', 'Chiffon'];
const TYPES = ['kurta set', 'saree', 'dress', 'shirt', 'lehenga', 'top'];
const OCCASIONS = ['Festive', 'Casual', 'Party', 'Office'];
const PATTERNS = ['Printed', 'Solid', 'Embroidered', 'Striped'];

function product(id: string, index: number, images: string[], random: () => number) {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const colour = pick(COLOURS);
  const material = pick(MATERIALS);
  const type = pick(TYPES);
  const attributes = [
    { name: 'color', value: colour, priority: 'mandatory', fillRate: 99.9 },
    { name: 'type', value: type, priority: 'mandatory', fillRate: 99.5 },
    { name: 'fabric', value: material, priority: 'good_to_have', fillRate: 88.2 },
    { name: 'occasion', value: pick(OCCASIONS), priority: 'good_to_have', fillRate: 80 },
    { name: 'pattern', value: pick(PATTERNS), priority: 'good_to_have', fillRate: 75.4 },
    { name: 'ideal_for', value: 'Women', priority: 'good_to_have', fillRate: 70.1 },
    { name: 'sleeve', value: 'Three-quarter', priority: 'good_to_have', fillRate: 42 },
    // Every product its own brand: no two rows send the same prompt, so every call is a call.
    { name: 'brand', value: `Brand ${id}`, priority: 'good_to_have', fillRate: 30.5 },
    { name: 'keywords', value: `${colour} ${type}`.toLowerCase(), priority: 'good_to_have' },
  ];
  const keywords: Record<string, string> = {
    [`${colour} ${type}`.toLowerCase()]: 'correct',
    [`${material} ${type}`.toLowerCase()]: 'correct',
    [`${pick(COLOURS)} ${pick(TYPES)} for men`.toLowerCase()]: 'incorrect',
    [`${pick(MATERIALS)} ${type} set`.toLowerCase()]: random() < 0.5 ? 'correct' : 'incorrect',
    [`women ${type}`.toLowerCase()]: 'correct',
    [`kids ${pick(TYPES)} ${index % 97}`.toLowerCase()]: 'incorrect',
  };
  return { fsn: id, row_index: index, images, grounding_attributes: attributes, keywords };
}

/** A small deterministic PRNG, so every bench run generates the same products. */
function mulberry32(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
