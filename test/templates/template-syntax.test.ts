import { describe, expect, it } from 'vitest';

import { findTemplateSyntaxError } from '../../src/templates/template-syntax.js';

const file = 'flows/validate/top5.jinja2';

describe('findTemplateSyntaxError', () => {
  it('accepts a valid template without rendering it', () => {
    // Rendering would fail: `nothing` cannot be called.
    expect(findTemplateSyntaxError('# user:\n{{ nothing() | tojson }}', file)).toBeUndefined();
  });

  it('locates an unexpected token', () => {
    expect(findTemplateSyntaxError('# user:\n\n{% if %}{% endif %}', file)).toEqual({
      file,
      line: 3,
      column: 7,
      message: 'unexpected token: %}',
    });
  });

  it('locates a block that is never closed at the tag that opened it', () => {
    const error = findTemplateSyntaxError('# user:\n  {% for a in attrs %}\n{{ a }}\n', file);
    expect(error).toMatchObject({ file, line: 2, column: 3 });
    expect(error?.message).toContain('"{% for %}" is never closed');
  });

  it('locates a tag whose closer is missing, not the text the parser stumbled on after it', () => {
    const template = [
      '# user:',
      '{% for a in attrs %}{{ a }}{% endfor %}',
      '{% if strict',
      'Judge {{ keyword }} strictly: {"answer": "correct"}',
      '{% endif %}',
    ].join('\n');
    const error = findTemplateSyntaxError(template, file);
    expect(error).toMatchObject({ file, line: 3, column: 1 });
    expect(error?.message).toMatch(/^"\{%" is never closed with "%\}" \(/);
  });

  it('locates a comment that is never closed', () => {
    const error = findTemplateSyntaxError('# user:\nhi {# note\n', file);
    expect(error).toMatchObject({ line: 2, column: 4 });
    expect(error?.message).toContain('comment "{#" is never closed');
  });

  it('locates an unknown filter', () => {
    expect(findTemplateSyntaxError('# user:\n{{ a | upper }}\n{{ b | to_json }}', file)).toEqual({
      file,
      line: 3,
      column: 8,
      message: 'unknown filter "to_json"',
    });
  });
});
