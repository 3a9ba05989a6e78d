import { isPlainObject } from './python-repr.js';

/**
 * A deep copy of JSON-like data (arrays and plain objects) with every string passed through
 * `mapString`; other objects are shared as they are. Keys are kept as they are, so a template's
 * `x.name` still finds its value.
 */
export function copyValues(
  value: unknown,
  mapString: (text: string) => string = (text) => text,
  copies: Map<object, unknown> = new Map(),
): unknown {
  if (typeof value === 'string') return mapString(value);
  if (!Array.isArray(value) && !isPlainObject(value)) return value;

  // The same object reached twice (or a cycle) stays one object in the copy.
  const earlier = copies.get(value);
  if (earlier !== undefined) return earlier;

  if (Array.isArray(value)) {
    const copy: unknown[] = [];
    copies.set(value, copy);
    for (const item of value) copy.push(copyValues(item, mapString, copies));
    return copy;
  }

  const copy: Record<string, unknown> = {};
  copies.set(value, copy);
  for (const [key, item] of Object.entries(value)) copy[key] = copyValues(item, mapString, copies);
  return copy;
}

/** copyValues for a template's variables. */
export function copyVariables(
  variables: Record<string, unknown>,
  mapString?: (text: string) => string,
): Record<string, unknown> {
  return copyValues(variables, mapString) as Record<string, unknown>;
}
