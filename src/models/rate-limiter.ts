import type {
  AzureEndpointConfig,
  EndpointLimits,
  OpenAiEndpointConfig,
  RemoteConnectionConfig,
} from '../config/types.js';

/**
 * What an endpoint pool asks of one endpoint's limits. Small and asynchronous on purpose: the
 * in-process limiter below implements it, and a limiter whose counts live in a shared store
 * (so that several machines respect one endpoint's limits together) can implement it too.
 */
export interface RateLimiter {
  /** Starts one request of about `tokens` tokens if the limits allow it now. */
  tryAcquire(tokens: number): Promise<Acquired>;
  /** A request started by `tryAcquire` ended, and how. */
  release(outcome: RequestOutcome): Promise<void>;
  /** How busy the endpoint is: requests in flight over the requests it may have in flight. */
  load(): number;
}

/**
 * Makes the limiter of one endpoint of a connection. Each process makes its own by default
 * (`LocalRateLimiter`); processes that share an endpoint's budget pass a factory of shared ones.
 */
export type LimiterFactory = (
  connection: RemoteConnectionConfig,
  endpoint: OpenAiEndpointConfig | AzureEndpointConfig,
) => RateLimiter;

/** `retryInMs` absent: ask again when a request in flight ends. */
export type Acquired = { readonly ok: true } | { readonly ok: false; readonly retryInMs?: number };

export type RequestOutcome =
  | { readonly kind: 'answered'; readonly estimatedTokens: number; readonly usedTokens?: number }
  /** A 429: no request may start on the endpoint for `pauseMs`. */
  | { readonly kind: 'rate-limited'; readonly estimatedTokens: number; readonly pauseMs: number }
  | { readonly kind: 'failed'; readonly estimatedTokens: number };

/** Requests in flight on one endpoint when its limits name no concurrency. */
export const DEFAULT_ENDPOINT_CONCURRENCY = 16;

/**
 * An endpoint's limits, enforced within this process.
 *
 * - Concurrency: at most `concurrency` requests in flight. A 429 halves that allowance (once per
 *   pause) and every answered request wins a little of it back (additive increase,
 *   multiplicative decrease), so an endpoint that keeps refusing settles where it stops refusing.
 * - Requests and tokens per minute: token buckets refilled continuously. A bucket holds a sixth
 *   of a minute's budget, so a build starts at once but cannot spend a minute's budget in one
 *   burst. Tokens are reserved from an estimate when a request starts and settled against the
 *   usage the server reports.
 * - A 429 pauses the endpoint for the server's Retry-After (or a backoff when it sends none).
 *
 * NOTE: the counts live in this process; two builds at once each spend an endpoint's budget.
 */
export class LocalRateLimiter implements RateLimiter {
  private readonly maxConcurrency: number;
  /** The concurrency currently allowed; fractional so that it can grow by small steps. */
  private allowed: number;
  private inFlight = 0;
  private pausedUntil = 0;
  private readonly requests: TokenBucket | undefined;
  private readonly tokens: TokenBucket | undefined;

  constructor(
    limits: EndpointLimits,
    private readonly now: () => number = Date.now,
  ) {
    this.maxConcurrency = limits.concurrency ?? DEFAULT_ENDPOINT_CONCURRENCY;
    this.allowed = this.maxConcurrency;
    const start = now();
    this.requests =
      limits.requests_per_minute === undefined
        ? undefined
        : new TokenBucket(limits.requests_per_minute, start);
    this.tokens =
      limits.tokens_per_minute === undefined
        ? undefined
        : new TokenBucket(limits.tokens_per_minute, start);
  }

  tryAcquire(tokens: number): Promise<Acquired> {
    return Promise.resolve(this.acquireNow(tokens));
  }

  private acquireNow(tokens: number): Acquired {
    const now = this.now();
    if (now < this.pausedUntil) return { ok: false, retryInMs: this.pausedUntil - now };
    if (this.inFlight >= Math.floor(this.allowed)) return { ok: false };

    const wait = Math.max(
      this.requests?.waitFor(1, now) ?? 0,
      this.tokens?.waitFor(tokens, now) ?? 0,
    );
    if (wait > 0) return { ok: false, retryInMs: Math.ceil(wait) };

    this.requests?.take(1);
    this.tokens?.take(tokens);
    this.inFlight++;
    return { ok: true };
  }

  release(outcome: RequestOutcome): Promise<void> {
    const now = this.now();
    this.inFlight = Math.max(0, this.inFlight - 1);
    switch (outcome.kind) {
      case 'answered':
        if (outcome.usedTokens !== undefined) {
          this.tokens?.give(outcome.estimatedTokens - outcome.usedTokens, now);
        }
        this.allowed = Math.min(this.maxConcurrency, this.allowed + 1 / this.allowed);
        break;
      case 'rate-limited':
        // Requests already in flight when the first 429 came back will often get one too: they
        // belong to the same overload and must not shrink the allowance again.
        if (now >= this.pausedUntil) this.allowed = Math.max(1, this.allowed / 2);
        this.pausedUntil = Math.max(this.pausedUntil, now + outcome.pauseMs);
        this.tokens?.give(outcome.estimatedTokens, now);
        break;
      case 'failed':
        this.tokens?.give(outcome.estimatedTokens, now);
        break;
    }
    return Promise.resolve();
  }

  load(): number {
    return this.inFlight / Math.max(1, Math.floor(this.allowed));
  }
}

/** A budget per minute, refilled continuously, holding at most a sixth of a minute's worth. */
class TokenBucket {
  private readonly capacity: number;
  private readonly perMs: number;
  private level: number;

  constructor(
    perMinute: number,
    private last: number,
  ) {
    this.capacity = Math.max(1, perMinute / 6);
    this.perMs = perMinute / 60_000;
    this.level = this.capacity;
  }

  /**
   * Milliseconds until `amount` can be taken. A request larger than the bucket waits for a full
   * bucket and then leaves it in debt, rather than never starting.
   */
  waitFor(amount: number, now: number): number {
    this.refill(now);
    const needed = Math.min(amount, this.capacity);
    return this.level >= needed ? 0 : (needed - this.level) / this.perMs;
  }

  take(amount: number): void {
    this.level -= amount;
  }

  /** Returns (or, when negative, charges) what a finished request did not use of its estimate. */
  give(amount: number, now: number): void {
    this.refill(now);
    this.level = Math.min(this.capacity, this.level + amount);
  }

  private refill(now: number): void {
    this.level = Math.min(this.capacity, this.level + (now - this.last) * this.perMs);
    this.last = now;
  }
}
