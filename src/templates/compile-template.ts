import nunjucks from 'nunjucks';

import { fail, ok, type Result } from '../util/result.js';
import { TEMPLATE_OPTIONS, templateEnvironment } from './environment.js';
import { toTemplateError, withPosition, type TemplateError } from './template-error.js';
import { findUnclosedBlock } from './unclosed-block.js';
import { CLOSER, findUnclosedTag } from './unclosed-tag.js';

/**
 * Compiled templates (or the reason they do not compile), by source text. Every row of a run
 * renders the same few templates, so each is parsed once per process. The file is left out of
 * the key: the same text compiles the same wherever it lives, and errors get the caller's file.
 */
const compiled = new Map<string, Result<nunjucks.Template, TemplateError>>();

/** Compiles `source` eagerly (never rendering it), reusing an earlier compilation. */
export function compileTemplate(
  source: string,
  file: string,
): Result<nunjucks.Template, TemplateError> {
  let result = compiled.get(source);
  if (result === undefined) {
    result = compileNow(source, file);
    compiled.set(source, result);
  }
  return result.ok ? result : fail({ ...result.error, file });
}

function compileNow(source: string, file: string): Result<nunjucks.Template, TemplateError> {
  let template: nunjucks.Template;
  try {
    template = new nunjucks.Template(source, templateEnvironment(), file, true);
  } catch (thrown) {
    const error = toTemplateError(thrown, file, 'compile');
    const tag = findUnclosedTag(source);
    // Only when the parser noticed it on another line: on the same line its own position is
    // the more precise one.
    if (tag !== undefined && tag.line !== error.line) {
      const message = `"${tag.opener}" is never closed with "${CLOSER[tag.opener]}" (${error.message})`;
      return fail(withPosition({ ...error, message }, tag.line, tag.column));
    }
    return fail(locateEndOfFile(error, source));
  }

  const unknown = findUnknownFilter(source);
  if (unknown !== undefined) {
    const message = `unknown filter "${unknown.name}"`;
    return fail(withPosition({ file, message }, unknown.line, unknown.column));
  }
  return ok(template);
}

/** nunjucks reports an unclosed block without a position; point at the tag that opened it. */
function locateEndOfFile(error: TemplateError, source: string): TemplateError {
  if (error.line !== undefined || !/end of file/.test(error.message)) return error;

  const block = findUnclosedBlock(source);
  if (block === undefined) return error;
  const what = block.tag === 'comment' ? 'comment "{#"' : `"{% ${block.tag} %}"`;
  const message = `${what} is never closed (${error.message})`;
  return withPosition({ ...error, message }, block.line, block.column);
}

/** The part of nunjucks' untyped parser used to find where a filter is applied. */
interface ParsedNode {
  findAll(type: unknown): FilterNode[];
}
interface FilterNode {
  readonly name: { readonly value: string; readonly lineno: number; readonly colno: number };
}
interface NunjucksInternals {
  readonly parser: { parse(source: string, extensions: unknown[], options: object): ParsedNode };
  readonly nodes: { readonly Filter: unknown };
}

/**
 * nunjucks looks filters up only when rendering; a misspelt or unsupported filter is found here
 * instead, so a flow fails when it is loaded rather than on its first row.
 */
function findUnknownFilter(
  source: string,
): { name: string; line: number; column: number } | undefined {
  const { parser, nodes } = nunjucks as unknown as NunjucksInternals;
  const env = templateEnvironment();
  const unknown = parser
    .parse(source, [], TEMPLATE_OPTIONS)
    .findAll(nodes.Filter)
    .filter((node) => !hasFilter(env, node.name.value))
    .sort((a, b) => a.name.lineno - b.name.lineno || a.name.colno - b.name.colno)[0];
  // Parser nodes count lines and columns from 0.
  return (
    unknown && {
      name: unknown.name.value,
      line: unknown.name.lineno + 1,
      column: unknown.name.colno + 1,
    }
  );
}

function hasFilter(env: nunjucks.Environment, name: string): boolean {
  try {
    env.getFilter(name);
    return true;
  } catch {
    return false;
  }
}
