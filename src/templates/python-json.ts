import { isPlainObject } from './python-repr.js';

/**
 * Jinja's `tojson` filter, byte for byte: Python's `json.dumps(value, sort_keys=True)` (so
 * `", "` and `": "` separators and non-ASCII text as `\uXXXX`), then `<`, `>`, `&` and `'`
 * escaped so the output is safe inside HTML. Following Jinja rather than `JSON.stringify` keeps
 * a prompt ported from promptflow identical, down to the bytes the model sees.
 */
export function pythonJson(value: unknown, indent?: number): string {
  const json = dump(value, indent, 0, new Set());
  return json.replace(/[<>&']/g, (char) => unicodeEscape(char.charCodeAt(0)));
}

function dump(
  value: unknown,
  indent: number | undefined,
  depth: number,
  seen: Set<object>,
): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return dumpNumber(value);
  if (typeof value === 'string') return dumpString(value);
  if (typeof value !== 'object') return dumpString(String(value));

  const withToJson = value as { toJSON?: unknown };
  if (typeof withToJson.toJSON === 'function') {
    return dump((withToJson.toJSON as () => unknown).call(value), indent, depth, seen);
  }
  if (seen.has(value)) throw new TypeError('tojson: circular reference');

  seen.add(value);
  try {
    const items = Array.isArray(value)
      ? value.map((item) => dump(item, indent, depth + 1, seen))
      : dumpEntries(value, indent, depth, seen);
    const [open, close] = Array.isArray(value) ? ['[', ']'] : ['{', '}'];
    if (items.length === 0) return open + close;
    if (indent === undefined) return open + items.join(', ') + close;

    const inner = '\n' + ' '.repeat(indent * (depth + 1));
    const outer = '\n' + ' '.repeat(indent * depth);
    return open + inner + items.join(',' + inner) + outer + close;
  } finally {
    seen.delete(value);
  }
}

function dumpEntries(
  value: object,
  indent: number | undefined,
  depth: number,
  seen: Set<object>,
): string[] {
  const record: Record<string, unknown> = isPlainObject(value) ? value : { ...value };
  return Object.keys(record)
    .filter((key) => record[key] !== undefined)
    .sort()
    .map((key) => `${dumpString(key)}: ${dump(record[key], indent, depth + 1, seen)}`);
}

function dumpNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  return String(value);
}

/** JSON.stringify escapes quotes, backslashes and control characters as Python does. */
function dumpString(text: string): string {
  return JSON.stringify(text).replace(/[^\x20-\x7e]/g, (char) => unicodeEscape(char.charCodeAt(0)));
}

function unicodeEscape(code: number): string {
  return `\\u${code.toString(16).padStart(4, '0')}`;
}
