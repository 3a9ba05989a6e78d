import { describe, expect, it } from 'vitest';

import { splitPrompty, templateSource } from '../../src/templates/prompty-sections.js';

describe('.prompty files', () => {
  it('split into front matter and a body that keeps the file line numbers', () => {
    const text = '---\nname: x\nmodel:\n  api: chat\n---\nsystem:\nHi {{ name }}\n';
    const { frontMatter, body } = splitPrompty(text);
    expect(frontMatter).toBe('name: x\nmodel:\n  api: chat\n');
    expect(body.split('\n')[5]).toBe('system:');
    expect(body.trimStart()).toBe('system:\nHi {{ name }}\n');
  });

  it('without front matter are all template', () => {
    expect(splitPrompty('user:\nhi')).toEqual({ frontMatter: undefined, body: 'user:\nhi' });
  });

  it('give other template files back unchanged', () => {
    expect(templateSource('a.jinja2', '---\nx\n---\n')).toBe('---\nx\n---\n');
  });
});
