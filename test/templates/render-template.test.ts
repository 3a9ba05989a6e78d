import { describe, expect, it } from 'vitest';

import { renderTemplate } from '../../src/templates/render-template.js';

function render(source: string, variables: Record<string, unknown> = {}): string {
  const result = renderTemplate(source, 'flows/x/t.jinja2', variables);
  if (!result.ok) throw new Error(`unexpected error: ${JSON.stringify(result.error)}`);
  return result.value;
}

describe('renderTemplate', () => {
  it('does not escape HTML and prints unknown names as nothing', () => {
    expect(render('{{ a }}|{{ missing }}|{{ missing.deeper.still }}', { a: '<b>&' })).toBe(
      '<b>&||',
    );
  });

  it('drops the newline after a block tag, as promptflow (trim_blocks) does', () => {
    expect(render('{% for x in xs %}\n- {{ x }}\n{% endfor %}\nend', { xs: [1, 2] })).toBe(
      '- 1\n- 2\nend',
    );
  });

  it('prints values as Python does', () => {
    const variables = { list: ['cotton', "it's"], dict: { a: 1, b: [true, null] }, flag: false };
    expect(render('{{ list }} {{ dict }} {{ flag }} {{ none }} {{ True }}', variables)).toBe(
      `['cotton', "it's"] {'a': 1, 'b': [True, None]} False None True`,
    );
  });

  it('serialises tojson exactly as Jinja does', () => {
    const value = { z: 'café <b>', a: [1, 'x'], n: null };
    expect(render('{{ v | tojson }}', { v: value })).toBe(
      '{"a": [1, "x"], "n": null, "z": "caf\\u00e9 \\u003cb\\u003e"}',
    );
    expect(render('{{ v | tojson(indent=2) }}', { v: { b: [1], a: {} } })).toBe(
      '{\n  "a": {},\n  "b": [\n    1\n  ]\n}',
    );
  });

  it('offers common Jinja filters nunjucks lacks', () => {
    const attrs = [
      { name: 'Fabric', size: 3 },
      { name: 'fabric', size: 1 },
      { name: 'Sleeve', size: 2 },
    ];
    expect(render('{{ attrs | map(attribute="name") | join(", ") }}', { attrs })).toBe(
      'Fabric, fabric, Sleeve',
    );
    expect(render('{{ words | map("upper") | join(" ") }}', { words: ['a', 'b'] })).toBe('A B');
    expect(render('{{ attrs | map(attribute="name") | unique | join(",") }}', { attrs })).toBe(
      'Fabric,Sleeve',
    );
    expect(render('{{ (attrs | max(attribute="size")).name }}', { attrs })).toBe('Fabric');
    expect(render('{{ [3, 1, 2] | min }} {{ d | items }} {{ d | count }}', { d: { k: 'v' } })).toBe(
      "1 [['k', 'v']] 1",
    );
  });

  it('offers Python dict, list and str methods', () => {
    const variables = { d: { b: 2, a: 1 }, s: '  Red, Blue  ', xs: [1, 2, 3] };
    expect(render('{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}', variables)).toBe(
      'b=2;a=1;',
    );
    expect(render('{{ d.get("zz", "none") }} {{ d.keys() | list }} {{ xs[1:] }}', variables)).toBe(
      "none ['b', 'a'] [2, 3]",
    );
    expect(render('{{ s.strip().lower().split(", ") }} {{ s.split() }}', variables)).toBe(
      "['red', 'blue'] ['Red,', 'Blue']",
    );
    expect(render('{{ "a-b-c".replace("-", "+") }} {{ ", ".join(["x", "y"]) }}')).toBe(
      'a+b+c x, y',
    );
  });

  it('lets a row column named like a dict method win over the method', () => {
    expect(
      render('{{ order.items | join(",") }} {{ order["values"] }}', {
        order: { items: [1, 2], values: 'v' },
      }),
    ).toBe('1,2 v');
  });

  it('reports syntax errors with their line and column', () => {
    const result = renderTemplate('# user:\nHello\n{{ name }', 'flows/x/t.jinja2', {});
    expect(result).toEqual({
      ok: false,
      error: { file: 'flows/x/t.jinja2', line: 3, column: 9, message: 'expected variable end' },
    });
  });

  it('reports render errors with their line', () => {
    const result = renderTemplate('a\nb\n  {{ nothing() }}', 'flows/x/t.jinja2', {});
    expect(result).toMatchObject({ ok: false, error: { line: 3 } });
    if (!result.ok) expect(result.error.message).toContain('Unable to call `nothing`');
  });

  it('reuses a compiled template for the same text, reporting each caller’s file', () => {
    const broken = '{% if %}';
    expect(renderTemplate(broken, 'a.jinja2', {})).toMatchObject({ error: { file: 'a.jinja2' } });
    expect(renderTemplate(broken, 'b.jinja2', {})).toMatchObject({ error: { file: 'b.jinja2' } });
  });
});
