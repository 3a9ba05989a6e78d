/** A template that cannot be compiled or rendered, located in its file when nunjucks says where. */
export interface TemplateError {
  readonly file: string;
  readonly line?: number;
  readonly column?: number;
  readonly message: string;
}

/** When nunjucks failed: positions of compile errors are 1-based, of render errors 0-based. */
export type TemplatePhase = 'compile' | 'render';

/**
 * Turns what nunjucks threw into a TemplateError. nunjucks writes the position into the message
 * (`(file) [Line 3, Column 8]\n  unexpected token: }}`), sometimes nested once per template
 * level; the position is taken from the first prefix and every prefix is dropped.
 */
export function toTemplateError(
  thrown: unknown,
  file: string,
  phase: TemplatePhase,
): TemplateError {
  let text = thrown instanceof Error ? thrown.message : String(thrown);
  let line: number | undefined;
  let column: number | undefined;

  for (;;) {
    const prefix = PREFIX.exec(text);
    if (prefix === null) break;
    if (line === undefined && prefix[1] !== undefined) {
      // nunjucks reports render-time positions 0-based (and drops them on the first line).
      const shift = phase === 'render' ? 1 : 0;
      line = Number(prefix[1]) + shift;
      column = prefix[2] === undefined ? undefined : Number(prefix[2]) + shift;
    }
    text = text.slice(prefix[0].length);
  }

  const message = text.replace(/^Error: /, '').trim();
  return withPosition({ file, message }, line, column);
}

/** Adds a position, leaving the keys out when unknown so errors compare and print cleanly. */
export function withPosition(
  error: TemplateError,
  line: number | undefined,
  column: number | undefined,
): TemplateError {
  return {
    ...error,
    ...(line === undefined ? {} : { line }),
    ...(column === undefined ? {} : { column }),
  };
}

/** `(path) [Line N, Column M]` then a newline, and nunjucks' "Template render error: " lead. */
const PREFIX =
  /^(?:Template render error: )?\([^)\n]*\)(?: \[Line (\d+)(?:, Column (\d+))?\])?\n\s*/;
