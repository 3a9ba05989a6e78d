import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import sharp from 'sharp';

/** A row of the small product dataset remote tests build. */
export interface TestProduct {
  readonly id: string;
  readonly title: string;
  /** A project path or a URL. */
  readonly image: string;
}

/**
 * A throw-away project with one stage, `describe`: an llm node that gets a product's title and
 * image, on whatever `connections` (YAML, indented as under `connections:`) says. Each product
 * with an image under `data/images/` gets a small PNG of its own colour.
 */
export async function remoteProject(options: {
  readonly connections: string;
  readonly products: readonly TestProduct[];
  readonly connection?: string;
  readonly concurrency?: number;
}): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kwgraph-remote-'));
  const files: Record<string, string> = {
    'experiment.yaml': `name: remote-test
datasets:
  products: { path: data/products.jsonl, key: id }
connections:
${options.connections}
defaults:
  connection: ${options.connection ?? 'remote'}
  concurrency: ${options.concurrency ?? 2}
stages:
  describe:
    flow: flows/describe
    rows: products
    inputs:
      image: \${data.image}
      title: \${data.title}
    settings: { detail: low, seed: 7, temperature: 0 }
`,
    'flows/describe/flow.yaml': `inputs:
  image: { type: image }
  title: { type: string }
outputs:
  description: { reference: "\${describe.output}" }
nodes:
  - name: describe
    type: llm
    source: { path: describe.jinja2 }
    parameters: { model: gpt-4o-mini, max_tokens: 60 }
    inputs:
      image: \${inputs.image}
      title: \${inputs.title}
`,
    'flows/describe/describe.jinja2': `# system:
You describe products for a catalogue.

# user:
Write a concise description of the product in the image.
Mandatory attributes:
- title: {{ title }}
`,
    'data/products.jsonl': options.products.map((product) => JSON.stringify(product)).join('\n'),
    'models/echo.ts': `export default async function (request: { model: string }) {
  return {
    model: request.model,
    choices: [{ index: 0, message: { role: 'assistant', content: 'offline' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  };
}
`,
  };
  for (const [file, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), content);
  }
  for (const [index, product] of options.products.entries()) {
    if (!product.image.startsWith('data/')) continue;
    await mkdir(path.dirname(path.join(dir, product.image)), { recursive: true });
    await sharp({
      create: {
        width: 16 + index,
        height: 12,
        channels: 3,
        background: { r: (index * 70) % 256, g: 120, b: 200 - index * 30 },
      },
    })
      .png()
      .toFile(path.join(dir, product.image));
  }
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** `count` products p1…pN with local images. */
export function products(count: number): TestProduct[] {
  return Array.from({ length: count }, (_, index) => ({
    id: `p${index + 1}`,
    title: `product ${index + 1} ${['mug', 'lamp', 'kettle', 'scarf', 'chair', 'clock'][index % 6]}`,
    image: `data/images/p${index + 1}.png`,
  }));
}

/** Every file under `dir`, recursively, with its raw bytes. */
export async function filesUnder(dir: string): Promise<{ file: string; bytes: Buffer }[]> {
  const found: { file: string; bytes: Buffer }[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    found.push({ file, bytes: await readFile(file) });
  }
  return found;
}

export async function readManifest(dir: string, run: string): Promise<Record<string, unknown>> {
  return JSON.parse(
    await readFile(path.join(dir, 'cache/runs', run, 'manifest.json'), 'utf8'),
  ) as Record<string, unknown>;
}

export async function readOutputLines(
  dir: string,
  run: string,
): Promise<{ key: string; status: string; error?: string }[]> {
  const text = await readFile(path.join(dir, 'cache/runs', run, 'outputs.jsonl'), 'utf8');
  return text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { key: string; status: string; error?: string });
}
