import type { RateLimiter, RequestOutcome } from './rate-limiter.js';

/** One endpoint of a pool and the limiter that paces it. */
export interface PoolMember<E> {
  readonly endpoint: E;
  readonly limiter: RateLimiter;
}

/** An endpoint taken for one request; released exactly once, with how the request went. */
export interface Lease<E> {
  readonly endpoint: E;
  release(outcome: RequestOutcome): Promise<void>;
}

export type Balance = 'least_busy' | 'round_robin';

/**
 * The longest a waiting call sleeps before asking the limiters again. Releases in this process
 * wake waiters at once; this bounds the wait for capacity freed elsewhere (a shared limiter).
 */
const MAX_IDLE_MS = 1_000;

/**
 * Spreads calls over the endpoints of one connection. A call takes the first endpoint, in
 * balancing order, whose limiter lets a request start now; when none does it waits for the
 * soonest to free up or for any request to end. An endpoint paused after a 429 is simply
 * skipped, so the others carry on at full speed.
 *
 * - `round_robin`: endpoints in turn, starting after the one used last.
 * - `least_busy`: the endpoint with the smallest share of its concurrency in use; ties in turn.
 */
export class EndpointPool<E> {
  private next = 0;
  private readonly waiters = new Set<() => void>();

  constructor(
    private readonly members: readonly PoolMember<E>[],
    private readonly balance: Balance,
  ) {
    if (members.length === 0) throw new Error('internal error: an endpoint pool needs endpoints');
  }

  async acquire(tokens: number): Promise<Lease<E>> {
    for (;;) {
      let soonest = MAX_IDLE_MS;
      for (const index of this.order()) {
        const member = this.members[index];
        if (member === undefined) continue;
        const acquired = await member.limiter.tryAcquire(tokens);
        if (acquired.ok) {
          this.next = (index + 1) % this.members.length;
          return this.lease(member);
        }
        if (acquired.retryInMs !== undefined) soonest = Math.min(soonest, acquired.retryInMs);
      }
      await this.changed(Math.max(1, soonest));
    }
  }

  private lease(member: PoolMember<E>): Lease<E> {
    let released = false;
    return {
      endpoint: member.endpoint,
      release: async (outcome) => {
        if (released) return;
        released = true;
        await member.limiter.release(outcome);
        for (const wake of [...this.waiters]) wake();
      },
    };
  }

  /** Indices of the members in the order they are tried. */
  private order(): number[] {
    const count = this.members.length;
    const turn = Array.from({ length: count }, (_, offset) => (this.next + offset) % count);
    if (this.balance === 'round_robin') return turn;
    const load = (index: number) => this.members[index]?.limiter.load() ?? 0;
    // Array.prototype.sort is stable: among equally busy endpoints the turn order decides.
    return turn.sort((a, b) => load(a) - load(b));
  }

  /** Resolves after `ms`, or sooner when any lease is released. */
  private changed(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }
}
