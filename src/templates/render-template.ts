import { fail, ok, type Result } from '../util/result.js';
import { compileTemplate } from './compile-template.js';
import { toTemplateError, type TemplateError } from './template-error.js';

export type { TemplateError } from './template-error.js';

/**
 * Renders a Jinja template (see environment.ts for the options, jinja-compat.ts for the Python
 * behaviour) with `variables` as its context.
 *
 * Templates may call Python's mutating methods (`list.pop()`, `dict.update()`), which change
 * the objects they are given: pass data this render may own, as the chat and prompt renderers
 * do. Values are inserted as text and never rendered again, so `{{ ... }}` inside a value stays
 * literal.
 */
export function renderTemplate(
  source: string,
  file: string,
  variables: Record<string, unknown>,
): Result<string, TemplateError> {
  const compiled = compileTemplate(source, file);
  if (!compiled.ok) return compiled;

  try {
    return ok(compiled.value.render(variables));
  } catch (thrown) {
    return fail(toTemplateError(thrown, file, 'render'));
  }
}
