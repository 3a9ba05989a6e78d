import { CACHE_FORMAT_VERSION } from '../fingerprint/cache-format.js';
import { hashValue, type ContentHash } from '../fingerprint/hash.js';
import type { ConnectionIdentity } from '../fingerprint/run-fingerprint.js';
import type { ChatRequest } from '../models/chat.js';

/** A key of the LLM-call cache. Branded: built only here. */
export type CallKey = string & { readonly __brand: 'CallKey' };
/** A key of the row-result cache. Branded: built only here. */
export type RowKey = string & { readonly __brand: 'RowKey' };

/**
 * The identity of one LLM call: the endpoint's kind and identity, and the whole request
 * (model, messages with image bytes, parameters, seed). Identical requests share one key, so
 * an identical request is never sent twice, whichever run or row sends it.
 *
 * `sample` is the repeat index of a stage with `repeat: N`: sample 2 of a request is a
 * different call from sample 1. The first sample has no index, so adding `repeat` to a stage
 * keeps the answers it already has.
 */
export function callKey(
  connection: ConnectionIdentity,
  request: ChatRequest,
  sample?: number,
  version: number = CACHE_FORMAT_VERSION,
): CallKey {
  const repeat = sample !== undefined && sample > 1 ? { sample } : {};
  return `call:${hashValue({ v: version, connection, request, ...repeat })}` as CallKey;
}

/** The identity of one row's result: what the run computes, and the row's resolved inputs. */
export function rowKey(
  rowDefinition: ContentHash,
  inputs: unknown,
  version: number = CACHE_FORMAT_VERSION,
): RowKey {
  return `row:${hashValue({ v: version, definition: rowDefinition, inputs })}` as RowKey;
}
