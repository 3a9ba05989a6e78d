import * as z from 'zod';

import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { closestMatch, didYouMean, listNames } from './did-you-mean.js';
import type { YamlPath, YamlSource } from './yaml-source.js';

type Issue = z.core.$ZodIssue;
type Schema = z.core.$ZodType;

interface Context {
  readonly source: YamlSource;
  readonly schema: Schema;
  readonly data: unknown;
}

/** What validation yields: diagnostics, and the data when it can still be used. */
export interface Validated<T> {
  /**
   * The validated data; also present when the only problems were unknown keys, which are then
   * ignored, so that later checks still run and one pass reports more than the typos.
   */
  readonly value: T | undefined;
  readonly diagnostics: Diagnostic[];
}

/**
 * Validates a file's data against its schema and turns every problem into a diagnostic at the
 * offending YAML node, phrased in the file's terms (keys, lists, maps) rather than zod's.
 */
export function validateSource<T>(
  source: YamlSource,
  schema: z.ZodType<T>,
  data: unknown,
): Validated<T> {
  const result = schema.safeParse(data);
  if (result.success) return { value: result.data, diagnostics: [] };
  const context: Context = { source, schema, data };
  const diagnostics = result.error.issues.flatMap((issue) => describeIssue(context, issue, []));
  return { value: withoutUnknownKeys(schema, data, result.error.issues), diagnostics };
}

/** The data minus the unknown keys, if that is all that was wrong with it. */
function withoutUnknownKeys<T>(
  schema: z.ZodType<T>,
  data: unknown,
  issues: readonly Issue[],
): T | undefined {
  if (!issues.every((issue) => issue.code === 'unrecognized_keys')) return undefined;
  const copy: unknown = structuredClone(data);
  for (const issue of issues) {
    const owner = valueAt(copy, toYamlPath(issue.path));
    if (typeof owner !== 'object' || owner === null) return undefined;
    for (const key of issue.keys) delete (owner as Record<string, unknown>)[key];
  }
  const retry = schema.safeParse(copy);
  return retry.success ? retry.data : undefined;
}

function describeIssue(context: Context, issue: Issue, base: YamlPath): Diagnostic[] {
  const { source, data } = context;
  const path = [...base, ...toYamlPath(issue.path)];
  const value = valueAt(data, path);
  const label = labelOf(path, source.file);

  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = allowedKeysAt(context.schema, path, data);
      return issue.keys.map((key) =>
        source.diagnostic([...path, key], `unknown key \`${key}\`${didYouMean(key, allowed)}`, {
          key: true,
          hint: allowed.length > 0 ? `keys allowed here: ${allowed.join(', ')}` : 'remove it',
        }),
      );
    }

    case 'invalid_type': {
      if (value === undefined) return missingKey(context, path);
      return [
        source.diagnostic(
          path,
          `${label} must be ${expectedName(issue.expected)}, not ${describeValue(value)}`,
        ),
      ];
    }

    case 'invalid_value': {
      const allowed = issue.values.map(String);
      const oneOf =
        allowed.length === 1 ? listNames(allowed) : `one of ${listNames(allowed, 'or')}`;
      const suggestion = typeof value === 'string' ? didYouMean(value, allowed) : '';
      if (value === undefined) return missingKey(context, path, oneOf);
      return [
        source.diagnostic(
          path,
          `${label} must be ${oneOf}, not ${describeValue(value)}${suggestion}`,
        ),
      ];
    }

    case 'invalid_union':
      return describeUnion(context, issue, path);

    case 'invalid_key':
      // A record's key failed its own schema (a stage name with a space): point at the key.
      return issue.issues.map((keyIssue) =>
        source.diagnostic(path, customMessage(keyIssue.message) ?? `invalid key ${label}`, {
          key: true,
        }),
      );

    case 'too_small':
    case 'too_big':
      return [source.diagnostic(path, customMessage(issue.message) ?? sizeMessage(issue, label))];

    case 'invalid_format':
      return [
        source.diagnostic(
          path,
          customMessage(issue.message) ?? `${label} is not a valid ${issue.format}`,
        ),
      ];

    default:
      return [source.diagnostic(path, `${label}: ${issue.message}`)];
  }
}

