import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { FileHashCache, STAT_CACHE_FILE } from '../../src/fingerprint/file-hash-cache.js';
import { writeProject } from '../config/write-project.js';

const roots: string[] = [];
afterAll(async () => {
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});

async function project(files: Record<string, string>): Promise<string> {
  const root = await writeProject(files);
  roots.push(root);
  return root;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** A time long before any test runs: a file this old is past the racy window. */
const LONG_AGO = new Date('2020-01-02T03:04:05Z');

/**
 * What one build does: load the stat cache, hash, save. Each call is a new "process" that only
 * knows what the previous ones saved.
 */
async function build(root: string, file: string): Promise<{ hash: string; reads: number }> {
  const cache = await FileHashCache.load(root);
  const hash = await cache.hash(file);
  await cache.save();
  return { hash, reads: cache.filesRead };
}

describe('FileHashCache', () => {
  it('does not read an unchanged file again in a later build', async () => {
    const root = await project({ 'flows/a/prompt.jinja2': 'hello' });
    const file = 'flows/a/prompt.jinja2';
    await utimes(path.join(root, file), LONG_AGO, LONG_AGO);

    expect(await build(root, file)).toEqual({ hash: sha256('hello'), reads: 1 });
    expect(await build(root, file)).toEqual({ hash: sha256('hello'), reads: 0 });
    const stored = JSON.parse(await readFile(path.join(root, STAT_CACHE_FILE), 'utf8'));
    expect(Object.keys(stored.files)).toEqual([file]);
  });

  it('hashes a file edited within the same second again, in this build and the next', async () => {
    const root = await project({ 'data/rows.jsonl': '{"a": 1}\n' });
    const file = 'data/rows.jsonl';
    const cache = await FileHashCache.load(root);
    expect(await cache.hash(file)).toBe(sha256('{"a": 1}\n'));
    await cache.save();

    // Same size, right after it was hashed: on a file system with coarse timestamps nothing in
    // the stat signature would differ. The entry was recorded within the racy window, so it
    // is never trusted.
    await writeFile(path.join(root, file), '{"a": 2}\n');
    expect(await cache.hash(file)).toBe(sha256('{"a": 2}\n'));
    expect(cache.filesRead).toBe(2);
    expect(await build(root, file)).toEqual({ hash: sha256('{"a": 2}\n'), reads: 1 });
  });

  it('does not keep a hash recorded within the racy window for later builds', async () => {
    const root = await project({ 'data/rows.jsonl': 'fresh' });
    // Written just now: both builds must read it, however little time passes between them.
    expect((await build(root, 'data/rows.jsonl')).reads).toBe(1);
    expect((await build(root, 'data/rows.jsonl')).reads).toBe(1);

    await utimes(path.join(root, 'data/rows.jsonl'), LONG_AGO, LONG_AGO);
    expect((await build(root, 'data/rows.jsonl')).reads).toBe(1);
    expect((await build(root, 'data/rows.jsonl')).reads).toBe(0);
  });

  it('hashes a file rewritten in place with the same size and mtime again', async () => {
    const root = await project({ 'data/images/a.png': 'AAAA' });
    const file = path.join(root, 'data/images/a.png');
    await utimes(file, LONG_AGO, LONG_AGO);
    expect(await build(root, 'data/images/a.png')).toEqual({ hash: sha256('AAAA'), reads: 1 });

    // Same inode, same size, the old mtime put back: only the ctime tells.
    await writeFile(file, 'BBBB');
    await utimes(file, LONG_AGO, LONG_AGO);
    const after = await stat(file);
    expect([after.size, after.mtime.getTime()]).toEqual([4, LONG_AGO.getTime()]);
    expect(await build(root, 'data/images/a.png')).toEqual({ hash: sha256('BBBB'), reads: 1 });
  });

  it('hashes a file replaced by another of the same size and mtime again', async () => {
    const root = await project({ 'data/a.csv': 'x,y\n', 'data/b.csv': 'p,q\n' });
    const a = path.join(root, 'data/a.csv');
    const b = path.join(root, 'data/b.csv');
    await utimes(a, LONG_AGO, LONG_AGO);
    await utimes(b, LONG_AGO, LONG_AGO);
    expect((await build(root, 'data/a.csv')).hash).toBe(sha256('x,y\n'));

    await rename(b, a);
    expect(await build(root, 'data/a.csv')).toEqual({ hash: sha256('p,q\n'), reads: 1 });
  });

  it('re-reads a touched but unchanged file once, keeping its hash', async () => {
    const root = await project({ 'models/m.ts': 'export default 1;\n' });
    const file = path.join(root, 'models/m.ts');
    await utimes(file, LONG_AGO, LONG_AGO);
    const first = await build(root, 'models/m.ts');

    const later = new Date(LONG_AGO.getTime() + 60_000);
    await utimes(file, later, later);
    expect(await build(root, 'models/m.ts')).toEqual({ hash: first.hash, reads: 1 });
    expect(await build(root, 'models/m.ts')).toEqual({ hash: first.hash, reads: 0 });
  });

  it('gives null for a missing file or a folder, and forgets a deleted file', async () => {
    const root = await project({ 'data/a.png': 'png' });
    await mkdir(path.join(root, 'data/folder'));
    await utimes(path.join(root, 'data/a.png'), LONG_AGO, LONG_AGO);
    const cache = await FileHashCache.load(root);
    expect(await cache.hashIfExists('data/a.png')).toBe(sha256('png'));
    expect(await cache.hashIfExists('data/missing.png')).toBeNull();
    expect(await cache.hashIfExists('data/folder')).toBeNull();
    await expect(cache.hash('data/missing.png')).rejects.toMatchObject({ code: 'ENOENT' });

    await rm(path.join(root, 'data/a.png'));
    expect(await cache.hashIfExists(path.join(root, 'data/a.png'))).toBeNull();
    await cache.save();
    const stored = JSON.parse(await readFile(path.join(root, STAT_CACHE_FILE), 'utf8'));
    expect(stored.files).toEqual({});
  });

  it('reuses a derived value while its files hash the same, and drops it when one changes', async () => {
    const root = await project({ 'data/images/1.png': 'one', 'data/images/2.png': 'two' });
    for (const name of ['1.png', '2.png']) {
      await utimes(path.join(root, 'data/images', name), LONG_AGO, LONG_AGO);
    }
    const files = ['data/images/1.png', path.join(root, 'data/images/2.png')];
    const first = await FileHashCache.load(root);
    expect(await first.derived('images:k')).toBeUndefined();
    await first.remember('images:k', { value: 'the images hash', files });
    await first.save();

    const second = await FileHashCache.load(root);
    expect(await second.derived('images:k')).toBe('the images hash');
    expect(await second.derived('images:other')).toBeUndefined();
    expect(second.filesRead).toBe(0);

    await writeFile(path.join(root, 'data/images/2.png'), 'TWO');
    const third = await FileHashCache.load(root);
    expect(await third.derived('images:k')).toBeUndefined();

    await rm(path.join(root, 'data/images/1.png'));
    await third.remember('images:k', { value: 'without one', files });
    expect(await third.derived('images:k')).toBe('without one');
  });

  it('starts empty when the stat cache file is not one it wrote', async () => {
    const root = await project({ [STAT_CACHE_FILE]: '{"format": 1, "files": {', 'a.txt': 'a' });
    await utimes(path.join(root, 'a.txt'), LONG_AGO, LONG_AGO);
    expect(await build(root, 'a.txt')).toEqual({ hash: sha256('a'), reads: 1 });
    expect(await build(root, 'a.txt')).toEqual({ hash: sha256('a'), reads: 0 });
  });
});
