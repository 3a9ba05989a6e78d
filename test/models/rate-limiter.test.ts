import { describe, expect, it } from 'vitest';

import { LocalRateLimiter } from '../../src/models/rate-limiter.js';

/** A limiter on a clock the test moves by hand. */
function limiter(limits: ConstructorParameters<typeof LocalRateLimiter>[0]) {
  const clock = { now: 0 };
  return { clock, limiter: new LocalRateLimiter(limits, () => clock.now) };
}

describe('LocalRateLimiter', () => {
  it('lets `concurrency` requests run at once and the next one in when one ends', async () => {
    const { limiter: l } = limiter({ concurrency: 2 });
    expect(await l.tryAcquire(10)).toEqual({ ok: true });
    expect(await l.tryAcquire(10)).toEqual({ ok: true });
    expect(l.load()).toBe(1);
    expect(await l.tryAcquire(10)).toEqual({ ok: false });
    await l.release({ kind: 'answered', estimatedTokens: 10 });
    expect(await l.tryAcquire(10)).toEqual({ ok: true });
  });

  it('spreads requests per minute: a sixth of a minute at once, then one per interval', async () => {
    const { clock, limiter: l } = limiter({ requests_per_minute: 60, concurrency: 100 });
    for (let i = 0; i < 10; i++) expect(await l.tryAcquire(1)).toEqual({ ok: true });
    expect(await l.tryAcquire(1)).toEqual({ ok: false, retryInMs: 1000 });
    clock.now = 1000;
    expect(await l.tryAcquire(1)).toEqual({ ok: true });
    expect(await l.tryAcquire(1)).toEqual({ ok: false, retryInMs: 1000 });
  });

  it('reserves estimated tokens and settles them against the usage reported', async () => {
    const { limiter: l } = limiter({ tokens_per_minute: 6000 });
    expect(await l.tryAcquire(800)).toEqual({ ok: true });
    // 200 of the bucket's 1000 are left; 600 more come in at 0.1 a millisecond.
    expect(await l.tryAcquire(800)).toEqual({ ok: false, retryInMs: 6000 });
    await l.release({ kind: 'answered', estimatedTokens: 800, usedTokens: 100 });
    expect(await l.tryAcquire(800)).toEqual({ ok: true });
  });

  it('starts a request larger than the bucket once the bucket is full', async () => {
    const { clock, limiter: l } = limiter({ tokens_per_minute: 6000 });
    expect(await l.tryAcquire(5000)).toEqual({ ok: true });
    expect(await l.tryAcquire(1)).toEqual({ ok: false, retryInMs: 40_010 });
    clock.now = 40_010;
    expect(await l.tryAcquire(1)).toEqual({ ok: true });
  });

  it('pauses after a 429, halves its concurrency once per pause, and wins it back', async () => {
    const { clock, limiter: l } = limiter({ concurrency: 8 });
    for (let i = 0; i < 8; i++) await l.tryAcquire(1);
    await l.release({ kind: 'rate-limited', estimatedTokens: 1, pauseMs: 500 });
    await l.release({ kind: 'rate-limited', estimatedTokens: 1, pauseMs: 500 });
    expect(await l.tryAcquire(1)).toEqual({ ok: false, retryInMs: 500 });

    clock.now = 500;
    for (let i = 0; i < 6; i++) await l.release({ kind: 'failed', estimatedTokens: 1 });
    const started = [];
    for (let i = 0; i < 8; i++) started.push((await l.tryAcquire(1)).ok);
    expect(started).toEqual([true, true, true, true, false, false, false, false]);

    for (let round = 0; round < 20; round++) {
      await l.release({ kind: 'answered', estimatedTokens: 1 });
      await l.tryAcquire(1);
    }
    for (let i = 0; i < 4; i++) await l.release({ kind: 'answered', estimatedTokens: 1 });
    let allowed = 0;
    while ((await l.tryAcquire(1)).ok) allowed++;
    expect(allowed).toBe(8);
  });
});
