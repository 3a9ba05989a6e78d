import { describe, expect, it } from 'vitest';

import { formatDiagnostics } from '../../src/diagnostics/format-diagnostic.js';

const source = 'name: demo\nstages:\n\tbad:  value\n';
const readSource = (file: string) => (file === 'experiment.yaml' ? source : undefined);

describe('formatDiagnostics', () => {
  it('prints the location, the source line, an underline and the hint', () => {
    const text = formatDiagnostics(
      [
        {
          message: 'unknown key `bad`',
          position: { file: 'experiment.yaml', line: 3, column: 2 },
          length: 3,
          hint: 'remove it',
        },
      ],
      readSource,
      { color: false },
    );
    expect(text).toBe(
      [
        'experiment.yaml:3:2 error: unknown key `bad`',
        ' 3 | \tbad:  value',
        '   | \t^~~',
        '  hint: remove it',
      ].join('\n'),
    );
  });

  it('shows only the part of a long line around the column', () => {
    const row = `{"id": "p1", "text": "${'x'.repeat(500)}", "key": "dup", "more": "${'y'.repeat(500)}"}`;
    const column = row.indexOf('"key"') + 1;
    const text = formatDiagnostics(
      [
        {
          message: 'duplicate key `dup`',
          position: { file: 'data.jsonl', line: 1, column },
          length: 5,
        },
      ],
      (file) => (file === 'data.jsonl' ? row : undefined),
      { color: false },
    );
    const [, shown, underline] = text.split('\n');
    expect(shown?.length).toBeLessThan(120);
    expect(shown).toMatch(/^ 1 \| …x+", "key": "dup", "more": "y+…$/);
    // The underline still sits under `"key"`.
    expect(shown?.indexOf('"key"')).toBe(underline?.indexOf('^'));
    expect(underline).toMatch(/\^~~~~$/);
  });

  it('prints just the message when there is no position', () => {
    const text = formatDiagnostics(
      [{ message: 'no experiment.yaml', hint: 'use -C' }],
      readSource,
      {
        color: false,
      },
    );
    expect(text).toBe('error: no experiment.yaml\n  hint: use -C');
  });

  it('keeps the underline on the line and skips the source when it cannot be read', () => {
    const text = formatDiagnostics(
      [
        { message: 'long', position: { file: 'experiment.yaml', line: 1, column: 7 }, length: 99 },
        { message: 'gone', position: { file: 'missing.yaml', line: 4, column: 1 } },
      ],
      readSource,
      { color: false },
    );
    expect(text).toBe(
      [
        'experiment.yaml:1:7 error: long',
        ' 1 | name: demo',
        '   |       ^~~~',
        '',
        'missing.yaml:4:1 error: gone',
      ].join('\n'),
    );
  });

  it('colours only when asked', () => {
    const diagnostic = { message: 'm', position: { file: 'experiment.yaml', line: 1, column: 1 } };
    expect(formatDiagnostics([diagnostic], readSource, { color: true })).toContain('\u001b[31m');
    expect(formatDiagnostics([diagnostic], readSource, { color: false })).not.toContain('\u001b[');
  });
});
