import { describe, expect, it } from 'vitest';

import { closestMatch } from '../../src/config/did-you-mean.js';
import { findCycles } from '../../src/config/find-cycles.js';

describe('findCycles', () => {
  it('returns each cycle from its earliest node, closed', () => {
    const nodes = ['a', 'b', 'c', 'd', 'e'];
    const edges = [
      ['b', 'c'],
      ['c', 'a'],
      ['a', 'b'],
      ['d', 'd'],
      ['a', 'e'],
    ] as const;
    expect(findCycles(nodes, edges)).toEqual([
      ['a', 'b', 'c', 'a'],
      ['d', 'd'],
    ]);
  });

  it('finds nothing in a DAG', () => {
    expect(findCycles(['a', 'b'], [['a', 'b']])).toEqual([]);
  });
});

describe('closestMatch', () => {
  it('suggests plausible typos only', () => {
    expect(closestMatch('tpye', ['type', 'name'])).toBe('type');
    expect(closestMatch('Temperature', ['temperature'])).toBe('temperature');
    expect(closestMatch('max_token', ['max_tokens', 'model'])).toBe('max_tokens');
    expect(closestMatch('xyz', ['type', 'name'])).toBeUndefined();
    expect(closestMatch('id', ['at'])).toBeUndefined();
  });
});
