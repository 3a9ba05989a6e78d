import { readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';

import { fail, ok, type Result } from '../util/result.js';
import type { ImageRef } from './chat.js';

export interface EncodeImageOptions {
  /** The project folder: local image paths are relative to it and must stay inside it. */
  readonly root: string;
  /** The longest side, in pixels, an image is sent with (default 1024). */
  readonly maxSide?: number;
}

/** The longest side kept by default: what vision models tile at full detail without waste. */
export const DEFAULT_MAX_SIDE = 1024;

/**
 * The URL an `image_url` part sends for `ref`: always a data URL, so the bytes the model sees
 * are the bytes in the call's cache key.
 *
 * - A data URL is returned unchanged.
 * - An http(s) URL is fetched by kwgraph and inlined like a local file. The model server never
 *   fetches anything: a URL that cannot be fetched fails the row with a message saying why, a
 *   server that cannot fetch (a local one, one behind a firewall) still sees the image, and an
 *   image that changes behind its URL changes the call's key.
 * - A local file becomes a data URL. An image larger than `maxSide` on either side is
 *   downscaled to fit (aspect ratio kept), re-encoded as JPEG if it was a JPEG and as PNG
 *   otherwise. A smaller image is sent byte for byte, so the request, and so the LLM-call
 *   cache key, is exactly the file's content.
 *
 * Failures (a missing file, a file that is not an image, a path outside the project, a URL
 * that answers with an error) are returned as messages naming the image.
 */
export async function encodeImage(
  ref: ImageRef,
  options: EncodeImageOptions,
): Promise<Result<string, string>> {
  if (/^data:/i.test(ref.source)) return ok(ref.source);

  const maxSide = options.maxSide ?? DEFAULT_MAX_SIDE;
  if (!Number.isInteger(maxSide) || maxSide < 1) {
    return fail(`image ${ref.source}: the maximum side must be a positive whole number`);
  }

  if (/^https?:/i.test(ref.source)) {
    const key = JSON.stringify(['url', ref.source, maxSide]);
    return recall(key) ?? remember(key, fetchImage(ref.source, maxSide), { keepFailures: false });
  }

  const file = await resolveInside(options.root, ref.source);
  if (!file.ok) return file;

  let stats: { size: number; mtimeMs: number };
  try {
    stats = await stat(file.value);
  } catch (error) {
    return fail(`image ${ref.source}: ${describeFsError(error)}`);
  }

  // Keyed by what the file is now: an edited file (new size or mtime) is encoded again.
  const key = JSON.stringify([file.value, stats.size, stats.mtimeMs, maxSide]);
  return recall(key) ?? remember(key, encodeFile(file.value, ref.source, maxSide));
}

/**
 * Encodings made in this process, oldest first. Every variant of a stage sends the same images,
 * so each is read and resized once; promises are kept, so rows running concurrently share one
 * encoding. Data URLs are large, so the least recently used are dropped beyond a budget.
 */
const encodings = new Map<string, { promise: Promise<Result<string, string>>; size: number }>();
const ENCODINGS_BUDGET = 128 * 1024 * 1024;
let encodingsSize = 0;

function recall(key: string): Promise<Result<string, string>> | undefined {
  const entry = encodings.get(key);
  if (entry === undefined) return undefined;
  encodings.delete(key);
  encodings.set(key, entry);
  return entry.promise;
}

function remember(
  key: string,
  promise: Promise<Result<string, string>>,
  options: { keepFailures: boolean } = { keepFailures: true },
): Promise<Result<string, string>> {
  const entry = { promise, size: 0 };
  encodings.set(key, entry);

  void promise.then((result) => {
    if (encodings.get(key) !== entry) return;
    // A URL that failed may answer later in the same build (a server that was busy).
    if (!result.ok && !options.keepFailures) {
      encodings.delete(key);
      return;
    }
    entry.size = result.ok ? result.value.length : 0;
    encodingsSize += entry.size;
    for (const [oldKey, old] of encodings) {
      if (encodingsSize <= ENCODINGS_BUDGET) break;
      encodings.delete(oldKey);
      encodingsSize -= old.size;
    }
  });
  return promise;
}

/** Formats models accept as they are; any other image is converted to PNG. */
const SENDABLE: Readonly<Record<string, string>> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
};

