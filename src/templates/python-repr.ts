/**
 * How Python prints values. promptflow renders templates with Jinja, where `{{ keywords }}`
 * prints a list as `['cotton', 'rayon']` and `{{ flag }}` prints `True`; nunjucks would print
 * `cotton,rayon` and `true`. A flow written for promptflow should send the model the same text,
 * so kwgraph's template output follows Python.
 */

/**
 * promptflow's `ChatInputList`: a list its chat tools print one item per line, so that a
 * question given as `["How many colours?", <image>]` reads as text followed by the image.
 */
export class ChatInputList<T = unknown> extends Array<T> {}

/** `str(value)` in Python: what `{{ value }}` prints. */
export function pythonStr(value: unknown): string {
  if (value instanceof ChatInputList) return value.map((item) => pythonStr(item)).join('\n');
  return typeof value === 'string' ? value : pythonRepr(value, new Set());
}

/** `repr(value)` in Python, for the JSON-like values rows hold. */
export function pythonRepr(value: unknown, ancestors: Set<object> = new Set()): string {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return pythonNumber(value);
  if (typeof value === 'string') return pythonStringRepr(value);
  if (typeof value !== 'object') return String(value);

  if (ancestors.has(value)) return Array.isArray(value) ? '[...]' : '{...}';
  ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      return `[${value.map((item) => pythonRepr(item, ancestors)).join(', ')}]`;
    }
    if (isPlainObject(value)) {
      const entries = Object.entries(value).map(
        ([key, item]) => `${pythonStringRepr(key)}: ${pythonRepr(item, ancestors)}`,
      );
      return `{${entries.join(', ')}}`;
    }
    return String(value);
  } finally {
    ancestors.delete(value);
  }
}

/** A plain data object (JSON-like), as opposed to arrays, dates, class instances. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function pythonNumber(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  return String(value);
}

/** Python quotes with `'` unless the text holds a `'` and no `"`. */
function pythonStringRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const char of text) {
    out += escapeChar(char, quote);
  }
  return out + quote;
}

const NAMED_ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
};

function escapeChar(char: string, quote: string): string {
  if (char === quote) return `\\${quote}`;

  const named = NAMED_ESCAPES[char];
  if (named !== undefined) return named;

  const code = char.codePointAt(0) ?? 0;
  // Python prints other control characters (C0, DEL, C1) as \xNN and keeps printable Unicode.
  if (code < 0x20 || (code >= 0x7f && code < 0xa0)) {
    return `\\x${code.toString(16).padStart(2, '0')}`;
  }
  return char;
}
