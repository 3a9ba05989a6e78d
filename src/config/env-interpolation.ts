import { isPair, isScalar, isSeq, visit, type Scalar } from 'yaml';

import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { YamlPath, YamlSource } from './yaml-source.js';

/**
 * `${NAME}` or `${NAME:-default}`. Only upper-case names: `${data.col}` and
 * `${stage.outputs.x}` are kwgraph's own references and must survive untouched.
 */
const ENV_REFERENCE = /\$\{([A-Z_][A-Z0-9_]*)(?::-([^}]*))?\}/g;

export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Replaces environment references in every string value of the document, in place, before the
 * schema sees it (so `base_url: ${OPENAI_BASE_URL:-https://...}` validates as the final URL).
 * Editing the YAML nodes rather than the plain data keeps every position intact.
 *
 * Shell semantics: `${NAME:-default}` uses the default when NAME is unset or empty; `${NAME}`
 * with NAME unset is an error (left as written, so nothing downstream sees a made-up value).
 * A plain (unquoted) scalar that is exactly one reference takes the value's YAML type, so
 * `concurrency: ${CONCURRENCY:-4}` is a number; quote it to keep a string.
 */
export function interpolateEnvironment(source: YamlSource, env: Environment): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];

  visit(source.doc, {
    Scalar: (key, node, ancestry) => {
      // Map keys are names, not values: `${X}: 1` stays a literal key.
      if (key === 'key' || typeof node.value !== 'string' || !node.value.includes('${')) {
        return;
      }
      const path = pathOf(ancestry, node);
      const written = node.value;
      let missing = false;

      const replaced = written.replace(
        ENV_REFERENCE,
        (match, name: string, fallback: string | undefined) => {
          const value = env[name];
          if (fallback !== undefined) return value === undefined || value === '' ? fallback : value;
          if (value !== undefined) return value;
          missing = true;
          diagnostics.push(
            source.diagnostic(path, `environment variable \`${name}\` is not set`, {
              within: match,
              hint: `set ${name} or write \${${name}:-default}`,
            }),
          );
          return match;
        },
      );

      if (missing || replaced === written) return;
      const wholeValue = written.replace(ENV_REFERENCE, '') === '';
      node.value = wholeValue && node.type === 'PLAIN' ? asPlainScalar(replaced) : replaced;
    },
  });

  return diagnostics;
}

/** What YAML would have read had the value been written unquoted: numbers and booleans. */
function asPlainScalar(text: string): string | number | boolean {
  if (text === 'true' || text === 'false') return text === 'true';
  if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return Number(text);
  return text;
}

/**
 * The document path of a scalar from `visit`'s ancestry, so the diagnostic is located by the
 * same means as every other one (and can underline just the reference).
 */
function pathOf(ancestry: readonly unknown[], node: Scalar): YamlPath {
  const path: (string | number)[] = [];
  const chain = [...ancestry, node];
  for (let i = 1; i < chain.length; i += 1) {
    const parent = chain[i - 1];
    const child = chain[i];
    if (isPair(parent) && child === parent.value && isScalar(parent.key)) {
      path.push(String(parent.key.value));
    } else if (isSeq(parent)) {
      path.push(parent.items.indexOf(child));
    }
  }
  return path;
}
