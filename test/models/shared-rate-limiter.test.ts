import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';

import { SharedRateLimiter } from '../../src/models/shared-rate-limiter.js';
import { dropRedisPrefix, uniqueName } from '../support/shared-stores.js';

/**
 * Limiters of one endpoint in two processes (here: two limiters on two Redis connections)
 * spending one budget, counted in the real Redis on 127.0.0.1.
 */
describe('a shared rate limiter', () => {
  const clients = [new Redis(6379, '127.0.0.1'), new Redis(6379, '127.0.0.1')];
  const keys: string[] = [];
  const key = () => {
    const name = uniqueName('limits');
    keys.push(name);
    return name;
  };
  afterAll(async () => {
    for (const name of keys) await dropRedisPrefix(`kwgraph:limits:requests:${name}`);
    for (const name of keys) await dropRedisPrefix(`kwgraph:limits:tokens:${name}`);
    for (const client of clients) client.disconnect();
  });

  it('lets two processes together start one window of the per-minute budget', async () => {
    const endpoint = key();
    const [a, b] = clients.map(
      (client) => new SharedRateLimiter(client, endpoint, { requests_per_minute: 60 }),
    ) as [SharedRateLimiter, SharedRateLimiter];

    let started = 0;
    let refusal: { ok: boolean; retryInMs?: number } | undefined;
    for (let attempt = 0; attempt < 20; attempt++) {
      const acquired = await (attempt % 2 === 0 ? a : b).tryAcquire(10);
      if (acquired.ok) started++;
      else refusal ??= acquired;
    }
    // 60 a minute is 10 per window of 10 s, whichever process asks.
    expect(started).toBe(10);
    expect(refusal?.retryInMs).toBeGreaterThan(5_000);
    expect(refusal?.retryInMs).toBeLessThanOrEqual(10_000);
  });

  it('reserves estimated tokens and settles them against the usage reported', async () => {
    const endpoint = key();
    const [a, b] = clients.map(
      (client) => new SharedRateLimiter(client, endpoint, { tokens_per_minute: 600 }),
    ) as [SharedRateLimiter, SharedRateLimiter];

    // A window holds 100 tokens: one estimate of 60 fits, a second does not.
    expect((await a.tryAcquire(60)).ok).toBe(true);
    expect((await b.tryAcquire(60)).ok).toBe(false);
    // The first request used only 20: the 40 it did not use are given back.
    await a.release({ kind: 'answered', estimatedTokens: 60, usedTokens: 20 });
    expect((await b.tryAcquire(60)).ok).toBe(true);
    // A failed request gives its whole reservation back.
    await b.release({ kind: 'failed', estimatedTokens: 60 });
    expect((await a.tryAcquire(75)).ok).toBe(true);
    expect((await b.tryAcquire(10)).ok).toBe(false);
  });

  it('keeps concurrency per process', async () => {
    const endpoint = key();
    const [a, b] = clients.map(
      (client) =>
        new SharedRateLimiter(client, endpoint, { concurrency: 1, requests_per_minute: 600 }),
    ) as [SharedRateLimiter, SharedRateLimiter];
    expect((await a.tryAcquire(1)).ok).toBe(true);
    expect((await a.tryAcquire(1)).ok).toBe(false);
    expect((await b.tryAcquire(1)).ok).toBe(true);
    await a.release({ kind: 'answered', estimatedTokens: 1 });
    expect((await a.tryAcquire(1)).ok).toBe(true);
  });
});
