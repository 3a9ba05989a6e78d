import path from 'node:path';

import type { FlowConfig } from '../config/types.js';
import { fileHashCacheFor } from '../fingerprint/file-hash-cache.js';
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

/**
 * The inputs as they enter a row's cache key: a local image is represented by its content
 * hash, so replacing an image file re-runs exactly the rows that use it.
 */
export async function inputsForCacheKey(root: string, inputs: unknown): Promise<unknown> {
  if (isImageRef(inputs)) {
    if (/^(https?|data):/.test(inputs.source)) return inputs;
    // Null for a file that is not there: the row fails when the image is sent, saying so.
    const files = await fileHashCacheFor(root);
    return { ...inputs, hash: await files.hashIfExists(path.resolve(root, inputs.source)) };
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
