import * as z from 'zod';

import type { JsonValue } from './types.js';

/**
 * Schema pieces shared by experiment.yaml and flow.yaml. The schemas only validate (no
 * transforms), so the same definitions export cleanly to JSON Schema for editors; turning the
 * validated data into the types of types.ts is normalisation's job.
 */

/**
 * Names that appear inside references (`${describe.outputs.x}`, `${inputs.image}`,
 * `${node.output}`) and in run ids, so they must not contain `.`, `@`, `~`, `$` or spaces.
 */
export const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Variant ids and connection names are never dotted into; `-` is allowed for readability. */
export const ID_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/;

/** The names `${NAME}` interpolation accepts. */
export const ENV_NAME_PATTERN = /^[A-Z_][A-Z0-9_]*$/;

/** `api_key_env`: an environment variable's name, or `none` for a server that takes no key. */
export const API_KEY_ENV_PATTERN = /^(?:[A-Z_][A-Z0-9_]*|none)$/;

export function nameSchema(what: string) {
  return z.string().regex(NAME_PATTERN, {
    error: (issue) =>
      `invalid ${what} name \`${String(issue.input)}\`: ` +
      'use letters, digits and _, not starting with a digit',
  });
}

export function idSchema(what: string) {
  return z.string().regex(ID_PATTERN, {
    error: (issue) => `invalid ${what} \`${String(issue.input)}\`: use letters, digits, _ and -`,
  });
}

/** A path written in a config file; checked against the project root after validation. */
export const pathSchema = z.string().min(1, { error: 'a path must not be empty' });

/**
 * Any JSON value: flow input defaults, stage input expressions, node inputs. Written out rather
 * than `z.json()` so the JSON Schema gets one clean `JsonValue` definition.
 */
export const jsonValueSchema: z.ZodType<JsonValue> = z
  .lazy(() =>
    z.union([
      z.string(),
      z.number(),
      z.boolean(),
      z.null(),
      z.array(jsonValueSchema),
      z.record(z.string(), jsonValueSchema),
    ]),
  )
  .meta({ id: 'JsonValue' });

/** Model parameters, as written on an llm node (`parameters`) or in any settings block. */
export const modelParametersShape = {
  model: z.string().min(1).optional().describe('Model name sent to the connection'),
  temperature: z.number().min(0).max(2).optional(),
  top_p: z.number().min(0).max(1).optional(),
  max_tokens: z.int().positive().optional(),
  seed: z.int().optional(),
  stop: z
    .union([z.string(), z.array(z.string())])
    .optional()
    .describe('One stop sequence or a list of them'),
  response_format: z.enum(['text', 'json_object']).optional(),
  detail: z
    .enum(['low', 'high', 'auto'])
    .optional()
    .describe('Image detail for image parts of a message'),
  presence_penalty: z.number().min(-2).max(2).optional(),
  frequency_penalty: z.number().min(-2).max(2).optional(),
};

export const modelParametersSchema = z.strictObject(modelParametersShape);

/** `defaults`, a stage's `settings` and a variant's `settings`; later ones win. */
export const stageSettingsSchema = z.strictObject({
  connection: idSchema('connection name')
    .optional()
    .describe('Name of a connection under `connections`'),
  concurrency: z.int().positive().optional().describe('Rows of one run executed at once'),
  ...modelParametersShape,
});

export type RawModelParameters = z.infer<typeof modelParametersSchema>;
export type RawStageSettings = z.infer<typeof stageSettingsSchema>;
