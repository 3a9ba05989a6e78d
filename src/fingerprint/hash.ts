import { createHash } from 'node:crypto';

import { canonicalJson } from './canonical-json.js';

/** A sha256 hex digest of some content. Branded so a hash is never mixed up with a path or id. */
export type ContentHash = string & { readonly __brand: 'ContentHash' };

export function hashBytes(bytes: string | Uint8Array): ContentHash {
  return createHash('sha256').update(bytes).digest('hex') as ContentHash;
}

/** The hash of a value's canonical JSON: equal for values that mean the same. */
export function hashValue(value: unknown): ContentHash {
  return hashBytes(canonicalJson(value));
}
