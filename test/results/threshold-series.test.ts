import { describe, expect, it } from 'vitest';

import { thresholdSeries } from '../../src/results/threshold-series.js';

describe('metrics over thresholds', () => {
  it('reads thresholds keyed by value, with nested metrics, sorted by threshold', () => {
    const series = thresholdSeries({
      threshold: 0.8,
      thresholds: {
        '0.9': { threshold: 0.9, score: 0.5, micro: { recall: 0.7 }, macro: null },
        '0.1': { threshold: 0.1, score: 0.2, micro: { recall: 0.9 }, macro: null },
      },
    });
    expect(series?.threshold).toBe(0.8);
    expect(Object.fromEntries(series?.series ?? [])).toEqual({
      score: [
        [0.1, 0.2],
        [0.9, 0.5],
      ],
      'micro.recall': [
        [0.1, 0.9],
        [0.9, 0.7],
      ],
    });
  });

  it('reads a list of thresholds, and nothing when there is none', () => {
    const series = thresholdSeries({ thresholds: [{ threshold: 1, f1: 0.4 }] });
    expect(Object.fromEntries(series?.series ?? [])).toEqual({ f1: [[1, 0.4]] });
    expect(thresholdSeries({ accuracy: 0.9 })).toBeUndefined();
    expect(thresholdSeries(null)).toBeUndefined();
  });
});
