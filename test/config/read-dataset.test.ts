import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';

import { afterAll, describe, expect, it } from 'vitest';

import type { DatasetConfig } from '../../src/config/types.js';
import { readDataset } from '../../src/data/read-dataset.js';
import { writeProject } from './write-project.js';

const roots: string[] = [];
afterAll(async () => {
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});

async function dataset(
  file: string,
  content: string,
  options: Partial<DatasetConfig> = {},
): Promise<{ root: string; config: DatasetConfig }> {
  const root = await writeProject({ [file]: content });
  roots.push(root);
  const config: DatasetConfig = {
    name: 'products',
    path: file,
    format: file.endsWith('.csv') ? 'csv' : 'jsonl',
    position: { file: 'experiment.yaml', line: 3, column: 3 },
    ...options,
  };
  return { root, config };
}

describe('readDataset', () => {
  it('reads JSONL rows, skipping blank lines, numbered by position', async () => {
    const text = '{"a": 1}\n\n  \n{"a": [2, 3]}\r\n';
    const { root, config } = await dataset('data/p.jsonl', text);
    const read = await readDataset(root, config);
    expect(read).toEqual({
      ok: true,
      value: {
        rows: [
          { key: '0', index: 0, data: { a: 1 } },
          { key: '1', index: 1, data: { a: [2, 3] } },
        ],
        contentHash: createHash('sha256').update(text).digest('hex'),
      },
    });
  });

  it('keys rows by the key column, as strings', async () => {
    const { root, config } = await dataset('data/p.jsonl', '{"id": 7}\n{"id": "x"}\n', {
      key: 'id',
    });
    const read = await readDataset(root, config);
    expect(read.ok && read.value.rows.map((row) => row.key)).toEqual(['7', 'x']);
  });

  it('points at the key column of a row whose key was seen before', async () => {
    const { root, config } = await dataset(
      'data/p.jsonl',
      '{"id": "a", "t": 1}\n{"t": 2, "id": "a"}\n',
      { key: 'id' },
    );
    const read = await readDataset(root, config);
    expect(!read.ok && read.error).toEqual([
      {
        message: 'duplicate key `a` in column `id` (first on line 1)',
        position: { file: 'data/p.jsonl', line: 2, column: 10 },
        length: 1,
      },
    ]);
  });

  it('reports every bad line with its line number', async () => {
    const { root, config } = await dataset('data/p.jsonl', '{"a": 1}\nnot json\n{"a": 2}\n42\n');
    const read = await readDataset(root, config);
    expect(!read.ok && read.error.map((d) => [d.position?.line, d.message])).toEqual([
      [2, expect.stringContaining('line 2 is not valid JSON')],
      [4, "line 4 is not a JSON object (one object per line, with the row's columns)"],
    ]);
  });

  it('stops listing bad lines after 20', async () => {
    const { root, config } = await dataset('data/p.jsonl', 'x\n'.repeat(50));
    const read = await readDataset(root, config);
    expect(!read.ok && read.error).toHaveLength(21);
    expect(!read.ok && read.error[20]?.message).toBe(
      '30 more problems from this line on are not shown',
    );
  });

  it('reads CSV with a header row, keeping values as strings', async () => {
    const text = '\uFEFFsku,title,price\na1,"Red, long dress",007\na2,"Two\nlines",10\n';
    const { root, config } = await dataset('data/p.csv', text, { key: 'sku' });
    const read = await readDataset(root, config);
    expect(read.ok && read.value.rows).toEqual([
      { key: 'a1', index: 0, data: { sku: 'a1', title: 'Red, long dress', price: '007' } },
      { key: 'a2', index: 1, data: { sku: 'a2', title: 'Two\nlines', price: '10' } },
    ]);
  });

  it('reports a missing file at the dataset in experiment.yaml', async () => {
    const { root, config } = await dataset('data/p.jsonl', '', { path: 'data/other.jsonl' });
    const read = await readDataset(root, config);
    expect(!read.ok && read.error[0]).toMatchObject({
      message: 'dataset file `data/other.jsonl` of dataset `products` does not exist',
      position: { file: 'experiment.yaml', line: 3, column: 3 },
    });
  });

  it('reads 100,000 rows quickly', async () => {
    const line = (i: number) =>
      JSON.stringify({ id: `p${i}`, title: `Product ${i}`, tags: ['a', 'b'] });
    const text = `${Array.from({ length: 100_000 }, (_, i) => line(i)).join('\n')}\n`;
    const { root, config } = await dataset('data/big.jsonl', text, { key: 'id' });
    const started = performance.now();
    const read = await readDataset(root, config);
    const elapsed = performance.now() - started;
    expect(read.ok && read.value.rows.length).toBe(100_000);
    expect(elapsed).toBeLessThan(3000);
  });
});
