import nunjucks from 'nunjucks';

import type { Diagnostic } from '../diagnostics/diagnostic.js';

/**
 * Compiles a template the way execution will render it (Nunjucks, autoescape off) and reports a
 * syntax error at its line and column in the template file, so a typo in a prompt fails at load
 * time rather than on the first row of a long run.
 *
 * `file` is the template's path relative to the project root.
 */
export function checkTemplateSyntax(file: string, text: string): Diagnostic | undefined {
  const environment = new nunjucks.Environment(null, { autoescape: false });
  try {
    // eagerCompile (the last argument) parses now instead of on first render.
    new nunjucks.Template(text, environment, file, true);
    return undefined;
  } catch (error) {
    const raw = error instanceof Error ? error.message : String(error);
    return templateDiagnostic(file, text, raw);
  }
}

/**
 * Nunjucks reports `(file) [Line 3, Column 10]\n  expected symbol, got variable-end`, with
 * 1-based numbers; errors found at the end of the input carry no position, and are placed at
 * the end of the file, where the missing `%}` or `{% endif %}` belongs.
 */
function templateDiagnostic(file: string, text: string, raw: string): Diagnostic {
  const located = /\[Line (\d+), Column (\d+)\]/.exec(raw);
  const reason = raw
    .replace(/^\([^)]*\)/, '')
    .replace(/\[Line \d+, Column \d+\]/, '')
    .replace(/\s+/g, ' ')
    .trim();
  const message = `template syntax error: ${reason}`;
  const hint = 'templates use Jinja syntax as Nunjucks implements it';

  if (located !== null) {
    const line = Number(located[1]);
    const column = Math.max(1, Number(located[2]));
    return { message, position: { file, line, column }, length: 1, hint };
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
