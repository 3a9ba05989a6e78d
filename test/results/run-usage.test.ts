import { describe, expect, it } from 'vitest';

import { costOf, sumUsage, type RunUsage } from '../../src/results/run-usage.js';
import type { RunManifest } from '../../src/runs/run-manifest.js';

const manifest = (cost: unknown) => ({ id: 'r', cost }) as unknown as RunManifest;
const usage = (calls: number, cost?: RunUsage['cost']): RunUsage => ({
  calls,
  tokens: { prompt: calls, completion: calls, total: 2 * calls },
  ...(cost ? { cost } : {}),
});

describe('run usage and cost', () => {
  it('reads a cost a manifest records, as a number or an object', () => {
    expect(costOf(manifest(0.25))).toEqual({ amount: 0.25, currency: 'USD' });
    expect(costOf(manifest({ total: 1.5, currency: 'EUR' }))).toEqual({
      amount: 1.5,
      currency: 'EUR',
    });
    expect(costOf(manifest({ usd: 2 }))).toEqual({ amount: 2, currency: 'USD' });
    expect(costOf(manifest(undefined))).toBeUndefined();
    expect(costOf(manifest({ note: 'no price' }))).toBeUndefined();
  });

  it('sums a lineage, leaving cost out unless every run that made calls has one', () => {
    const usd = (amount: number) => ({ amount, currency: 'USD' });
    expect(sumUsage([usage(2, usd(0.5)), usage(3, usd(0.25)), usage(0)])).toEqual({
      calls: 5,
      tokens: { prompt: 5, completion: 5, total: 10 },
      cost: usd(0.75),
    });
    expect(sumUsage([usage(2, usd(0.5)), usage(3)]).cost).toBeUndefined();
    expect(
      sumUsage([usage(2, usd(0.5)), usage(3, { amount: 1, currency: 'EUR' })]).cost,
    ).toBeUndefined();
    expect(sumUsage([usage(0), usage(0)]).cost).toBeUndefined();
  });
});
