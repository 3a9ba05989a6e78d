import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

import { OPENAI_API_URL } from '../config/normalize-connection.js';
import type {
  AzureEndpointConfig,
  EndpointLimits,
  OpenAiEndpointConfig,
  RemoteConnectionConfig,
} from '../config/types.js';
import { hashValue } from '../fingerprint/hash.js';
import {
  LocalRateLimiter,
  type Acquired,
  type LimiterFactory,
  type RateLimiter,
  type RequestOutcome,
} from './rate-limiter.js';

/**
 * The length of one counting window. Budgets are counted per window of a sixth of a minute, a
 * sixth of the minute's budget each, as the local limiter's buckets hold a sixth: a build starts
 * at once but cannot spend a minute's budget in one burst. Services count quotas over windows of
 * 1 to 10 seconds too.
 *
 * NOTE: windows are fixed, not sliding: across the boundary of two windows, two windows' worth
 * can start within a moment.
 */
const WINDOW_SECONDS = 10;
const WINDOWS_PER_MINUTE = 60 / WINDOW_SECONDS;

/** Where the shared counts live in Redis. */
const KEY_PREFIX = 'kwgraph:limits';

/**
 * Limiters whose requests-per-minute and tokens-per-minute budgets are counted in Redis, so that
 * every process sharing the server (the workers of a queue, and its build) spends one endpoint's
 * budget together. Endpoints are identified by where requests go (base URL, Azure resource and
 * deployment), not by the names a project gives them.
 */
export function sharedLimiters(redis: Redis): LimiterFactory {
  return (connection, endpoint) =>
    new SharedRateLimiter(redis, endpointKey(connection, endpoint), endpoint.limits);
}

/**
 * An endpoint's limits with its per-minute budgets shared through Redis. Concurrency, the
 * allowance that shrinks after a 429 and the pause a 429 imposes stay with this process: they
 * react to what this process's requests meet.
 */
export class SharedRateLimiter implements RateLimiter {
  private readonly local: LocalRateLimiter;
  private readonly requests: RateLimiterRedis | undefined;
  private readonly tokens: RateLimiterRedis | undefined;

  constructor(
    redis: Redis,
    private readonly key: string,
    limits: EndpointLimits,
  ) {
    this.local = new LocalRateLimiter(
      limits.concurrency === undefined ? {} : { concurrency: limits.concurrency },
    );
    const window = (kind: string, perMinute: number) =>
      new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: `${KEY_PREFIX}:${kind}`,
        points: Math.max(1, Math.floor(perMinute / WINDOWS_PER_MINUTE)),
        duration: WINDOW_SECONDS,
      });
    this.requests =
      limits.requests_per_minute === undefined
        ? undefined
        : window('requests', limits.requests_per_minute);
    this.tokens =
      limits.tokens_per_minute === undefined
        ? undefined
        : window('tokens', limits.tokens_per_minute);
  }

  async tryAcquire(tokens: number): Promise<Acquired> {
    const local = await this.local.tryAcquire(tokens);
    if (!local.ok) return local;

    const requestWait = await this.take(this.requests, 1);
    const tokenWait = requestWait > 0 ? 0 : await this.take(this.tokens, this.tokenCost(tokens));
    if (tokenWait > 0) await this.give(this.requests, 1);
    const wait = Math.max(requestWait, tokenWait);
    if (wait > 0) {
      await this.local.release({ kind: 'failed', estimatedTokens: tokens });
      return { ok: false, retryInMs: wait };
    }
    return { ok: true };
  }

  async release(outcome: RequestOutcome): Promise<void> {
    await this.local.release(outcome);
    const reserved = this.tokenCost(outcome.estimatedTokens);
    if (outcome.kind !== 'answered') {
      await this.give(this.tokens, reserved);
    } else if (outcome.usedTokens !== undefined && this.tokens !== undefined) {
      // Settled against what the server counted: an estimate too high gives tokens back, too low
      // charges the difference.
      const difference = outcome.usedTokens - reserved;
      if (difference > 0) await this.tokens.penalty(this.key, difference);
      else if (difference < 0) await this.give(this.tokens, -difference);
    }
  }

  load(): number {
    return this.local.load();
  }

  /** A request larger than a window's budget takes the whole window rather than never start. */
  private tokenCost(tokens: number): number {
    return this.tokens === undefined ? tokens : Math.min(Math.max(1, tokens), this.tokens.points);
  }

  /** Takes `points` from a window; 0 when taken, else the milliseconds until the next window. */
  private async take(window: RateLimiterRedis | undefined, points: number): Promise<number> {
    if (window === undefined) return 0;
    // Looked at first, so that a refusal counts nothing: giving points back after a refusal
    // could land in the next window, as a credit beyond its budget.
    const current = await window.get(this.key);
    if (current !== null && current.remainingPoints < points) {
      return Math.max(1, current.msBeforeNext);
    }
    try {
      await window.consume(this.key, points);
      return 0;
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      // Another process took the rest meanwhile. What this attempt counted stays counted until
      // the window ends: on the safe side.
      return Math.max(1, error.msBeforeNext);
    }
  }

  /** Gives points back to the current window, never below an empty window. */
  private async give(window: RateLimiterRedis | undefined, points: number): Promise<void> {
    if (window === undefined || points <= 0) return;
    const after = await window.reward(this.key, points);
    // The window the points came from may have ended: a new one starts empty, not in credit.
    if (after.consumedPoints < 0) await window.penalty(this.key, -after.consumedPoints);
  }
}

/** An endpoint as its service knows it: where requests go. */
function endpointKey(
  connection: RemoteConnectionConfig,
  endpoint: OpenAiEndpointConfig | AzureEndpointConfig,
): string {
  const target =
    'endpoint' in endpoint
      ? { azure: endpoint.endpoint.replace(/\/+$/, ''), deployment: endpoint.deployment ?? '*' }
      : { openai: (endpoint.base_url ?? OPENAI_API_URL).replace(/\/+$/, '') };
  return hashValue({ kind: connection.kind, ...target }).slice(0, 32);
}
