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
 */
export function callKey(connection: ConnectionIdentity, request: ChatRequest): CallKey {
  return `call:${hashValue({ v: CACHE_FORMAT_VERSION, connection, request })}` as CallKey;
}

/** The identity of one row's result: what the run computes, and the row's resolved inputs. */
export function rowKey(rowDefinition: ContentHash, inputs: unknown): RowKey {
  return `row:${hashValue({ v: CACHE_FORMAT_VERSION, definition: rowDefinition, inputs })}` as RowKey;
}
