/**
 * A `{%` or `{{` that is never closed makes nunjucks read on into the text that follows and
 * fail there with a message about that text ("expected colon after dict key"). Finding the
 * opener first lets the error point at the real mistake.
 */
export interface UnclosedTag {
  readonly opener: '{%' | '{{';
  readonly line: number;
  readonly column: number;
}

export const CLOSER = { '{%': '%}', '{{': '}}' } as const;

/** The first tag whose closer does not come before the next tag opens, if any. */
export function findUnclosedTag(source: string): UnclosedTag | undefined {
  const openers = [...source.matchAll(/\{[%{#]/g)];
  for (const [index, match] of openers.entries()) {
    const opener = match[0];
    if (opener === '{#') continue;
    const start = match.index + 2;
    const end = openers[index + 1]?.index ?? source.length;
    const closer = CLOSER[opener as '{%' | '{{'];
    if (source.slice(start, end).includes(closer)) continue;
    const before = source.slice(0, match.index);
    const line = before.split('\n').length;
    const column = match.index - before.lastIndexOf('\n');
    return { opener: opener as '{%' | '{{', line, column };
  }
  return undefined;
}
