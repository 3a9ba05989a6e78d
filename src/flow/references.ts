import type { JsonValue } from '../config/types.js';

/**
 * Expressions in stage and node input mappings. `${a.b.c}` names a path into a scope
 * (`inputs`, `data`, a node or stage name); a string that is exactly one reference yields the
 * referenced value unchanged, references inside a longer string are joined as text, and any
 * other value is a literal.
 */

const REFERENCE = /\$\{([^}]*)\}/g;
const WHOLE_REFERENCE = /^\$\{([^}]*)\}$/;

/** A parsed `${...}`: the scope (first segment) and the path after it. */
export interface Reference {
  readonly scope: string;
  readonly path: readonly string[];
  readonly text: string;
}

export function parseReference(inner: string): Reference {
  const segments = inner.trim().split('.');
  return { scope: segments[0] ?? '', path: segments.slice(1), text: `\${${inner}}` };
}

/** Every reference an expression contains (nested in lists and objects too). */
export function referencesIn(expression: JsonValue): Reference[] {
  if (typeof expression === 'string') {
    return [...expression.matchAll(REFERENCE)].map((match) => parseReference(match[1] ?? ''));
  }
  if (Array.isArray(expression)) return expression.flatMap((item) => referencesIn(item));
  if (expression !== null && typeof expression === 'object') {
    return Object.values(expression).flatMap((item) => referencesIn(item as JsonValue));
  }
  return [];
}

/** Looks a reference up; `undefined` when the scope or a path segment does not exist. */
export type ReferenceLookup = (reference: Reference) => unknown;

/** Follows `path` into `value` (object members, or list indexes written as numbers). */
export function followPath(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const segment of path) {
    if (current === null || current === undefined) return undefined;
    if (Array.isArray(current)) {
      const index = Number(segment);
      current = Number.isInteger(index) ? current.at(index) : undefined;
    } else if (typeof current === 'object') {
      current = Object.hasOwn(current, segment)
        ? (current as Record<string, unknown>)[segment]
        : undefined;
    } else {
      return undefined;
    }
  }
  return current;
}

/** Thrown for a reference that names nothing at run time; the row fails with its message. */
export class UnresolvedReferenceError extends Error {}

/** Evaluates an expression against `lookup`. */
export function resolveExpression(expression: JsonValue, lookup: ReferenceLookup): unknown {
  if (typeof expression === 'string') {
    const whole = WHOLE_REFERENCE.exec(expression);
    if (whole) return lookupOrThrow(parseReference(whole[1] ?? ''), lookup);

    if (!expression.includes('${')) return expression;
    return expression.replace(REFERENCE, (_match, inner: string) =>
      asText(lookupOrThrow(parseReference(inner), lookup)),
    );
  }
  if (Array.isArray(expression)) return expression.map((item) => resolveExpression(item, lookup));
  if (expression !== null && typeof expression === 'object') {
    const resolved: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(expression)) {
      resolved[key] = resolveExpression(item as JsonValue, lookup);
    }
    return resolved;
  }
  return expression;
}

function lookupOrThrow(reference: Reference, lookup: ReferenceLookup): unknown {
  const value = lookup(reference);
  if (value === undefined) {
    throw new UnresolvedReferenceError(`${reference.text} has no value for this row`);
  }
  return value;
}

function asText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
