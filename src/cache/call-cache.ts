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
  readonly createdAt: string;
}

/** One call as a row saw it. */
export interface CallOutcome {
  readonly key: CallKey;
  readonly content: string;
  readonly usage: ChatUsage | undefined;
  /** True when the answer came from the cache (or from an identical call in flight). */
  readonly cached: boolean;
}

/**
 * Sends LLM calls through the call cache. An identical request already answered is served
 * from the store; one in flight in this process is awaited rather than sent again; a failed
 * call is never stored, so the next build retries it.
 */
export class CallCache {
  private readonly inFlight = new Map<CallKey, Promise<CachedCall>>();

  constructor(
    private readonly store: Keyv,
    private readonly useCache: boolean = true,
  ) {}

  async call(model: ChatModel, request: ChatRequest): Promise<CallOutcome> {
    const key = callKey(model.identity, request);

    if (this.useCache) {
      const stored = (await this.store.get(key)) as CachedCall | undefined;
      if (stored !== undefined) return outcome(key, stored, true);
    }

    const pending = this.inFlight.get(key);
    if (pending !== undefined) return outcome(key, await pending, true);

    const sending = this.send(model, request, key);
    this.inFlight.set(key, sending);
    try {
      return outcome(key, await sending, false);
    } finally {
      this.inFlight.delete(key);
    }
  }

  private async send(model: ChatModel, request: ChatRequest, key: CallKey): Promise<CachedCall> {
    const started = performance.now();
    const response = await model.complete(request);
    const entry: CachedCall = {
      request: summariseRequest(request),
      response,
      latencyMs: Math.round(performance.now() - started),
      connection: model.name,
      createdAt: new Date().toISOString(),
    };
    await this.store.set(key, entry);
    return entry;
  }
}

function outcome(key: CallKey, entry: CachedCall, cached: boolean): CallOutcome {
  return {
    key,
    content: entry.response.choices[0]?.message.content ?? '',
    usage: entry.response.usage,
    cached,
  };
}
