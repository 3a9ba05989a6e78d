import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { OrderedJsonlWriter } from '../../src/runs/ordered-jsonl-writer.js';
import { JsonlLineError, readJsonlLines } from '../../src/runs/read-jsonl-lines.js';

const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kwgraph-jsonl-'));
  dirs.push(dir);
  return dir;
}

async function collect(file: string) {
  const lines = [];
  for await (const line of readJsonlLines(file)) lines.push(line);
  return lines;
}

describe('OrderedJsonlWriter', () => {
  it('writes lines given out of order in index order, and hashes what it wrote', async () => {
    const file = path.join(await tempDir(), 'runs/r/outputs.jsonl');
    const writer = await OrderedJsonlWriter.open(file);
    const rows = Array.from({ length: 500 }, (_, index) => ({ key: `k${index}`, index }));
    // Finish order: a scramble that still holds some lines back for long.
    const order = rows
      .map((_, index) => index)
      .sort((a, b) => ((a * 7919) % 500) - ((b * 7919) % 500));
    for (const index of order) await writer.write(index, rows[index]);
    const written = await writer.finish();

    const expected = rows.map((row) => `${JSON.stringify(row)}\n`).join('');
    expect(await readFile(file, 'utf8')).toBe(expected);
    expect(written).toEqual({
      hash: createHash('sha256').update(expected).digest('hex'),
      lines: 500,
      bytes: Buffer.byteLength(expected),
    });
    expect(await readdir(path.dirname(file))).toEqual(['outputs.jsonl']);
  });

  it('holds only the lines waiting for an earlier one', async () => {
    const writer = await OrderedJsonlWriter.open(path.join(await tempDir(), 'out.jsonl'));
    await writer.write(1, 'b');
    await writer.write(2, 'c');
    expect(writer.held).toBe(2);
    await writer.write(0, 'a');
    expect(writer.held).toBe(0);
    await writer.finish();
  });

  it('lets a producer wait until a line far enough back is written', async () => {
    const writer = await OrderedJsonlWriter.open(path.join(await tempDir(), 'out.jsonl'));
    let started = false;
    const room = writer.waitForRoom(5, 4).then(() => (started = true));
    await writer.write(1, 'b');
    await Promise.resolve();
    expect(started).toBe(false);
    await writer.write(0, 'a');
    await room;
    expect(started).toBe(true);
    await writer.write(2, 'c');
    await writer.finish();
  });

  it('lets every producer go once a line will never come', async () => {
    const writer = await OrderedJsonlWriter.open(path.join(await tempDir(), 'out.jsonl'));
    let started = 0;
    const waiting = [writer.waitForRoom(8, 2), writer.waitForRoom(9, 2)].map((room) =>
      room.then(() => started++),
    );
    await writer.write(1, 'b');
    await Promise.resolve();
    expect(started).toBe(0);
    // Line 0's row was stopped: nothing will ever write it.
    writer.stopWaiting();
    await Promise.all(waiting);
    expect(started).toBe(2);
    await writer.waitForRoom(100, 2);
    await writer.abort();
  });

  it('keeps the old file when aborted, and refuses to finish with a line missing', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'outputs.jsonl');
    await writeFile(file, '"old"\n');

    const aborted = await OrderedJsonlWriter.open(file);
    await aborted.write(0, 'new');
    await aborted.abort();
    expect(await readFile(file, 'utf8')).toBe('"old"\n');

    const gap = await OrderedJsonlWriter.open(file);
    await gap.write(1, 'second');
    await expect(gap.finish()).rejects.toThrow(/line 0 was never written/);
    await expect(gap.write(1, 'again')).rejects.toThrow(/written twice/);
    expect(await readFile(file, 'utf8')).toBe('"old"\n');
    expect(await readdir(dir)).toEqual(['outputs.jsonl']);
  });
});

describe('readJsonlLines', () => {
  it('yields each parsed line with its line number, skipping blank lines', async () => {
    const file = path.join(await tempDir(), 'data.jsonl');
    await writeFile(file, '\uFEFF{"a": 1}\r\n\n  \n[2]\n"three"');
    expect(await collect(file)).toEqual([
      { line: 1, value: { a: 1 } },
      { line: 4, value: [2] },
      { line: 5, value: 'three' },
    ]);
  });

  it('reads back what the writer wrote, line for line', async () => {
    const file = path.join(await tempDir(), 'outputs.jsonl');
    const writer = await OrderedJsonlWriter.open(file);
    const text = 'x'.repeat(100_000);
    for (let index = 2; index >= 0; index--) await writer.write(index, { index, text });
    await writer.finish();
    expect((await collect(file)).map((line) => (line.value as { index: number }).index)).toEqual([
      0, 1, 2,
    ]);
  });

  it('names the file and line of a line that is not JSON', async () => {
    const file = path.join(await tempDir(), 'bad.jsonl');
    await writeFile(file, '{"ok": true}\n{"broken": \n');
    const lines: unknown[] = [];
    const reading = (async () => {
      for await (const line of readJsonlLines(file)) lines.push(line.value);
    })();
    await expect(reading).rejects.toThrow(JsonlLineError);
    await expect(reading).rejects.toThrow(`${file}:2: not valid JSON`);
    expect(lines).toEqual([{ ok: true }]);
  });
});
