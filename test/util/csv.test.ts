import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';

import { csvRecord } from '../../src/util/csv.js';

/** One field as written inside a record. */
const csvField = (value: unknown): string => csvRecord([value]).slice(0, -2);

describe('the CSV writer', () => {
  it('quotes only the fields that need it, doubling quotes inside', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(' padded')).toBe('" padded"');
    expect(csvField(null)).toBe('');
    expect(csvField(undefined)).toBe('');
    expect(csvField(0.25)).toBe('0.25');
    expect(csvField(false)).toBe('false');
  });

  it('writes lists and objects as JSON text', () => {
    expect(csvField(['a', 'b'])).toBe('"[""a"",""b""]"');
    expect(csvField({ k: 1 })).toBe('"{""k"":1}"');
  });

  it('round-trips awkward values through a real CSV parser', () => {
    const values = [
      'x',
      'a,b',
      'quote " inside',
      'line\r\nbreak',
      '',
      '  edge ',
      '[1,2]',
      'ünïcødé ₹',
    ];
    const text =
      csvRecord(['one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight']) +
      csvRecord(values);
    expect(text.endsWith('\r\n')).toBe(true);
    const parsed = parse(text) as string[][];
    expect(parsed).toEqual([
      ['one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight'],
      values,
    ]);
  });
});
