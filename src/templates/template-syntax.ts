import { compileTemplate } from './compile-template.js';
import type { TemplateError } from './template-error.js';

export type { TemplateError } from './template-error.js';

/**
 * The first syntax error in a template, or undefined when it compiles. The template is compiled
 * (and cached for later renders) but never rendered, so this is safe to call while a flow is
 * being loaded, before any row exists.
 */
export function findTemplateSyntaxError(source: string, file: string): TemplateError | undefined {
  const result = compileTemplate(source, file);
  return result.ok ? undefined : result.error;
}
