/**
 * Reads a validate answer into predictions, following the keyword-correctness rules: strip
 * markdown fences; JSON when the text starts with `[` or `{` (a lone object is a one-element
 * list); otherwise `keyword | reason | result` lines.
 */

/** A number written with a decimal point or an exponent (`1.0`, `0.8`, `1e0`). */
export class FloatLiteral {
  constructor(readonly value: number) {}
}

/** One prediction as the model wrote it, before its result is checked. */
export interface RawPrediction {
  /** A string when the model gave one. */
  readonly keyword: unknown;
  /** A JSON value; numbers written as floats arrive as FloatLiteral. */
  readonly result: unknown;
}

export type ParsedAnswer =
  | { readonly ok: true; readonly predictions: readonly RawPrediction[] }
  | { readonly ok: false; readonly error: string };

/** A result mapped to [0, 1], or why it cannot be. */
export type NormalisedResult =
  { readonly ok: true; readonly value: number } | { readonly ok: false; readonly error: string };

export function parseAnswer(answer: unknown): ParsedAnswer {
  if (typeof answer !== 'string') return { ok: false, error: 'the answer is not text' };

  const text = stripFences(answer);
  if (text.startsWith('[') || text.startsWith('{')) return parseJson(text);
  return parsePipeLines(text);
}

/** Removes markdown code fences (```` ``` ```` or ```` ```json ````) wherever they are. */
export function stripFences(text: string): string {
  return text.replace(/```[\w-]*/g, '').trim();
}

/** Keywords are compared after collapsing runs of whitespace (and trimming the ends). */
export function normaliseKeyword(keyword: string): string {
  return keyword.trim().replace(/\s+/g, ' ');
}

/**
 * Maps a result to a confidence in [0, 1]: a float in [0, 1] as is, an integer in [0, 10]
 * divided by 10, "correct"/"incorrect" to 1/0, a boolean to 1/0.
 */
export function normaliseResult(result: unknown): NormalisedResult {
  if (result instanceof FloatLiteral) return floatResult(result.value);

  // A plain JS number is an integer literal from JSON, or a value given directly (tests,
  // callers in code); a non-integer can only be meant as a float.
  if (typeof result === 'number') {
    if (!Number.isInteger(result)) return floatResult(result);
    if (result >= 0 && result <= 10) return { ok: true, value: result / 10 };
    return { ok: false, error: `integer result ${result} is outside 0..10` };
  }

  if (typeof result === 'boolean') return { ok: true, value: result ? 1 : 0 };

  if (typeof result === 'string') {
    // NOTE: the words are matched ignoring case and surrounding spaces ("Correct" in a pipe
    // line is clearly meant); any other string is an error, numbers in strings included.
    const word = result.trim().toLowerCase();
    if (word === 'correct') return { ok: true, value: 1 };
    if (word === 'incorrect') return { ok: true, value: 0 };
    return { ok: false, error: `result "${result}" is not "correct" or "incorrect"` };
  }

  if (result === undefined) return { ok: false, error: 'no result' };
  return { ok: false, error: `result ${JSON.stringify(result)} is not a number, word or boolean` };
}

function floatResult(value: number): NormalisedResult {
  if (value >= 0 && value <= 1) return { ok: true, value };
  return { ok: false, error: `float result ${value} is outside 0..1` };
}

function parseJson(text: string): ParsedAnswer {
  let parsed: unknown;
  try {
    parsed = JSON.parse(tagFloatLiterals(text), (_key, value: unknown) =>
      isFloatTag(value) ? new FloatLiteral(value[FLOAT_TAG]) : value,
    );
  } catch (error) {
    return { ok: false, error: `the answer is not valid JSON (${(error as Error).message})` };
  }

  const items = Array.isArray(parsed) ? parsed : isPlainObject(parsed) ? [parsed] : undefined;
  if (items === undefined) return { ok: false, error: 'the answer is not a list' };

  const predictions = items.map((item: unknown): RawPrediction => {
    // An item that is not an object has neither field: a small error, found when it is scored.
    if (!isPlainObject(item)) return { keyword: undefined, result: undefined };
    return { keyword: item['keyword'], result: item['result'] };
  });
  return { ok: true, predictions };
}

function parsePipeLines(text: string): ParsedAnswer {
  const lines = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');

  const predictions: RawPrediction[] = [];
  for (const [index, line] of lines.entries()) {
    // Markdown table rulers (|---|---|---|) carry nothing.
    if (/^[|:\-\s]+$/.test(line) && line.includes('-')) continue;

    const fields = line
      .replace(/^\|/, '')
      .replace(/\|$/, '')
      .split('|')
      .map((field) => field.trim());
    if (fields.length < 3) {
      return { ok: false, error: `line ${index + 1} is not "keyword | reason | result": ${line}` };
    }

    const first = fields[0] ?? '';
    const last = fields[fields.length - 1] ?? '';
    const isHeader = index === 0 && first.toLowerCase() === 'keyword' && /^result$/i.test(last);
    if (isHeader) continue;

    // A reason may itself contain "|": the keyword is the first field, the result the last.
    predictions.push({ keyword: first, result: resultFromText(last) });
  }
  return { ok: true, predictions };
}

/** A pipe line's result as the JSON value it spells (`8`, `0.8`, `true`) or as text. */
function resultFromText(text: string): unknown {
  if (/^[+-]?\d+$/.test(text)) return Number(text);
  if (/^[+-]?(\d+\.\d*|\.\d+|\d+(\.\d*)?[eE][+-]?\d+)$/.test(text)) {
    return new FloatLiteral(Number(text));
  }
  if (/^(true|false)$/i.test(text)) return text.toLowerCase() === 'true';
  return text;
}

/**
 * JSON.parse turns `1` and `1.0` into the same number, but the rules read them differently
 * (an integer 1 is 0.1 on the 0–10 scale, a float 1.0 is 1.0). Before parsing, every number
 * written with a fraction or exponent outside strings is wrapped in a tagged object that the
 * reviver turns into a FloatLiteral.
 */
function tagFloatLiterals(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const char = text[i] ?? '';
    if (char === '"') {
      const end = endOfString(text, i);
      out += text.slice(i, end);
      i = end;
      continue;
    }

    NUMBER.lastIndex = i;
    const match = char === '-' || (char >= '0' && char <= '9') ? NUMBER.exec(text) : null;
    if (match !== null) {
      const literal = match[0];
      out += /[.eE]/.test(literal) ? `{"${FLOAT_TAG_JSON}":${literal}}` : literal;
      i += literal.length;
      continue;
    }

    out += char;
    i += 1;
  }
  return out;
}

/** Index just past the string literal that opens at `start` (or the end of the text). */
function endOfString(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
  return Math.min(i + 1, text.length);
}

const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** A key no answer contains: it starts with a NUL character. */
const FLOAT_TAG = '\u0000float';
const FLOAT_TAG_JSON = '\\u0000float';

function isFloatTag(value: unknown): value is { [FLOAT_TAG]: number } {
  if (!isPlainObject(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && keys[0] === FLOAT_TAG && typeof value[FLOAT_TAG] === 'number';
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof FloatLiteral)
  );
}
