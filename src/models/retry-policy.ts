import type { CallFailure } from './call-failure.js';

/** How a connection retries a call that failed for a reason worth retrying. */
export interface RetryPolicy {
  /** Requests sent after the first, at most. */
  readonly maxRetries: number;
  /** The first backoff; each further retry doubles it. */
  readonly backoffMs: number;
}

/** No backoff grows beyond this (unless the first one already does). */
export const MAX_BACKOFF_MS = 60_000;

/**
 * What to do after a failed request.
 *
 * - `give-up`: the failure is final (a 4xx other than 429, a quota error) or the retries are
 *   spent; the row fails with the failure's message.
 * - `pause-endpoint`: a 429. The endpoint that said so takes no request for `waitMs` (its
 *   Retry-After, or a backoff when it sent none); the call is sent again at once through the
 *   pool, so another endpoint may take it.
 * - `wait`: a 5xx, a timeout or a dropped connection. The call waits `waitMs` (exponential
 *   backoff with jitter, at least any Retry-After) and is sent again.
 */
export type RetryStep =
  | { readonly kind: 'give-up' }
  | { readonly kind: 'pause-endpoint'; readonly waitMs: number }
  | { readonly kind: 'wait'; readonly waitMs: number };

export function nextStep(
  policy: RetryPolicy,
  failure: CallFailure,
  retriesSoFar: number,
  random: () => number = Math.random,
): RetryStep {
  if (failure.kind === 'fatal' || retriesSoFar >= policy.maxRetries) return { kind: 'give-up' };
  const backoff = backoffDelay(policy, retriesSoFar, random);
  if (failure.kind === 'rate-limited') {
    return { kind: 'pause-endpoint', waitMs: failure.retryAfterMs ?? backoff };
  }
  return { kind: 'wait', waitMs: Math.max(failure.retryAfterMs ?? 0, backoff) };
}

/**
 * The wait before retry number `retry` (0 for the first): `backoffMs · 2^retry`, capped, of
 * which a random half is taken away. The jitter keeps rows that failed together from coming
 * back together; keeping at least half keeps the backoff a backoff.
 */
export function backoffDelay(
  policy: RetryPolicy,
  retry: number,
  random: () => number = Math.random,
): number {
  const cap = Math.max(MAX_BACKOFF_MS, policy.backoffMs);
  const ceiling = Math.min(cap, policy.backoffMs * 2 ** retry);
  return Math.round(ceiling * (0.5 + random() * 0.5));
}
