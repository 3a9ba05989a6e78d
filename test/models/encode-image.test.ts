import { mkdtemp, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { encodeImage } from '../../src/models/encode-image.js';

let root: string;

/** Serves `files` (path → bytes) on 127.0.0.1 while `use` runs. */
async function withImageServer<T>(
  files: Record<string, Buffer>,
  use: (url: string) => Promise<T>,
): Promise<T> {
  const server = createServer((req, res) => {
    const file = files[req.url ?? ''];
    if (file === undefined) res.writeHead(404).end();
    else res.writeHead(200, { 'content-type': 'image/png' }).end(file);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await use(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}
let outside: string;

function solid(width: number, height: number): ReturnType<typeof sharp> {
  return sharp({ create: { width, height, channels: 3, background: { r: 200, g: 40, b: 90 } } });
}

async function encoded(source: string, maxSide?: number): Promise<string> {
  const result = await encodeImage({ kind: 'image', source }, { root, maxSide });
  if (!result.ok) throw new Error(`unexpected error: ${result.error}`);
  return result.value;
}

function bytesOf(url: string): { mime: string; bytes: Buffer } {
  const match = /^data:([^;]+);base64,(.*)$/.exec(url);
  if (match?.[1] === undefined || match[2] === undefined) throw new Error(`not a data URL: ${url}`);
  return { mime: match[1], bytes: Buffer.from(match[2], 'base64') };
}

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'kwgraph-encode-'));
  outside = await mkdtemp(path.join(tmpdir(), 'kwgraph-outside-'));
  await solid(2000, 1000).png().toFile(path.join(root, 'wide.png'));
  await solid(300, 1600).jpeg().toFile(path.join(root, 'tall.jpg'));
  await solid(64, 32).png().toFile(path.join(root, 'small.png'));
  await writeFile(path.join(root, 'notes.txt'), 'not an image');
  await solid(10, 10).png().toFile(path.join(outside, 'secret.png'));
  await symlink(path.join(outside, 'secret.png'), path.join(root, 'link.png'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

describe('encodeImage', () => {
  it('downscales a large PNG to fit 1024 pixels, keeping its aspect ratio', async () => {
    const { mime, bytes } = bytesOf(await encoded('wide.png'));
    expect(mime).toBe('image/png');
    const metadata = await sharp(bytes).metadata();
    expect([metadata.width, metadata.height]).toEqual([1024, 512]);
  });

  it('keeps a JPEG a JPEG, and honours maxSide', async () => {
    const { mime, bytes } = bytesOf(await encoded('tall.jpg', 800));
    expect(mime).toBe('image/jpeg');
    const metadata = await sharp(bytes).metadata();
    expect([metadata.format, metadata.width, metadata.height]).toEqual(['jpeg', 150, 800]);
  });

  it('passes an image that is small enough through byte for byte', async () => {
    const { mime, bytes } = bytesOf(await encoded('small.png'));
    expect(mime).toBe('image/png');
    expect(bytes.equals(await readFile(path.join(root, 'small.png')))).toBe(true);
  });

  it('never upscales', async () => {
    const { bytes } = bytesOf(await encoded('small.png', 16));
    const metadata = await sharp(bytes).metadata();
    expect([metadata.width, metadata.height]).toEqual([16, 8]);
  });

  it('encodes a file again once it changes', async () => {
    const file = path.join(root, 'changing.png');
    await solid(20, 20).png().toFile(file);
    const before = await encoded('changing.png');
    await solid(40, 20).png().toFile(file);
    await utimes(file, new Date(), new Date(Date.now() + 5000));
    const after = await encoded('changing.png');
    expect(after).not.toBe(before);
    expect((await sharp(bytesOf(after).bytes).metadata()).width).toBe(40);
  });

  it('passes data URLs through unchanged', async () => {
    expect(await encoded('data:image/gif;base64,R0lG')).toBe('data:image/gif;base64,R0lG');
  });

  it('fetches an http(s) image and inlines it, downscaled like a local file', async () => {
    const wide = await readFile(path.join(root, 'wide.png'));
    const small = await readFile(path.join(root, 'small.png'));
    await withImageServer({ '/wide.png': wide, '/small.png': small }, async (url) => {
      const { mime, bytes } = bytesOf(await encoded(`${url}/wide.png`));
      expect(mime).toBe('image/png');
      expect((await sharp(bytes).metadata()).width).toBe(1024);
      expect(bytesOf(await encoded(`${url}/small.png`)).bytes).toEqual(small);
    });
  });

  it('says why an image URL could not be fetched, without its query', async () => {
    await withImageServer({}, async (url) => {
      const result = await encodeImage(
        { kind: 'image', source: `${url}/gone.png?token=abc` },
        { root },
      );
      expect(result).toEqual({
        ok: false,
        error: `image ${url}/gone.png?…: could not be fetched: HTTP 404 Not Found`,
      });
    });
    const closed = await withImageServer({}, async (url) => url);
    const refused = await encodeImage({ kind: 'image', source: `${closed}/a.png` }, { root });
    expect(refused).toEqual({
      ok: false,
      error: `image ${closed}/a.png: could not be fetched (ECONNREFUSED)`,
    });
  });

  it('names the path of a missing file', async () => {
    const result = await encodeImage({ kind: 'image', source: 'images/missing.png' }, { root });
    expect(result).toEqual({ ok: false, error: 'image images/missing.png: file not found' });
  });

  it('names the path of a file that is not an image', async () => {
    const result = await encodeImage({ kind: 'image', source: 'notes.txt' }, { root });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(/^image notes\.txt: not a readable image/);
  });

  it('refuses paths that lead outside the project, directly or through a link', async () => {
    const relative = path.relative(root, path.join(outside, 'secret.png'));
    for (const source of [relative, path.join(outside, 'secret.png'), 'link.png']) {
      const result = await encodeImage({ kind: 'image', source }, { root });
      expect(result).toEqual({
        ok: false,
        error: `image ${source}: the path leads outside the project folder`,
      });
    }
  });
});
