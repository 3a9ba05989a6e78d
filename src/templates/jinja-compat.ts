import nunjucks from 'nunjucks';

import { isPlainObject, pythonStr } from './python-repr.js';

/**
 * Makes nunjucks read and print values the way Jinja (and so promptflow) does.
 *
 * nunjucks keeps its runtime in one module shared by every Environment, and
 * `installJinjaCompat()` patches that module, not an Environment: the patches below are
 * process-wide. That is acceptable because kwgraph renders every template through one
 * Environment, but three consequences are handled here:
 *
 * - Installing twice would wrap the lookups twice, so installation is guarded.
 * - The compat layer answers Python method names before data: `{{ order.items }}` on a row
 *   with an `items` column would print a function. Here a plain object's own key wins.
 * - It offers Python's mutating methods (`list.pop()`, `dict.update()`), which would change the
 *   caller's row. Callers render copies of their data (see render-template.ts).
 *
 * On top of the compat layer: Python's common string methods (`x.strip()`, `x.split(",")`),
 * and printing lists, dicts, booleans and None as Python does (see python-repr.ts).
 */
export function installJinjaBehaviour(): void {
  const runtime = nunjucks.runtime as unknown as NunjucksRuntime;
  if (runtime[INSTALLED] === true) return;

  nunjucks.installJinjaCompat();
  const compatLookup = runtime.memberLookup;
  const suppressValue = runtime.suppressValue;

  runtime.memberLookup = function memberLookup(this: unknown, ...args: unknown[]): unknown {
    // Four arguments are a slice (`x[1:3]`), which the compat layer handles.
    if (args.length < 4) {
      const [target, key] = args;
      if (typeof target === 'string' && typeof key === 'string' && Object.hasOwn(STR, key)) {
        const method = STR[key] as StringMethod;
        return (...callArgs: unknown[]) => method(target, ...callArgs);
      }
      if (isPlainObject(target) && typeof key === 'string' && Object.hasOwn(target, key)) {
        const value = target[key];
        if (typeof value !== 'function') return value;
      }
    }
    return compatLookup.apply(this, args);
  };

  runtime.suppressValue = function printValue(value: unknown, autoescape: boolean): unknown {
    const printsLikePython =
      value === null || typeof value === 'boolean' || Array.isArray(value) || isPlainObject(value);
    return suppressValue(printsLikePython ? pythonStr(value) : value, autoescape);
  };

  runtime[INSTALLED] = true;
}

const INSTALLED = Symbol.for('kwgraph.jinjaBehaviourInstalled');

/** The part of nunjucks' untyped runtime module that is patched. */
interface NunjucksRuntime {
  memberLookup: (...args: unknown[]) => unknown;
  suppressValue: (value: unknown, autoescape: boolean) => unknown;
  [INSTALLED]?: boolean;
}

type StringMethod = (text: string, ...args: unknown[]) => unknown;

/** Python `str` methods templates commonly call, with Python's semantics. */
const STR: Readonly<Record<string, StringMethod>> = {
  upper: (text) => text.toUpperCase(),
  lower: (text) => text.toLowerCase(),
  strip: (text, chars) => stripChars(text, chars, true, true),
  lstrip: (text, chars) => stripChars(text, chars, true, false),
  rstrip: (text, chars) => stripChars(text, chars, false, true),
  startswith: (text, prefix) => anyOf(prefix, (p) => text.startsWith(p)),
  endswith: (text, suffix) => anyOf(suffix, (s) => text.endsWith(s)),
  split: (text, separator, maxSplit) => pythonSplit(text, separator, maxSplit),
  splitlines: (text) =>
    text.split(/\r\n|\r|\n/).filter((line, i, all) => i < all.length - 1 || line !== ''),
  // Python replaces every occurrence; JavaScript's `replace` only the first.
  replace: (text, old, replacement) => text.split(String(old)).join(String(replacement)),
  title: (text) =>
    text
      .toLowerCase()
      .replace(/(^|[^\p{L}])(\p{L})/gu, (_, pre: string, c: string) => pre + c.toUpperCase()),
  capitalize: (text) => text.charAt(0).toUpperCase() + text.slice(1).toLowerCase(),
  join: (text, items) =>
    Array.isArray(items) ? items.map((item) => pythonStr(item)).join(text) : '',
};

function stripChars(text: string, chars: unknown, left: boolean, right: boolean): string {
  const strip = (char: string): boolean =>
    typeof chars === 'string' ? chars.includes(char) : /\s/.test(char);
  let start = 0;
  let end = text.length;
  while (left && start < end && strip(text.charAt(start))) start++;
  while (right && end > start && strip(text.charAt(end - 1))) end--;
  return text.slice(start, end);
}

function anyOf(candidates: unknown, test: (candidate: string) => boolean): boolean {
  const list = Array.isArray(candidates) ? candidates : [candidates];
  return list.some((candidate) => test(String(candidate)));
}

/** `str.split`: without a separator, splits on runs of whitespace and drops empty ends. */
function pythonSplit(text: string, separator: unknown, maxSplit: unknown): string[] {
  const limit = typeof maxSplit === 'number' && maxSplit >= 0 ? maxSplit : Infinity;

  if (typeof separator === 'string' && separator !== '') {
    const parts = text.split(separator);
    if (parts.length - 1 <= limit) return parts;
    return [...parts.slice(0, limit), parts.slice(limit).join(separator)];
  }

  const parts: string[] = [];
  let rest = text.trimStart();
  while (rest !== '' && parts.length < limit) {
    const gap = /\s+/.exec(rest);
    if (gap === null) break;
    parts.push(rest.slice(0, gap.index));
    rest = rest.slice(gap.index + gap[0].length);
  }
  if (rest !== '') parts.push(rest);
  return parts;
}
