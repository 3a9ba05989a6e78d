import { createHash } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import type { DatasetConfig } from '../../src/config/types.js';
import { readDataset } from '../../src/data/read-dataset.js';
import { DatasetChanged, streamDatasetRows } from '../../src/data/stream-dataset.js';
import { rowsWithUpstream } from '../../src/execute/run-rows.js';
import type { ContentHash } from '../../src/fingerprint/hash.js';
import { writeProject } from '../config/write-project.js';

const roots: string[] = [];
afterAll(async () => {
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});

async function dataset(file: string, content: string, key?: string) {
  const root = await writeProject({ [file]: content });
  roots.push(root);
  const config: DatasetConfig = {
    name: 'products',
    path: file,
    format: file.endsWith('.csv') ? 'csv' : 'jsonl',
    position: { file: 'experiment.yaml', line: 3, column: 3 },
    ...(key ? { key } : {}),
  };
  const hash = createHash('sha256').update(content).digest('hex') as ContentHash;
  return { root, config, hash };
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

/** Enough rows that the file is read in several chunks, lines split across them. */
const MANY = Array.from({ length: 3000 }, (_, n) => ({
  id: `p${n}`,
  name: `product ${n} ${'é'.repeat(n % 7)}`,
  image: { 'data:image/png;path': `img/${n}.png` },
}));

describe('streamDatasetRows', () => {
  it('gives the rows readDataset gives, for JSONL', async () => {
    const text = `\uFEFF${MANY.map((row) => JSON.stringify(row)).join('\r\n')}\n\n`;
    const { root, config, hash } = await dataset('data/p.jsonl', text, 'id');
    const read = await readDataset(root, config);
    if (!read.ok) throw new Error('unreadable');
    expect(await collect(streamDatasetRows(root, config, hash))).toEqual(read.value.rows);
  });

  it('gives the rows readDataset gives, for CSV, keyed by position without a key', async () => {
    const lines = MANY.map((row) => `${row.id},"${row.name}, with a comma"`);
    const text = `id,name\n${lines.join('\n')}\n`;
    const { root, config, hash } = await dataset('p.csv', text);
    const read = await readDataset(root, config);
    if (!read.ok) throw new Error('unreadable');
    const streamed = await collect(streamDatasetRows(root, config, hash));
    expect(streamed).toHaveLength(MANY.length);
    expect(streamed).toEqual(read.value.rows);
  });

  it('refuses bytes that are not the ones fingerprinted', async () => {
    const { root, config, hash } = await dataset('p.jsonl', '{"a": 1}\n{"a": 2}\n');
    await writeFile(path.join(root, 'p.jsonl'), '{"a": 1}\n{"a": 3}\n');
    await expect(collect(streamDatasetRows(root, config, hash))).rejects.toThrow(DatasetChanged);
  });
});

describe('rowsWithUpstream', () => {
  const rows = ['a', 'b', 'c', 'd'].map((key, index) => ({ key, index, data: { key } }));
  async function* stream() {
    yield* rows;
  }
  const line = (key: string, index: number) => ({ key, index, status: 'ok', outputs: { key } });

  it('pairs each row with its line in every upstream run', async () => {
    const { root } = await dataset('x.jsonl', '');
    const first = path.join(root, 'first.jsonl');
    const second = path.join(root, 'second.jsonl');
    await writeFile(
      first,
      rows.map((row) => `${JSON.stringify(line(row.key, row.index))}\n`).join(''),
    );
    // Out of step: a row missing and one not in the dataset; matched by key all the same.
    const lines = [line('a', 0), line('zz', 1), line('c', 2), line('d', 3)];
    await writeFile(second, lines.map((item) => `${JSON.stringify(item)}\n`).join(''));

    const paired = await collect(
      rowsWithUpstream(
        stream(),
        new Map([
          ['one', first],
          ['two', second],
        ]),
      ),
    );
    expect(
      paired.map((row) => [row.key, row.upstream.get('one'), row.upstream.get('two')]),
    ).toEqual([
      ['a', line('a', 0), line('a', 0)],
      ['b', line('b', 1), undefined],
      ['c', line('c', 2), line('c', 2)],
      ['d', line('d', 3), line('d', 3)],
    ]);
  });
});
