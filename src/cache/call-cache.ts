import type Keyv from 'keyv';

import type { ChatRequest, ChatResponse, ChatUsage } from '../models/chat.js';
import type { ChatModel } from '../models/chat-model.js';
import { callKey, type CallKey } from './cache-keys.js';
import { summariseRequest } from './summarise-request.js';

/** What the call cache keeps for one call. */
export interface CachedCall {
  /** The request with image data replaced by a short digest (for `show`, not for matching). */
  readonly request: unknown;
  readonly response: ChatResponse;
  readonly latencyMs: number;
  readonly connection: string;
  /** The endpoint that answered (absent in entries written before endpoints were recorded). */
  readonly endpoint?: string;
  readonly createdAt: string;
}

/** One call as a row saw it. */
export interface CallOutcome {
  readonly key: CallKey;
  readonly content: string;
  readonly usage: ChatUsage | undefined;
  /** True when the answer came from the cache (or from an identical call in flight). */
  readonly cached: boolean;
  /** The model the request named. */
  readonly model: string;
  /** The endpoint that answered, and how long the request took, when it was sent. */
  readonly endpoint: string;
  readonly latencyMs: number;
  /** Requests sent beyond the first for this call in this build (0 when cached). */
  readonly retries: number;
}

/**
 * Sends LLM calls through the call cache. An identical request already answered is served
 * from the store; one in flight in this process is awaited rather than sent again; a failed
 * call is never stored, so the next build retries it.
 */
export class CallCache {
  private readonly inFlight = new Map<CallKey, Promise<{ entry: CachedCall; retries: number }>>();

  constructor(
    private readonly store: Keyv,
    private readonly useCache: boolean = true,
  ) {}

  async call(model: ChatModel, request: ChatRequest): Promise<CallOutcome> {
    const key = callKey(model.identity, request);

    if (this.useCache) {
      const stored = (await this.store.get(key)) as CachedCall | undefined;
      if (stored !== undefined) return outcome(key, request, stored, true, 0);
    }

    const pending = this.inFlight.get(key);
    if (pending !== undefined) return outcome(key, request, (await pending).entry, true, 0);

    const sending = this.send(model, request, key);
    this.inFlight.set(key, sending);
    try {
      const sent = await sending;
      return outcome(key, request, sent.entry, false, sent.retries);
    } finally {
      this.inFlight.delete(key);
    }
  }

  private async send(
    model: ChatModel,
    request: ChatRequest,
    key: CallKey,
  ): Promise<{ entry: CachedCall; retries: number }> {
    const answer = await model.complete(request);
    const entry: CachedCall = {
      request: summariseRequest(request),
      response: answer.response,
      latencyMs: answer.latencyMs,
      connection: model.name,
      endpoint: answer.endpoint,
      createdAt: new Date().toISOString(),
    };
    await this.store.set(key, entry);
    return { entry, retries: answer.retries };
  }
}

function outcome(
  key: CallKey,
  request: ChatRequest,
  entry: CachedCall,
  cached: boolean,
  retries: number,
): CallOutcome {
  return {
    key,
    content: entry.response.choices[0]?.message.content ?? '',
    usage: entry.response.usage,
    cached,
    model: request.model,
    endpoint: entry.endpoint ?? entry.connection,
    latencyMs: entry.latencyMs,
    retries,
  };
}
