/**
 * A value as `show` prints it under a label: text as written (every line indented), anything
 * else as JSON that breaks only where it must: a list or object that fits the width stays on
 * one line, else each item gets its own. Nothing is shortened: `show` is where a user reads
 * exactly what a model was sent.
 */
export function valueLines(value: unknown, indent: string, width = 100): string[] {
  if (typeof value === 'string')
    return value.split('\n').map((line) => `${indent}${line}`.trimEnd());
  return jsonLines(value, indent, width);
}

/** `label: value` on one line when the value is short and single-line, else a block below. */
export function labelled(label: string, value: unknown, indent: string, width = 100): string[] {
  const compact = typeof value === 'string' ? value : (JSON.stringify(value) ?? 'null');
  const line = `${indent}${label}: ${compact}`;
  if (line.length <= width && !compact.includes('\n')) return [line];
  return [`${indent}${label}:`, ...valueLines(value, `${indent}  `, width)];
}

function jsonLines(value: unknown, indent: string, width: number, suffix = ''): string[] {
  const compact = JSON.stringify(value) ?? 'null';
  if (indent.length + compact.length + suffix.length <= width || value === null) {
    return [`${indent}${compact}${suffix}`];
  }
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    return [
      `${indent}[`,
      ...value.flatMap((item, index) =>
        jsonLines(item, inner, width, index < value.length - 1 ? ',' : ''),
      ),
      `${indent}]${suffix}`,
    ];
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    return [
      `${indent}{`,
      ...entries.flatMap(([key, item], index) => {
        const comma = index < entries.length - 1 ? ',' : '';
        const [first = '', ...rest] = jsonLines(item, inner, width, comma);
        return [`${inner}${JSON.stringify(key)}: ${first.trimStart()}`, ...rest];
      }),
      `${indent}}${suffix}`,
    ];
  }
  return [`${indent}${compact}${suffix}`];
}
