import { mkdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { writeProject } from '../config/write-project.js';
import { buildJson, runCli } from '../support/cli.js';
import { tinyPng } from '../support/tiny-png.js';

/**
 * The stat cache through the real CLI: files are not re-hashed when their stat signature is
 * unchanged, so every way of changing a file while keeping its size (and even its mtime) must
 * still be seen, and a file that was only touched must not cost a re-run.
 */
describe('builds with the stat cache', () => {
  let dir: string;
  const LONG_AGO = new Date('2020-01-02T03:04:05Z');

  const rows = [
    { id: 'a', group: 'g', name: 'Alpha', image: 'data/images/a.png' },
    { id: 'b', group: 'g', name: 'Bravo', image: 'data/images/b.png' },
    { id: 'c', group: 'g', name: 'Delta', image: 'data/images/c.png' },
  ];
  const jsonl = (items: readonly object[]) =>
    items.map((row) => `${JSON.stringify(row)}\n`).join('');

  /** Rewrites a file in place and puts its old mtime back: only size-and-mtime would miss it. */
  async function rewriteKeepingMtime(file: string, content: string | Buffer): Promise<void> {
    const before = await stat(file);
    await writeFile(file, content);
    await utimes(file, before.atime, before.mtime);
    const after = await stat(file);
    expect([after.size, after.mtimeMs]).toEqual([before.size, before.mtimeMs]);
  }

  beforeAll(async () => {
    dir = await writeProject({
      'experiment.yaml': `name: stat-cache
datasets:
  products: { path: data/products.jsonl, key: id }
connections:
  echo: { kind: module, module: models/echo.js, model: echo }
defaults:
  connection: echo
stages:
  describe:
    flow: flows/describe
    rows: products
    inputs:
      image: \${data.image}
      name: \${data.name}
`,
      'flows/describe/flow.yaml': `inputs:
  image: { type: image }
  name: { type: string }
outputs:
  text: { reference: "\${describe.output}" }
nodes:
  - name: describe
    type: llm
    source: { path: describe.jinja2 }
    inputs:
      image: \${inputs.image}
      name: \${inputs.name}
`,
      'flows/describe/describe.jinja2': '# user:\nDescribe {{ name }}.\n',
      'models/echo.js': `export default async (request) => {
  const parts = request.messages.at(-1).content;
  const image = Array.isArray(parts) ? parts.find((part) => part.type === 'image_url') : undefined;
  return { choices: [{ message: { role: 'assistant', content: String(image?.image_url.url.length) } }] };
};
`,
      'data/products.jsonl': jsonl(rows),
    });
    await mkdir(path.join(dir, 'data/images'));
    await Promise.all(
      rows.map((row, index) => writeFile(path.join(dir, row.image), tinyPng(index + 1))),
    );
    // Old files are past the racy window, so their hashes are trusted between builds.
    const files = [
      'experiment.yaml',
      'flows/describe/flow.yaml',
      'flows/describe/describe.jinja2',
      'models/echo.js',
      'data/products.jsonl',
      ...rows.map((row) => row.image),
    ];
    for (const file of files) await utimes(path.join(dir, file), LONG_AGO, LONG_AGO);

    const cold = await buildJson(dir);
    expect(cold.code, cold.stderr).toBe(0);
    expect(cold.report.runs.map((run) => [run.status, run.calls])).toEqual([['executed', 3]]);
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('keeps a record of file hashes and serves an unchanged project from cache', async () => {
    const stored = JSON.parse(await readFile(path.join(dir, 'cache/stat-cache.json'), 'utf8'));
    expect(Object.keys(stored.files)).toEqual([
      'data/images/a.png',
      'data/images/b.png',
      'data/images/c.png',
      'data/products.jsonl',
      'flows/describe/describe.jinja2',
      'flows/describe/flow.yaml',
      'models/echo.js',
    ]);
    const { report } = await buildJson(dir);
    expect(report.runs.map((run) => run.status)).toEqual(['cached']);
  });

  it('sees an image replaced by another of the same size with its old mtime', async () => {
    await rewriteKeepingMtime(path.join(dir, 'data/images/b.png'), tinyPng(7));

    const status = await runCli(dir, ['status']);
    expect(status.stdout).toMatch(
      /stale\s+describe\s+images referenced by data\/products.jsonl changed/,
    );
    const { report } = await buildJson(dir);
    expect(report.runs.map((run) => [run.status, run.calls, run.rowsCached])).toEqual([
      ['executed', 1, 2],
    ]);
  });

  it('sees the dataset rewritten in place with the same size and mtime', async () => {
    const edited = rows.map((row) => (row.id === 'c' ? { ...row, name: 'Gamma' } : row));
    await rewriteKeepingMtime(path.join(dir, 'data/products.jsonl'), jsonl(edited));

    const { report } = await buildJson(dir);
    expect(report.runs.map((run) => [run.status, run.reasons, run.calls])).toEqual([
      ['executed', ['1 row of data/products.jsonl changed'], 1],
    ]);
  });

  it('does not re-run anything for a file that was only touched', async () => {
    const now = new Date();
    await utimes(path.join(dir, 'data/products.jsonl'), now, now);
    await utimes(path.join(dir, 'data/images/a.png'), now, now);

    const { report } = await buildJson(dir);
    expect(report.runs.map((run) => run.status)).toEqual(['cached']);
  });

  it('still checks the rows when the key column changes but the file does not', async () => {
    const file = path.join(dir, 'experiment.yaml');
    const experiment = await readFile(file, 'utf8');
    await writeFile(file, experiment.replace('key: id', 'key: group'));
    try {
      const result = await runCli(dir, ['build']);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/duplicate key `g` in column `group`/);
    } finally {
      await writeFile(file, experiment);
    }
  });
});
