import nunjucks from 'nunjucks';

import { installJinjaBehaviour } from './jinja-compat.js';
import { addJinjaFilters } from './jinja-filters.js';

/**
 * The options every kwgraph template is compiled with, matching how promptflow renders Jinja:
 * no HTML escaping (prompts are not HTML), unknown names print as nothing, and a newline after
 * a `{% ... %}` tag is dropped (`trim_blocks=True` in promptflow) so loops do not leave blank
 * lines in the prompt.
 */
export const TEMPLATE_OPTIONS = {
  autoescape: false,
  throwOnUndefined: false,
  trimBlocks: true,
} as const satisfies nunjucks.ConfigureOptions;

let shared: nunjucks.Environment | undefined;

/**
 * The one Environment kwgraph renders with. It has no loader: a template is rendered from its
 * source, so `{% include %}` and `{% extends %}` find nothing.
 */
export function templateEnvironment(): nunjucks.Environment {
  if (shared === undefined) {
    installJinjaBehaviour();
    shared = new nunjucks.Environment(null, TEMPLATE_OPTIONS);
    addJinjaFilters(shared);
  }
  return shared;
}
