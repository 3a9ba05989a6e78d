import type { RawModelParameters } from './common-schema.js';
import { didYouMean } from './did-you-mean.js';
import { normalizeParameters } from './normalize-settings.js';
import type { JsonValue, ModelParameters } from './types.js';

/**
 * Model parameters written the way promptflow writes them: among an llm node's `inputs`
 * (`deployment_name: gpt-4o`, `temperature: "0.2"`, `max_tokens: 256`) or in a .prompty file's
 * `model.parameters`. promptflow's llm tool takes these names as its own arguments and every
 * other input as a template variable, so they are separated here the same way.
 */

/** A parameter that could not be taken, with the key it was written under. */
export interface ParameterProblem {
  readonly key: string;
  readonly message: string;
  readonly hint: string;
}

export interface SplitInputs {
  readonly parameters: ModelParameters;
  /** The inputs that are template variables. */
  readonly variables: { readonly [name: string]: JsonValue };
  readonly problems: readonly ParameterProblem[];
}

type Reader = (value: JsonValue) => { value: unknown } | { problem: string } | undefined;

/** promptflow's llm tool arguments that kwgraph sends, and how each is read. */
const SENT: Readonly<Record<string, { key: keyof ModelParameters; read: Reader }>> = {
  deployment_name: { key: 'model', read: text },
  model: { key: 'model', read: text },
  temperature: { key: 'temperature', read: numberIn(0, 2) },
  top_p: { key: 'top_p', read: numberIn(0, 1) },
  max_tokens: { key: 'max_tokens', read: positiveInteger },
  seed: { key: 'seed', read: integer },
  stop: { key: 'stop', read: stopList },
  response_format: { key: 'response_format', read: responseFormat },
  presence_penalty: { key: 'presence_penalty', read: numberIn(-2, 2) },
  frequency_penalty: { key: 'frequency_penalty', read: numberIn(-2, 2) },
  detail: { key: 'detail', read: oneOf(['low', 'high', 'auto']) },
};

/**
 * promptflow's llm tool arguments kwgraph does not send: accepted at the value promptflow's
 * own default gives them (which is what its UI writes), refused otherwise.
 */
const AT_DEFAULT_ONLY: Readonly<Record<string, (value: JsonValue) => boolean>> = {
  n: (value) => Number(value) === 1,
  stream: (value) => value === false || value === 'false',
  logit_bias: isEmpty,
  user: isEmpty,
  function_call: isEmpty,
  functions: isEmpty,
  tools: isEmpty,
  tool_choice: isEmpty,
};

/** True when `name` is one of promptflow's llm tool arguments rather than a template variable. */
export function isLlmParameterName(name: string): boolean {
  return Object.hasOwn(SENT, name) || Object.hasOwn(AT_DEFAULT_ONLY, name);
}

/** Separates an llm node's inputs into model parameters and template variables. */
export function splitLlmInputs(inputs: { readonly [name: string]: JsonValue }): SplitInputs {
  const variables: Record<string, JsonValue> = {};
  const parameterValues: Record<string, JsonValue> = {};
  for (const [name, value] of Object.entries(inputs)) {
    if (isLlmParameterName(name)) parameterValues[name] = value;
    else variables[name] = value;
  }
  const { parameters, problems } = readModelParameters(parameterValues);
  return { parameters, variables, problems };
}

/**
 * Reads promptflow-style parameters (`deployment_name`, numbers as text, `response_format` as
 * `{type: json_object}`). Unknown names are problems: the caller only passes parameter names, or
 * a block (`model.parameters` of a .prompty) where nothing else belongs.
 */
export function readModelParameters(values: { readonly [name: string]: JsonValue }): {
  parameters: ModelParameters;
  problems: ParameterProblem[];
} {
  const problems: ParameterProblem[] = [];
  const read: Record<string, unknown> = {};

  for (const [name, value] of Object.entries(values)) {
    if (typeof value === 'string' && value.includes('${')) {
      problems.push({
        key: name,
        message: `model parameter \`${name}\` cannot be read from a reference (\`${value}\`)`,
        hint: "write a value, or set it per stage or variant in experiment.yaml's settings",
      });
      continue;
    }

    const sent = SENT[name];
    if (sent !== undefined) {
      const result = value === null || value === '' ? undefined : sent.read(value);
      if (result === undefined) continue;
      if ('problem' in result) {
        problems.push({
          key: name,
          message: `model parameter \`${name}\` ${result.problem}, not ${JSON.stringify(value)}`,
          hint: `fix the value of \`${name}\``,
        });
        continue;
      }
      if (read[sent.key] !== undefined && read[sent.key] !== result.value) {
        problems.push({
          key: name,
          message: `\`${name}\` names a second, different model`,
          hint: 'write either deployment_name or model',
        });
        continue;
      }
      read[sent.key] = result.value;
      continue;
    }

    const atDefault = AT_DEFAULT_ONLY[name];
    if (atDefault !== undefined) {
      if (value === null || atDefault(value)) continue;
      problems.push({
        key: name,
        message: `model parameter \`${name}\` is not supported with value ${JSON.stringify(value)}`,
        hint: `remove it: kwgraph sends one chat request per node and reads its text answer`,
      });
      continue;
    }

    problems.push({
      key: name,
      message: `unknown model parameter \`${name}\`${didYouMean(name, Object.keys(SENT))}`,
      hint: `model parameters: ${Object.keys(SENT).join(', ')}`,
    });
  }

  // Every value was checked above, one reader per key.
  return { parameters: normalizeParameters(read as RawModelParameters), problems };
}

function text(value: JsonValue) {
  return typeof value === 'string' ? { value } : { problem: 'must be text' };
}

/** promptflow's UI writes numbers as text (`"0.2"`); both forms are read. */
function asNumber(value: JsonValue): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) {
    return Number(value);
  }
  return undefined;
}

function numberIn(min: number, max: number): Reader {
  return (value) => {
    const number = asNumber(value);
    return number !== undefined && number >= min && number <= max
      ? { value: number }
      : { problem: `must be a number from ${min} to ${max}` };
  };
}

function integer(value: JsonValue) {
  const number = asNumber(value);
  return number !== undefined && Number.isInteger(number)
    ? { value: number }
    : { problem: 'must be a whole number' };
}

function positiveInteger(value: JsonValue) {
  const number = asNumber(value);
  return number !== undefined && Number.isInteger(number) && number > 0
    ? { value: number }
    : { problem: 'must be a whole number above 0' };
}

function stopList(value: JsonValue) {
  if (typeof value === 'string') return { value: [value] };
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) {
    return value.length === 0 ? undefined : { value };
  }
  return { problem: 'must be text or a list of texts' };
}

function responseFormat(value: JsonValue) {
  const type = isRecord(value) ? value['type'] : value;
  return type === 'text' || type === 'json_object'
    ? { value: type }
    : { problem: 'must be `text` or `json_object` (or `{type: json_object}`)' };
}

function oneOf(allowed: readonly string[]): Reader {
  return (value) =>
    typeof value === 'string' && allowed.includes(value)
      ? { value }
      : { problem: `must be one of ${allowed.join(', ')}` };
}

function isRecord(value: JsonValue): value is { readonly [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isEmpty(value: JsonValue): boolean {
  if (value === '' || value === null) return true;
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === 'object' && Object.keys(value).length === 0;
}