/**
 * A union failed. A discriminated union says which tag it wanted; a plain union (`rows`: a
 * name or a list) reports each option's complaints, and the useful ones are those of the option
 * the user evidently meant: the one whose whole-value type matched, with the fewest problems.
 */
function describeUnion(
  context: Context,
  issue: z.core.$ZodIssueInvalidUnion,
  path: YamlPath,
): Diagnostic[] {
  const { source, data } = context;
  const value = valueAt(data, path);

  if (issue.discriminator !== undefined) {
    const options = ('options' in issue ? (issue.options ?? []) : []).map(String);
    const tagPath =
      path[path.length - 1] === issue.discriminator ? path : [...path, issue.discriminator];
    const tag = valueAt(data, tagPath);
    const oneOf = `one of ${listNames(options, 'or')}`;
    if (tag === undefined) return missingKey(context, tagPath, oneOf);
    const suggestion = typeof tag === 'string' ? didYouMean(tag, options) : '';
    return [
      source.diagnostic(
        tagPath,
        `\`${issue.discriminator}\` must be ${oneOf}, not ${describeValue(tag)}${suggestion}`,
      ),
    ];
  }

  const scored = issue.errors
    .map((issues) => ({ issues, score: branchScore(issues) }))
    .sort((a, b) => a.score - b.score);
  const best = scored[0];
  if (best !== undefined && Number.isFinite(best.score)) {
    return best.issues.flatMap((nested) => describeIssue(context, nested, path));
  }

  const expected = issue.errors.flatMap((issues) =>
    issues.flatMap((nested) =>
      nested.code === 'invalid_type' ? [expectedName(nested.expected)] : [],
    ),
  );
  const wanted = expected.length > 0 ? [...new Set(expected)].join(' or ') : 'something else';
  if (value === undefined) return missingKey(context, path);
  return [
    source.diagnostic(
      path,
      `${labelOf(path, source.file)} must be ${wanted}, not ${describeValue(value)}`,
    ),
  ];
}

/** Lower is a likelier intended option; Infinity when the value is of another kind entirely. */
function branchScore(issues: readonly Issue[]): number {
  let score = 0;
  for (const issue of issues) {
    if (issue.path.length === 0 && issue.code === 'invalid_type') return Infinity;
    score += issue.code === 'unrecognized_keys' ? issue.keys.length : 1;
  }
  return score;
}

/**
 * A required key is absent. Said once: when the map has an unknown key that looks like a typo
 * of this one (`tpye`), the unknown-key diagnostic already says "did you mean `type`?".
 */
function missingKey(context: Context, path: YamlPath, oneOf?: string): Diagnostic[] {
  const key = String(path[path.length - 1]);
  const ownerPath = path.slice(0, -1);
  const owner = valueAt(context.data, ownerPath);
  if (typeof owner === 'object' && owner !== null) {
    const allowed = allowedKeysAt(context.schema, ownerPath, context.data);
    const typos = Object.keys(owner).filter((written) => !allowed.includes(written));
    if (typos.some((written) => closestMatch(written, allowed) === key)) return [];
  }
  const where = ownerPath.length > 0 ? ` in ${labelOf(ownerPath, context.source.file)}` : '';
  return [
    context.source.diagnostic(path, `missing required key \`${key}\`${where}`, {
      hint: oneOf === undefined ? `add \`${key}:\`` : `add \`${key}:\` with ${oneOf}`,
    }),
  ];
}

function sizeMessage(
  issue: z.core.$ZodIssueTooSmall | z.core.$ZodIssueTooBig,
  label: string,
): string {
  const small = issue.code === 'too_small';
  const limit = Number(small ? issue.minimum : issue.maximum);
  switch (issue.origin) {
    case 'array':
      return small && limit === 1
        ? `${label} must not be empty`
        : `${label} must have ${small ? 'at least' : 'at most'} ${limit} items`;
    case 'string':
      return small && limit === 1
        ? `${label} must not be empty`
        : `${label} must be ${small ? 'at least' : 'at most'} ${limit} characters long`;
    default: {
      const inclusive = issue.inclusive !== false;
      const bound = small
        ? inclusive
          ? 'at least'
          : 'greater than'
        : inclusive
          ? 'at most'
          : 'less than';
      return `${label} must be ${bound} ${limit}`;
    }
  }
}

