import type { LockAttempt } from '../locks/file-lock.js';
import type { ChatRequest, ChatResponse, ChatUsage } from '../models/chat.js';
import type { ChatModel } from '../models/chat-model.js';
import { sleep, throwIfStopped } from '../util/interrupt.js';
import { callKey, type CallKey } from './cache-keys.js';
import type { CheckedStore } from './checked-store.js';
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

export interface CallCacheOptions {
  /**
   * Serve answers stored by earlier builds. False under `--no-cache`: every request is sent
   * again (a fresh sample) and its answer replaces the stored one; an identical request later
   * in the same build still gets that fresh answer.
   */
  readonly reuse: boolean;
  /** Claims shared with other builds of the project, so that no request is sent by two. */
  readonly claims?: { tryClaim(key: CallKey): Promise<LockAttempt> };
  /** Once aborted, no new request is sent (calls in flight finish and are stored). */
  readonly signal?: AbortSignal;
}

/** State shared by a cache and its per-sample views. */
interface Shared {
  readonly store: CheckedStore<CachedCall>;
  readonly options: CallCacheOptions;
  readonly inFlight: Map<CallKey, Promise<CachedCall>>;
  /** Keys answered by this build: served again even under `--no-cache`. */
  readonly answered: Set<CallKey>;
  /** Calls sent and stored by this build. */
  sent: number;
  readonly startedAt: string;
}

/** How long to wait before looking again at a request another build is sending. */
const CLAIM_POLL_MS = 50;

/**
 * Sends LLM calls through the call cache. An identical request already answered is served
 * from the store; one in flight in this process is awaited rather than sent again, and one
 * another build is sending is waited for; a failed call is never stored, so the next build
 * retries it.
 */
export class CallCache {
  private shared: Shared;
  private sample: number | undefined;
  private onStoring: ((key: CallKey) => Promise<void>) | undefined;

  constructor(store: CheckedStore<CachedCall>, options: CallCacheOptions = { reuse: true }) {
    this.shared = {
      store,
      options,
      inFlight: new Map(),
      answered: new Set(),
      sent: 0,
      startedAt: new Date().toISOString(),
    };
  }

  /**
   * The same cache (one store, one set of calls in flight) as one run uses it: calls keyed by
   * the run's repeat index (`repeat: N`), and `onStoring` told of each answer this run is about
   * to store. It is told before the store has the answer, so that whatever records the key
   * never misses an answer the store has, even if the process dies in between.
   */
  forRun(run: {
    readonly sample?: number;
    readonly onStoring?: (key: CallKey) => Promise<void>;
  }): CallCache {
    const view = new CallCache(this.shared.store, this.shared.options);
    view.shared = this.shared;
    view.sample = run.sample;
    view.onStoring = run.onStoring;
    return view;
  }

  /** Calls sent (and stored) by this build so far. */
  get sent(): number {
    return this.shared.sent;
  }

  async call(model: ChatModel, request: ChatRequest): Promise<CallOutcome> {
    const key = callKey(model.identity, request, this.sample);

    const stored = await this.lookUp(key);
    if (stored !== undefined) return outcome(key, request, stored, true, 0);

    const pending = this.shared.inFlight.get(key);
    if (pending !== undefined) return outcome(key, request, await pending, true, 0);

    const fetching = this.fetch(model, request, key);
    const answer = fetching.then((result) => result.entry);
    // Awaited only by identical calls that arrive meanwhile; a failure with none waiting is
    // reported through `fetching` alone.
    answer.catch(() => {});
    this.shared.inFlight.set(key, answer);
    try {
      const result = await fetching;
      return outcome(key, request, result.entry, !result.sent, result.retries);
    } finally {
      this.shared.inFlight.delete(key);
    }
  }

  private async lookUp(key: CallKey): Promise<CachedCall | undefined> {
    if (!this.shared.options.reuse && !this.shared.answered.has(key)) return undefined;
    return this.shared.store.get(key);
  }

  /**
   * Gets the answer to a request no process has stored: claim it and send it, or wait while
   * another build that claimed it sends it.
   */
  private async fetch(
    model: ChatModel,
    request: ChatRequest,
    key: CallKey,
  ): Promise<{ entry: CachedCall; sent: boolean; retries: number }> {
    const { claims, signal } = this.shared.options;
    if (claims === undefined) {
      throwIfStopped(signal);
      return { ...(await this.send(model, request, key)), sent: true };
    }

    for (;;) {
      throwIfStopped(signal);
      const claim = await claims.tryClaim(key);
      if (claim.acquired) {
        try {
          // Another build may have stored the answer just before letting go of the claim.
          const stored = await this.answeredElsewhere(key);
          if (stored !== undefined) return { entry: stored, sent: false, retries: 0 };
          throwIfStopped(signal);
          return { ...(await this.send(model, request, key)), sent: true };
        } finally {
          await claim.lock.release();
        }
      }
      await sleep(CLAIM_POLL_MS, signal);
      const stored = await this.answeredElsewhere(key);
      if (stored !== undefined) return { entry: stored, sent: false, retries: 0 };
    }
  }

  /**
   * An answer another build stored for `key`. Under `--no-cache` only one stored since this
   * build started counts: it is as fresh a sample as this build would get.
   */
  private async answeredElsewhere(key: CallKey): Promise<CachedCall | undefined> {
    const stored = await this.shared.store.get(key);
    if (stored === undefined || this.shared.options.reuse) return stored;
    return stored.createdAt >= this.shared.startedAt ? stored : undefined;
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
    await this.onStoring?.(key);
    await this.shared.store.set(key, entry);
    this.shared.answered.add(key);
    this.shared.sent++;
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
