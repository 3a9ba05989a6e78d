import type { JsonValue } from './types.js';
import type { YamlPath } from './yaml-source.js';

/** One `${...}` found in a config value. */
export interface Reference {
  /** As written, `${describe.outputs.description}`: what a diagnostic underlines. */
  readonly text: string;
  /** The dotted parts: `['describe', 'outputs', 'description']`. */
  readonly parts: readonly string[];
  /** Where the string holding it sits, relative to the value that was searched. */
  readonly path: YamlPath;
}

const REFERENCE = /\$\{([^}]*)\}/g;

/**
 * Every reference in a JSON value, including inside nested lists and maps (a literal input can
 * be a list of expressions). Used only to check references; evaluating them is not done here.
 */
export function findReferences(value: JsonValue, path: YamlPath = []): Reference[] {
  if (typeof value === 'string') {
    return [...value.matchAll(REFERENCE)].map((match) => ({
      text: match[0],
      parts: (match[1] ?? '').trim().split('.'),
      path,
    }));
  }
  if (Array.isArray(value)) {
    return value.flatMap((item: JsonValue, index) => findReferences(item, [...path, index]));
  }
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([key, item]) => findReferences(item, [...path, key]));
  }
  return [];
}
