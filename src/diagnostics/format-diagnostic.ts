import type { Diagnostic } from './diagnostic.js';

export interface FormatOptions {
  /** ANSI colours, for a terminal. */
  readonly color: boolean;
}

/** Reads a file relative to the project root; undefined when it cannot be read. */
export type ReadSource = (file: string) => string | undefined;

const ANSI = {
  bold: '\u001b[1m',
  red: '\u001b[31m',
  cyan: '\u001b[36m',
  dim: '\u001b[2m',
  reset: '\u001b[0m',
} as const;

/**
 * Renders diagnostics the way compilers do, one block each, blank lines between:
 *
 *     flows/validate/flow.yaml:12:7 error: unknown key `paramters`; did you mean `parameters`?
 *        12 |       paramters: { max_tokens: 300 }
 *           |       ^~~~~~~~~
 *       hint: keys allowed here: ...
 *
 * A diagnostic without a position is just `error: message` (and its hint). Each file is read
 * at most once.
 */
export function formatDiagnostics(
  diagnostics: readonly Diagnostic[],
  readSource: ReadSource,
  options: FormatOptions,
): string {
  const sources = new Map<string, string[] | undefined>();
  const linesOf = (file: string): string[] | undefined => {
    if (!sources.has(file)) sources.set(file, readSource(file)?.split(/\r?\n/));
    return sources.get(file);
  };
  return diagnostics.map((diagnostic) => formatOne(diagnostic, linesOf, options)).join('\n\n');
}

function formatOne(
  diagnostic: Diagnostic,
  linesOf: (file: string) => string[] | undefined,
  { color }: FormatOptions,
): string {
  const paint = (style: keyof typeof ANSI, text: string) =>
    color ? `${ANSI[style]}${text}${ANSI.reset}` : text;
  const error = paint('red', paint('bold', 'error:'));
  const out: string[] = [];
  const { position } = diagnostic;

  if (position === undefined) {
    out.push(`${error} ${paint('bold', diagnostic.message)}`);
  } else {
    const location = `${position.file}:${position.line}:${position.column}`;
    out.push(`${paint('bold', location)} ${error} ${paint('bold', diagnostic.message)}`);

    const source = linesOf(position.file)?.[position.line - 1];
    if (source !== undefined) {
      const { line, column } = around(source, position.column);
      const gutter = String(position.line);
      const pad = ' '.repeat(gutter.length);
      // Keep tabs as tabs under the source so the caret lines up however tabs render.
      const indent = line.slice(0, column - 1).replace(/[^\t]/g, ' ');
      const room = Math.max(1, line.length - (column - 1));
      const length = Math.max(1, Math.min(diagnostic.length ?? 1, room));
      const underline = `^${'~'.repeat(length - 1)}`;
      out.push(`${paint('dim', ` ${gutter} |`)} ${line}`);
      out.push(`${paint('dim', ` ${pad} |`)} ${indent}${paint('red', underline)}`);
    }
  }

  if (diagnostic.hint !== undefined) out.push(`  ${paint('cyan', 'hint:')} ${diagnostic.hint}`);
  return out.join('\n');
}

/** How much of a long line is shown: a dataset row can be kilobytes on one line. */
const SHOWN_WIDTH = 100;

/** The part of `line` worth showing around `column`, and the column within that part. */
function around(line: string, column: number): { line: string; column: number } {
  if (line.length <= SHOWN_WIDTH) return { line, column };
  const start = Math.max(0, Math.min(column - 1 - 30, line.length - SHOWN_WIDTH));
  const end = start + SHOWN_WIDTH;
  const before = start > 0 ? '…' : '';
  const after = end < line.length ? '…' : '';
  return {
    line: `${before}${line.slice(start, end)}${after}`,
    column: column - start + before.length,
  };
}
