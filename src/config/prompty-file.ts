import * as z from 'zod';

import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { splitPrompty } from '../templates/prompty-sections.js';
import { jsonValueSchema } from './common-schema.js';
import { readModelParameters } from './llm-parameters.js';
import { validateSource } from './schema-diagnostics.js';
import type { JsonValue, ModelParameters } from './types.js';
import { YamlSource } from './yaml-source.js';

/** What a .prompty file's front matter contributes to the llm node that uses it. */
export interface PromptyDefinition {
  /** `model.parameters` and the deployment or model name of `model.configuration`. */
  readonly parameters: ModelParameters;
  /** Defaults of `inputs`: template variables the node may leave unset. */
  readonly inputDefaults: { readonly [name: string]: JsonValue };
  /** promptflow's `model.configuration.connection`. */
  readonly connection?: string;
}

/**
 * The front matter as the Prompty format writes it. Loose objects: the format has many
 * descriptive keys (name, authors, sample, ...) that do not change what is sent.
 */
const frontMatterSchema = z.looseObject({
  model: z
    .looseObject({
      api: z.string().optional(),
      configuration: z.record(z.string(), jsonValueSchema).optional(),
      parameters: z.record(z.string(), jsonValueSchema).optional(),
      response: z.string().optional(),
    })
    .optional(),
  inputs: z.record(z.string(), jsonValueSchema).optional(),
  template: z.union([z.string(), z.looseObject({ format: z.string().optional() })]).optional(),
});

/**
 * Reads a .prompty file's front matter. `file` is relative to the project root: diagnostics
 * point into the file at the line of the problem. `${env:NAME}` in the model configuration is
 * read from `env`, as Prompty does.
 *
 * NOTE: the configuration's endpoint settings (azure_endpoint, api_key, base_url) are not
 * used: the experiment's connection decides where the request goes.
 */
export function readPromptyFile(
  file: string,
  text: string,
  env: Readonly<Record<string, string | undefined>>,
): { definition: PromptyDefinition | undefined; diagnostics: Diagnostic[] } {
  const { frontMatter } = splitPrompty(text);
  if (frontMatter === undefined) {
    return { definition: { parameters: {}, inputDefaults: {} }, diagnostics: [] };
  }

  // One blank line stands for the opening `---`, so positions are the file's own.
  const parsed = YamlSource.parse(file, `\n${frontMatter}`);
  if (!parsed.ok) return { definition: undefined, diagnostics: parsed.error };
  const source = parsed.value;
  const data = source.toData() ?? {};
  const validated = validateSource(source, frontMatterSchema, data);
  if (validated.value === undefined) {
    return { definition: undefined, diagnostics: validated.diagnostics };
  }

  const diagnostics = [...validated.diagnostics];
  const { model = {}, inputs = {}, template } = validated.value;

  if (model.api !== undefined && model.api !== 'chat') {
    diagnostics.push(
      source.diagnostic(['model', 'api'], `model api \`${model.api}\` is not supported`, {
        hint: 'kwgraph sends chat requests: write `api: chat`',
      }),
    );
  }
  if (model.response !== undefined && model.response !== 'first') {
    diagnostics.push(
      source.diagnostic(['model', 'response'], `\`response: ${model.response}\` is not supported`, {
        hint: "the node's output is the text of the first choice: remove it or write `first`",
      }),
    );
  }
  const format = typeof template === 'string' ? template : template?.format;
  if (format !== undefined && format !== 'jinja2') {
    diagnostics.push(
      source.diagnostic(['template'], `template format \`${format}\` is not supported`, {
        hint: 'kwgraph renders .prompty bodies as Jinja: write `template: jinja2`',
      }),
    );
  }

  const read = readModelParameters(model.parameters ?? {});
  for (const problem of read.problems) {
    diagnostics.push(
      source.diagnostic(['model', 'parameters', problem.key], problem.message, {
        key: true,
        hint: problem.hint,
      }),
    );
  }

  const configuration = model.configuration ?? {};
  const fromEnv = (key: string): string | undefined => {
    const value = configuration[key];
    if (typeof value !== 'string') return undefined;
    const reference = /^\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(value.trim());
    if (reference === null) return value;
    const name = reference[1] ?? '';
    const found = env[name];
    if (found === undefined || found === '') {
      diagnostics.push(
        source.diagnostic(
          ['model', 'configuration', key],
          `environment variable ${name} is not set`,
          {
            within: value,
            hint: `export ${name}=… or put it in .env`,
          },
        ),
      );
    }
    return found;
  };
  const model_name = fromEnv('azure_deployment') ?? fromEnv('model');
  const connection = fromEnv('connection');

  const inputDefaults: Record<string, JsonValue> = {};
  for (const [name, declaration] of Object.entries(inputs)) {
    // `name: {type, default}` or, in short, `name: default`.
    if (declaration !== null && typeof declaration === 'object' && !Array.isArray(declaration)) {
      if ('default' in declaration && declaration['default'] !== undefined) {
        inputDefaults[name] = declaration['default'];
      }
    } else {
      inputDefaults[name] = declaration;
    }
  }

  const parameters: ModelParameters = {
    ...read.parameters,
    ...(model_name === undefined || read.parameters.model !== undefined
      ? {}
      : { model: model_name }),
  };
  const definition: PromptyDefinition = {
    parameters,
    inputDefaults,
    ...(connection === undefined ? {} : { connection }),
  };
  return { definition, diagnostics };
}
