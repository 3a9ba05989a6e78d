import { stat, readFile } from 'node:fs/promises';
import path from 'node:path';

import type { FlowConfig } from '../config/types.js';
import { hashBytes, type ContentHash } from '../fingerprint/hash.js';
import { isImageRef, type ImageRef } from '../models/chat.js';

/**
 * A row's flow inputs: the stage's mapped values, the flow's defaults for inputs left unmapped,
 * and values of `image` inputs turned into image references (a path, URL or data URL).
 */
export function prepareFlowInputs(
  flow: FlowConfig,
  mapped: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const inputs: Record<string, unknown> = {};
  for (const input of Object.values(flow.inputs)) {
    const value = Object.hasOwn(mapped, input.name) ? mapped[input.name] : input.default;
    inputs[input.name] = input.type === 'image' ? toImageRefs(value) : value;
  }
  return inputs;
}

function toImageRefs(value: unknown): unknown {
  if (typeof value === 'string') return { kind: 'image', source: value } satisfies ImageRef;
  if (Array.isArray(value)) return value.map(toImageRefs);
  return value;
}

const fileHashes = new Map<string, { size: number; mtimeMs: number; hash: ContentHash }>();

/**
 * The inputs as they enter a row's cache key: a local image is represented by its content
 * hash, so replacing an image file re-runs exactly the rows that use it.
 */
export async function inputsForCacheKey(root: string, inputs: unknown): Promise<unknown> {
  if (isImageRef(inputs)) {
    if (/^(https?|data):/.test(inputs.source)) return inputs;
    const file = path.resolve(root, inputs.source);
    const relative = path.relative(path.resolve(root), file);
    // A path leading out of the project is never read, not even to hash it; the row fails
    // when the image is encoded.
    if (relative.startsWith('..') || path.isAbsolute(relative)) return { ...inputs, hash: null };
    return { ...inputs, hash: await localFileHash(file) };
  }
  if (Array.isArray(inputs)) {
    return Promise.all(inputs.map((item: unknown) => inputsForCacheKey(root, item)));
  }
  if (inputs !== null && typeof inputs === 'object') {
    const entries = await Promise.all(
      Object.entries(inputs).map(
        async ([key, item]) => [key, await inputsForCacheKey(root, item)] as const,
      ),
    );
    return Object.fromEntries(entries);
  }
  return inputs;
}

/** A file's content hash, re-read only when its size or mtime changed; null when missing. */
async function localFileHash(file: string): Promise<ContentHash | null> {
  try {
    const info = await stat(file);
    const known = fileHashes.get(file);
    if (known && known.size === info.size && known.mtimeMs === info.mtimeMs) return known.hash;
    const hash = hashBytes(await readFile(file));
    fileHashes.set(file, { size: info.size, mtimeMs: info.mtimeMs, hash });
    return hash;
  } catch {
    return null;
  }
}
