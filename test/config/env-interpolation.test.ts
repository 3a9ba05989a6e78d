import { describe, expect, it } from 'vitest';

import { interpolateEnvironment } from '../../src/config/env-interpolation.js';
import { YamlSource } from '../../src/config/yaml-source.js';

function interpolate(text: string, env: Record<string, string | undefined>) {
  const parsed = YamlSource.parse('experiment.yaml', text);
  if (!parsed.ok) throw new Error('bad YAML in test');
  const diagnostics = interpolateEnvironment(parsed.value, env);
  return { data: parsed.value.toData(), diagnostics };
}

describe('interpolateEnvironment', () => {
  it('replaces ${NAME} and ${NAME:-default}, shell style', () => {
    const { data, diagnostics } = interpolate(
      [
        'url: ${BASE:-https://example.test}/v1',
        'key: ${KEY}',
        'empty: ${EMPTY:-fallback}',
        'quoted: "${COUNT:-4}"',
        'count: ${COUNT:-4}',
        'flag: ${FLAG}',
        'list:\n  - ${KEY}\n  - x',
      ].join('\n'),
      { KEY: 'k', EMPTY: '', FLAG: 'true' },
    );
    expect(diagnostics).toEqual([]);
    expect(data).toEqual({
      url: 'https://example.test/v1',
      key: 'k',
      empty: 'fallback',
      quoted: '4',
      count: 4,
      flag: true,
      list: ['k', 'x'],
    });
  });

  it('leaves kwgraph references and map keys alone', () => {
    const text = 'image: ${data.images.0}\nd: ${describe.outputs.x}\n${KEY}: ${Mixed}\n';
    const { data } = interpolate(text, { KEY: 'k', Mixed: 'm' });
    expect(data).toEqual({
      image: '${data.images.0}',
      d: '${describe.outputs.x}',
      '${KEY}': '${Mixed}',
    });
  });

  it('reports a missing variable at the reference, with a hint', () => {
    const { data, diagnostics } = interpolate('name: demo\nurl: "x/${MISSING}/y"\n', {});
    expect(data).toEqual({ name: 'demo', url: 'x/${MISSING}/y' });
    expect(diagnostics).toEqual([
      {
        message: 'environment variable `MISSING` is not set',
        position: { file: 'experiment.yaml', line: 2, column: 9 },
        length: 10,
        hint: 'set MISSING or write ${MISSING:-default}',
      },
    ]);
  });
});
