import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';

import { failureOf, retryAfter } from '../../src/models/call-failure.js';
import { backoffDelay, nextStep } from '../../src/models/retry-policy.js';

const policy = { maxRetries: 3, backoffMs: 1000 };

describe('nextStep', () => {
  it('gives up at once on a final failure, and after maxRetries on any other', () => {
    expect(nextStep(policy, { kind: 'fatal', message: 'HTTP 400: bad' }, 0)).toEqual({
      kind: 'give-up',
    });
    expect(nextStep(policy, { kind: 'transient', message: 'HTTP 500' }, 3)).toEqual({
      kind: 'give-up',
    });
  });

  it('pauses the endpoint for a 429 by its Retry-After, else by a backoff', () => {
    const limited = { kind: 'rate-limited', message: 'HTTP 429' } as const;
    expect(nextStep(policy, { ...limited, retryAfterMs: 1234 }, 0)).toEqual({
      kind: 'pause-endpoint',
      waitMs: 1234,
    });
    expect(nextStep(policy, limited, 1, () => 1)).toEqual({ kind: 'pause-endpoint', waitMs: 2000 });
  });

  it('waits a backoff after a 5xx, and at least what the server asked for', () => {
    const failure = { kind: 'transient', message: 'HTTP 503' } as const;
    expect(nextStep(policy, failure, 2, () => 0)).toEqual({ kind: 'wait', waitMs: 2000 });
    expect(nextStep(policy, { ...failure, retryAfterMs: 9000 }, 0, () => 0)).toEqual({
      kind: 'wait',
      waitMs: 9000,
    });
  });
});

describe('backoffDelay', () => {
  it('doubles from backoffMs, keeps at least half of it, and stops growing at a minute', () => {
    expect([0, 1, 2, 3].map((retry) => backoffDelay(policy, retry, () => 1))).toEqual([
      1000, 2000, 4000, 8000,
    ]);
    expect(backoffDelay(policy, 2, () => 0)).toBe(2000);
    expect(backoffDelay(policy, 20, () => 1)).toBe(60_000);
  });
});

describe('retryAfter', () => {
  const headers = (values: Record<string, string>) => new Headers(values);

  it('reads retry-after-ms first, then retry-after in seconds or as a date', () => {
    expect(retryAfter(headers({ 'retry-after-ms': '250.5', 'retry-after': '9' }))).toBe(251);
    expect(retryAfter(headers({ 'retry-after': '2' }))).toBe(2000);
    const inFive = new Date(Date.now() + 5000).toUTCString();
    expect(retryAfter(headers({ 'retry-after': inFive }))).toBeGreaterThan(3000);
    expect(retryAfter(headers({ 'retry-after': 'soon' }))).toBeUndefined();
    expect(retryAfter(undefined)).toBeUndefined();
  });
});

describe('failureOf', () => {
  const error = (status: number, body: object, values: Record<string, string> = {}) =>
    OpenAI.APIError.generate(status, { error: body }, undefined, new Headers(values));

  it('sorts HTTP errors into rate limits, transient failures and final ones', () => {
    expect(failureOf(error(429, { message: 'Slow down' }, { 'retry-after': '1' }), 1000)).toEqual({
      kind: 'rate-limited',
      message: 'HTTP 429: Slow down',
      retryAfterMs: 1000,
    });
    expect(failureOf(error(429, { message: 'Quota', code: 'insufficient_quota' }), 1000)).toEqual({
      kind: 'fatal',
      message: 'HTTP 429: Quota',
    });
    expect(failureOf(error(503, { message: 'Overloaded' }), 1000)).toEqual({
      kind: 'transient',
      message: 'HTTP 503: Overloaded',
    });
    expect(failureOf(error(400, { message: 'Invalid image' }), 1000)).toEqual({
      kind: 'fatal',
      message: 'HTTP 400: Invalid image',
    });
  });

  it('retries timeouts and dropped connections', () => {
    expect(failureOf(new OpenAI.APIConnectionTimeoutError(), 1500)).toEqual({
      kind: 'transient',
      message: 'no answer within 1.5 s',
    });
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    expect(failureOf(new OpenAI.APIConnectionError({ cause: reset }), 1000)).toEqual({
      kind: 'transient',
      message: 'connection failed (ECONNRESET)',
    });
    expect(failureOf(new TypeError('terminated', { cause: reset }), 1000).kind).toBe('transient');
  });
});
