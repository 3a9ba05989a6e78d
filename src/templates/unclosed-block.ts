/**
 * nunjucks reports a block that is never closed as "unexpected end of file", without a
 * position. This scanner finds the innermost block (or comment) still open at the end of the
 * source, so the error can point at the line that opened it.
 */
export interface UnclosedBlock {
  /** `for`, `if`, ... or `comment` for an unclosed `{#`. */
  readonly tag: string;
  readonly line: number;
  readonly column: number;
}

export function findUnclosedBlock(source: string): UnclosedBlock | undefined {
  const open: { tag: string; index: number }[] = [];
  let inRaw = false;

  for (const token of source.matchAll(TOKENS)) {
    const [text, comment, tagName] = token;
    const index = token.index;
    const tag = tagName?.toLowerCase();

    if (inRaw) {
      if (tag === `end${open.at(-1)?.tag ?? ''}`) {
        open.pop();
        inRaw = false;
      }
      continue;
    }
    if (comment !== undefined && !text.endsWith('#}')) return position(source, 'comment', index);
    if (tag === undefined) continue;

    if (BLOCK_TAGS.has(tag) && !(tag === 'set' && text.includes('='))) {
      open.push({ tag, index });
      inRaw = tag === 'raw' || tag === 'verbatim';
    } else if (tag.startsWith('end')) {
      const opener = open.map((block) => block.tag).lastIndexOf(tag.slice(3));
      if (opener >= 0) open.length = opener;
    }
  }

  const innermost = open.at(-1);
  return innermost === undefined ? undefined : position(source, innermost.tag, innermost.index);
}

/** Tags that need an `end...` tag. `set` only in its block form, `{% set x %}...{% endset %}`. */
const BLOCK_TAGS = new Set([
  'for',
  'if',
  'macro',
  'call',
  'filter',
  'block',
  'raw',
  'verbatim',
  'set',
]);

/** Comments, `{% tag ... %}` (capturing the tag name) and `{{ ... }}`, each possibly unclosed. */
const TOKENS = /(\{#)[\s\S]*?(?:#\}|$)|\{%[-+]?\s*(\w+)[\s\S]*?(?:%\}|$)|\{\{[\s\S]*?(?:\}\}|$)/g;

function position(source: string, tag: string, index: number): UnclosedBlock {
  const before = source.slice(0, index);
  const lineStart = before.lastIndexOf('\n') + 1;
  return { tag, line: before.split('\n').length, column: index - lineStart + 1 };
}
