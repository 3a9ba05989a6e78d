import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { findTemplateSyntaxError } from '../templates/template-syntax.js';

/**
 * Compiles a template the way execution will (the same environment, so the same filters) and
 * reports a syntax error at its line and column in the template file, so a typo in a prompt
 * fails at load time rather than on the first row of a long run.
 *
 * `file` is the template's path relative to the project root. An error without a position
 * (found at the end of the input) is placed at the end of the file, where the missing `%}` or
 * `{% endif %}` belongs.
 */
export function checkTemplateSyntax(file: string, text: string): Diagnostic | undefined {
  const error = findTemplateSyntaxError(text, file);
  if (error === undefined) return undefined;
  const message = `template syntax error: ${error.message.replace(/\s+/g, ' ').trim()}`;
  const hint = 'templates use Jinja syntax as Nunjucks implements it';
  if (error.line !== undefined) {
    const column = Math.max(1, error.column ?? 1);
    return { message, position: { file, line: error.line, column }, length: 1, hint };
  }
  const lines = text.replace(/\s+$/, '').split('\n');
  const lastLine = lines[lines.length - 1] ?? '';
  return {
    message,
    position: { file, line: Math.max(1, lines.length), column: lastLine.length + 1 },
    length: 1,
    hint,
  };
}
