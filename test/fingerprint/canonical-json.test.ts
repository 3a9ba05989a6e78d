import { describe, expect, it } from 'vitest';

import { canonicalJson } from '../../src/fingerprint/canonical-json.js';
import { hashValue } from '../../src/fingerprint/hash.js';

describe('canonical JSON', () => {
  it('does not depend on key order, at any depth', () => {
    const a = { b: 1, a: { y: [1, { q: 1, p: 2 }], x: null } };
    const b = { a: { x: null, y: [1, { p: 2, q: 1 }] }, b: 1 };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(hashValue(a)).toBe(hashValue(b));
  });

  it('keeps list order and every value', () => {
    expect(hashValue([1, 2])).not.toBe(hashValue([2, 1]));
    expect(hashValue({ a: 0 })).not.toBe(hashValue({ a: false }));
    expect(hashValue({ a: '1' })).not.toBe(hashValue({ a: 1 }));
  });

  it('drops undefined members as JSON does', () => {
    expect(canonicalJson({ a: 1, b: undefined })).toBe('{"a":1}');
  });
});
