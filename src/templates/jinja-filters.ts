import type nunjucks from 'nunjucks';

import { pythonJson } from './python-json.js';
import { isPlainObject, pythonStr } from './python-repr.js';

/**
 * Jinja filters that promptflow templates use and nunjucks lacks, with Jinja's defaults (e.g.
 * `unique`, `min` and `max` ignore case unless told otherwise).
 */
export function addJinjaFilters(env: nunjucks.Environment): void {
  env.addFilter('tojson', (value: unknown, ...args: unknown[]) => {
    const { positional, keywords } = splitArguments(args);
    const indent = keywords['indent'] ?? positional[0];
    return pythonJson(value, typeof indent === 'number' ? indent : undefined);
  });

  // `map(attribute="name", default=...)` or `map("upper")`, applying another filter by name.
  env.addFilter('map', function map(this: unknown, value: unknown, ...args: unknown[]) {
    const { positional, keywords } = splitArguments(args);
    const items = toList(value);
    if (typeof keywords['attribute'] === 'string') {
      const path = keywords['attribute'];
      return items.map((item) => attributeOf(item, path) ?? keywords['default']);
    }
    const [filterName, ...filterArgs] = positional;
    if (typeof filterName !== 'string') return items;
    const filter = env.getFilter(filterName);
    return items.map((item) => filter.call(this, item, ...filterArgs) as unknown);
  });

  env.addFilter('unique', (value: unknown, ...args: unknown[]) => {
    const { keywords } = splitArguments(args);
    const keyOf = comparisonKey(keywords);
    const seen = new Set<unknown>();
    return toList(value).filter((item) => {
      const key = keyOf(item);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  });

  env.addFilter('min', (value: unknown, ...args: unknown[]) => extreme(value, args, -1));
  env.addFilter('max', (value: unknown, ...args: unknown[]) => extreme(value, args, 1));

  env.addFilter('items', (value: unknown) => (isPlainObject(value) ? Object.entries(value) : []));

  env.addFilter('count', (value: unknown) => {
    if (typeof value === 'string' || Array.isArray(value)) return value.length;
    return isPlainObject(value) ? Object.keys(value).length : 0;
  });

  // nunjucks' `string` returns its argument unchanged, so `x | string | length` would count list
  // items; Jinja converts first.
  env.addFilter('string', (value: unknown) => (value === undefined ? '' : pythonStr(value)));
}

/** nunjucks passes keyword arguments as a last object marked with `__keywords`. */
function splitArguments(args: readonly unknown[]): {
  positional: readonly unknown[];
  keywords: Readonly<Record<string, unknown>>;
} {
  const last = args.at(-1);
  if (isPlainObject(last) && Object.hasOwn(last, '__keywords')) {
    const { __keywords: _marker, ...keywords } = last;
    return { positional: args.slice(0, -1), keywords };
  }
  return { positional: args, keywords: {} };
}

function toList(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (typeof value === 'string') return [...value];
  if (isPlainObject(value)) return Object.keys(value);
  return [];
}

/** Jinja's dotted attribute paths: `attribute="size.width"`, `attribute="images.0"`. */
function attributeOf(item: unknown, path: string): unknown {
  let current: unknown = item;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

/** Jinja compares strings case-insensitively unless `case_sensitive=true`. */
function comparisonKey(keywords: Readonly<Record<string, unknown>>): (item: unknown) => unknown {
  const attribute = keywords['attribute'];
  const caseSensitive = keywords['case_sensitive'] === true;
  return (item) => {
    const value = typeof attribute === 'string' ? attributeOf(item, attribute) : item;
    return !caseSensitive && typeof value === 'string' ? value.toLowerCase() : value;
  };
}

function extreme(value: unknown, args: readonly unknown[], direction: 1 | -1): unknown {
  const keyOf = comparisonKey(splitArguments(args).keywords);
  let best: unknown = undefined;
  let bestKey: unknown = undefined;
  for (const item of toList(value)) {
    const key = keyOf(item);
    if (best === undefined || compare(key, bestKey) * direction > 0) {
      best = item;
      bestKey = key;
    }
  }
  return best;
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const [left, right] = [String(a), String(b)];
  return left < right ? -1 : left > right ? 1 : 0;
}
