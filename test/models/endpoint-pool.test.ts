import { describe, expect, it } from 'vitest';

import { EndpointPool } from '../../src/models/endpoint-pool.js';
import { LocalRateLimiter } from '../../src/models/rate-limiter.js';

function pool(balance: 'least_busy' | 'round_robin', concurrency = 4) {
  return new EndpointPool(
    ['a', 'b', 'c'].map((endpoint) => ({
      endpoint,
      limiter: new LocalRateLimiter({ concurrency }),
    })),
    balance,
  );
}

const answered = { kind: 'answered', estimatedTokens: 1 } as const;

describe('EndpointPool', () => {
  it('takes endpoints in turn with round_robin', async () => {
    const endpoints = pool('round_robin');
    const taken: string[] = [];
    for (let i = 0; i < 6; i++) {
      const lease = await endpoints.acquire(1);
      taken.push(lease.endpoint);
      await lease.release(answered);
    }
    expect(taken).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
  });

  it('takes the least busy endpoint with least_busy', async () => {
    const endpoints = pool('least_busy');
    const first = await endpoints.acquire(1);
    const second = await endpoints.acquire(1);
    const third = await endpoints.acquire(1);
    expect([first.endpoint, second.endpoint, third.endpoint]).toEqual(['a', 'b', 'c']);
    await second.release(answered);
    await third.release(answered);
    // a is still busy; b and c are idle, b's turn comes first.
    expect((await endpoints.acquire(1)).endpoint).toBe('b');
  });

  it('skips an endpoint paused by a 429', async () => {
    const endpoints = pool('round_robin');
    const lease = await endpoints.acquire(1);
    expect(lease.endpoint).toBe('a');
    await lease.release({ kind: 'rate-limited', estimatedTokens: 1, pauseMs: 60_000 });
    const taken: string[] = [];
    for (let i = 0; i < 4; i++) {
      const next = await endpoints.acquire(1);
      taken.push(next.endpoint);
      await next.release(answered);
    }
    expect(taken).toEqual(['b', 'c', 'b', 'c']);
  });

  it('makes a call wait while every endpoint is full, and hands it the first one freed', async () => {
    const endpoints = pool('least_busy', 1);
    const leases = [
      await endpoints.acquire(1),
      await endpoints.acquire(1),
      await endpoints.acquire(1),
    ];
    let waited: string | undefined;
    const waiting = endpoints.acquire(1).then((lease) => (waited = lease.endpoint));
    await new Promise((resolve) => setImmediate(resolve));
    expect(waited).toBeUndefined();
    await leases[1]?.release(answered);
    await waiting;
    expect(waited).toBe('b');
  });
});
