import { describe, expect, it } from 'vitest';

import { YamlSource } from '../../src/config/yaml-source.js';

function firstError(text: string) {
  const parsed = YamlSource.parse('e.yaml', text);
  if (parsed.ok) throw new Error('parsed without an error');
  const [error] = parsed.error;
  return {
    message: error?.message,
    at: [error?.position?.line, error?.position?.column],
    hint: error?.hint,
  };
}

describe('YAML syntax errors', () => {
  it('point at an unclosed quote where it opens', () => {
    expect(firstError('name: "demo\nstages:\n  a: 1\n')).toMatchObject({
      message: 'YAML syntax error: a quoted value opened here is not closed',
      at: [1, 7],
    });
    expect(firstError("name: x\nb: 'it''s\nc: 1\n").at).toEqual([2, 4]);
  });

  it('point at an unclosed bracket or brace, not at one inside a quoted value', () => {
    expect(firstError('a: 1\nsettings: { connection: "${X:-b}", t: 1\nnext: 2\n')).toMatchObject({
      message: 'YAML syntax error: a map opened here is not closed',
      at: [2, 11],
    });
    expect(firstError('a: 1\nvariants: [concise, "a[b"\nnext: 2\n')).toMatchObject({
      message: 'YAML syntax error: a list opened here is not closed',
      at: [2, 11],
    });
  });

  it('say what usually causes indentation and colon errors', () => {
    expect(firstError('name: x\nstages:\n\ta: 1\n').hint).toBe('indent with spaces, not tabs');
    expect(firstError('name: x\nstages\n  a: 1\n').hint).toMatch(/a key needs a colon/);
    expect(firstError('name: x\nstages:\n  a: b: c\n').hint).toMatch(/check the indentation/);
  });
});
