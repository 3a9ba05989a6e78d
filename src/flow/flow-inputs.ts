import path from 'node:path';

import type { FlowConfig, FlowInput } from '../config/types.js';
import { fileHashCacheFor } from '../fingerprint/file-hash-cache.js';
import { isImageRef, type ImageRef } from '../models/chat.js';
import { withImageRefs } from '../models/image-values.js';

/**
 * A row's flow inputs: the stage's mapped values, the flow's defaults for inputs left unmapped,
 * promptflow image values (`{"data:image/png;path": ...}`) and the values of `image` inputs
 * turned into image references (a path, URL or data URL), and text converted for promptflow's
 * `int`, `double` and `bool` inputs (a CSV column is text), as promptflow converts it.
 *
 * Throws for a value that cannot be converted; the row fails with the message.
 */
export function prepareFlowInputs(
  flow: FlowConfig,
  mapped: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const inputs: Record<string, unknown> = {};
  for (const input of Object.values(flow.inputs)) {
    // Image paths in a default are relative to the flow folder, in mapped values to the root.
    const value = Object.hasOwn(mapped, input.name)
      ? withImageRefs(mapped[input.name])
      : withImageRefs(input.default, flow.dir);
    inputs[input.name] = converted(input, value);
  }
  return inputs;
}

function converted(input: FlowInput, value: unknown): unknown {
  switch (input.type) {
    case 'image':
      return toImageRefs(value);
    case 'int':
    case 'double': {
      if (typeof value !== 'string') return value;
      const number = value.trim() === '' ? NaN : Number(value);
      if (Number.isFinite(number) && (input.type === 'double' || Number.isInteger(number))) {
        return number;
      }
      throw new FlowInputError(
        `flow input ${input.name} expects ${input.type === 'int' ? 'a whole number' : 'a number'}, ` +
          `got ${JSON.stringify(value)}`,
      );
    }
    case 'bool': {
      if (typeof value !== 'string') return value;
      const lowered = value.trim().toLowerCase();
      if (lowered === 'true' || lowered === 'false') return lowered === 'true';
      throw new FlowInputError(
        `flow input ${input.name} expects true or false, got ${JSON.stringify(value)}`,
      );
    }
    default:
      return value;
  }
}

/** A row's value does not fit its flow input's type. */
export class FlowInputError extends Error {}

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
    // NOTE: a URL stands for its image here; a picture replaced behind the same URL is only
    // noticed by the call cache (which keys the fetched bytes) once the row itself re-runs.
    if (/^(https?|data):/.test(inputs.source)) return inputs;
    const file = path.resolve(root, inputs.source);
    const relative = path.relative(path.resolve(root), file);
    // A path leading out of the project is never read, not even to hash it; the row fails
    // when the image is encoded. Null for a file that is not there, likewise.
    if (relative.startsWith('..') || path.isAbsolute(relative)) return { ...inputs, hash: null };
    const files = await fileHashCacheFor(root);
    return { ...inputs, hash: await files.hashIfExists(file) };
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