async function encodeFile(
  file: string,
  shown: string,
  maxSide: number,
): Promise<Result<string, string>> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    return fail(`image ${shown}: ${describeFsError(error)}`);
  }
  return encodeBytes(bytes, shown, maxSide);
}

/** How long kwgraph waits for an image URL to answer, and the largest image it accepts. */
const FETCH_TIMEOUT_MS = 30_000;
const MAX_FETCHED_BYTES = 20 * 1024 * 1024;

async function fetchImage(url: string, maxSide: number): Promise<Result<string, string>> {
  // Signed URLs carry credentials in their query; messages show the address without it.
  const shown = url.includes('?') ? `${url.slice(0, url.indexOf('?'))}?…` : url;
  let bytes: Buffer;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    if (!response.ok) {
      await response.body?.cancel();
      const status = `${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
      return fail(`image ${shown}: could not be fetched: HTTP ${status}`);
    }
    const length = Number(response.headers.get('content-length') ?? 0);
    if (length > MAX_FETCHED_BYTES) {
      await response.body?.cancel();
      return fail(`image ${shown}: larger than ${MAX_FETCHED_BYTES / 1024 / 1024} MB`);
    }
    bytes = Buffer.from(await response.arrayBuffer());
  } catch (error) {
    const reason =
      error instanceof Error && error.name === 'TimeoutError'
        ? `no answer within ${FETCH_TIMEOUT_MS / 1000} s`
        : causeOf(error);
    return fail(`image ${shown}: could not be fetched (${reason})`);
  }
  return encodeBytes(bytes, shown, maxSide);
}

function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return error instanceof Error ? error.message : String(error);
}

async function encodeBytes(
  bytes: Buffer,
  shown: string,
  maxSide: number,
): Promise<Result<string, string>> {
  try {
    // sharp (native, slow to load) is loaded on the first image sent, not at startup.
    const { default: sharp } = await import('sharp');
    const metadata = await sharp(bytes).metadata();
    // The size as displayed: a phone photo stored sideways has its EXIF orientation applied.
    const { width, height } = metadata.autoOrient;
    const mime = SENDABLE[metadata.format];
    if (mime !== undefined && Math.max(width, height) <= maxSide) {
      return ok(dataUrl(mime, bytes));
    }

    const isJpeg = metadata.format === 'jpeg';
    const resized = sharp(bytes)
      .autoOrient()
      .resize({ width: maxSide, height: maxSide, fit: 'inside', withoutEnlargement: true });
    const output = await (isJpeg ? resized.jpeg() : resized.png()).toBuffer();
    return ok(dataUrl(isJpeg ? 'image/jpeg' : 'image/png', output));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return fail(`image ${shown}: not a readable image (${reason})`);
  }
}

function dataUrl(mime: string, bytes: Buffer): string {
  return `data:${mime};base64,${bytes.toString('base64')}`;
}

/**
 * The real path of `source` under `root`. The path is checked as written and again after
 * symbolic links are followed, so neither `../x.png` nor a link inside the project can hand
 * out a file outside it.
 */
async function resolveInside(root: string, source: string): Promise<Result<string, string>> {
  const outside = fail(`image ${source}: the path leads outside the project folder`);
  const absolute = path.resolve(root, source);
  if (!isInside(path.resolve(root), absolute)) return outside;

  let realRoot: string;
  let realFile: string;
  try {
    realRoot = await realpath(root);
    realFile = await realpath(absolute);
  } catch (error) {
    return fail(`image ${source}: ${describeFsError(error)}`);
  }
  return isInside(realRoot, realFile) ? ok(realFile) : outside;
}

function isInside(folder: string, file: string): boolean {
  const relative = path.relative(folder, file);
  return (
    relative !== '' &&
    relative !== '..' &&
    !relative.startsWith(`..${path.sep}`) &&
    !path.isAbsolute(relative)
  );
}

function describeFsError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ENOENT') return 'file not found';
  if (code === 'EISDIR') return 'is a folder, not a file';
  if (code === 'EACCES') return 'permission denied';
  return error instanceof Error ? error.message : String(error);
}