/** zod's default messages start like this; anything else was written in our schemas. */
function customMessage(message: string): string | undefined {
  return /^(Invalid|Too (small|big)|Unrecognized|Expected)/.test(message) ? undefined : message;
}

function expectedName(expected: string): string {
  switch (expected) {
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'int':
      return 'an integer';
    case 'boolean':
      return 'true or false';
    case 'object':
    case 'record':
      return 'a map';
    case 'array':
    case 'tuple':
      return 'a list';
    default:
      return expected;
  }
}

/** How a value reads in a message: `a list`, `the string "abc"`, `an empty value`. */
function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'string': {
      const shown = value.length > 40 ? `${value.slice(0, 37)}...` : value;
      return `the string ${JSON.stringify(shown)}`;
    }
    case 'number':
      return `the number ${value}`;
    case 'boolean':
      return `\`${value}\``;
    case 'object':
      return 'a map';
    default:
      return typeof value;
  }
}

/** `\`temperature\``, or `item 2 of \`variants\`` for a list entry; the file for the root. */
function labelOf(path: YamlPath, file: string): string {
  const last = path[path.length - 1];
  if (last === undefined) return file;
  if (typeof last === 'number') {
    const owner = path[path.length - 2];
    return `item ${last + 1}${owner === undefined ? '' : ` of \`${String(owner)}\``}`;
  }
  return `\`${last}\``;
}

function toYamlPath(path: readonly PropertyKey[]): YamlPath {
  return path.map((part) => (typeof part === 'number' ? part : String(part)));
}

function valueAt(data: unknown, path: YamlPath): unknown {
  let current = data;
  for (const part of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string | number, unknown>)[part];
  }
  return current;
}

/**
 * The keys the schema allows for the object at `path`, for "did you mean". Walks the schema
 * alongside the data; where a union has several object options, only those whose literal tags
 * (`kind: module`) agree with the data count.
 */
function allowedKeysAt(schema: Schema, path: YamlPath, data: unknown): string[] {
  let candidates = expand(schema, data);
  let value = data;
  for (const part of path) {
    value = valueAt(value, [part]);
    candidates = candidates.flatMap((candidate) => {
      if (candidate instanceof z.ZodObject) {
        const field: Schema | undefined = candidate.shape[String(part)];
        return field === undefined ? [] : expand(field, value);
      }
      if (candidate instanceof z.ZodRecord) return expand(candidate.valueType, value);
      if (candidate instanceof z.ZodArray) return expand(candidate.element, value);
      return [];
    });
  }
  const keys = candidates.flatMap((candidate) =>
    candidate instanceof z.ZodObject ? Object.keys(candidate.shape) : [],
  );
  return [...new Set(keys)];
}

/** The concrete schemas a value may be checked against: wrappers and unions opened up. */
function expand(schema: Schema, value: unknown): Schema[] {
  if (
    schema instanceof z.ZodOptional ||
    schema instanceof z.ZodNullable ||
    schema instanceof z.ZodDefault
  ) {
    return expand(schema.unwrap(), value);
  }
  if (schema instanceof z.ZodUnion) {
    return schema.options.flatMap((option) => expand(option, value));
  }
  if (schema instanceof z.ZodObject && !literalsAgree(schema, value)) return [];
  return [schema];
}

function literalsAgree(schema: z.ZodObject, value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return true;
  return Object.entries(schema.shape).every(([key, field]) => {
    const actual = (value as Record<string, unknown>)[key];
    if (!(field instanceof z.ZodLiteral) || actual === undefined) return true;
    return [...field.values].some((allowed) => allowed === actual);
  });
}
