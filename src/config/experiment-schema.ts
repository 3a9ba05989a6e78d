import * as z from 'zod';

import {
  ENV_NAME_PATTERN,
  idSchema,
  jsonValueSchema,
  nameSchema,
  pathSchema,
  stageSettingsSchema,
} from './common-schema.js';

/** The shape of experiment.yaml as written (after `${NAME}` interpolation). */

const datasetSchema = z.strictObject({
  path: pathSchema.describe('A .jsonl or .csv file, relative to the project root'),
  key: z.string().min(1).optional().describe('Column whose value identifies a row'),
});

const moduleConnectionSchema = z.strictObject({
  kind: z.literal('module'),
  module: pathSchema.describe(
    'A .ts/.js file whose default export answers OpenAI-style chat requests',
  ),
  model: z.string().min(1).optional().describe('Model name used when no node or stage sets one'),
});

const openaiConnectionSchema = z.strictObject({
  kind: z.literal('openai'),
  base_url: z.string().min(1).optional().describe('Default https://api.openai.com/v1'),
  api_key_env: z
    .string()
    .regex(ENV_NAME_PATTERN, {
      error: 'write the name of the environment variable holding the key, e.g. OPENAI_API_KEY',
    })
    .optional()
    .describe('Name of the environment variable holding the API key; default OPENAI_API_KEY'),
  model: z.string().min(1).optional().describe('Model name used when no node or stage sets one'),
});

const connectionSchema = z.discriminatedUnion('kind', [
  moduleConnectionSchema,
  openaiConnectionSchema,
]);

/** `node.variant`, or just `variant` when the flow has one node with variants. */
const variantUseSchema = z.string().min(1);

const variantSchema = z.union([
  variantUseSchema,
  z.strictObject({
    id: idSchema('variant id'),
    use: z
      .union([variantUseSchema, z.array(variantUseSchema).min(1)])
      .optional()
      .describe('Node variants this variant selects: `node.variant` or `variant`'),
    settings: stageSettingsSchema.optional(),
  }),
]);

const stageSchema = z.strictObject({
  flow: pathSchema.describe('Flow folder, relative to the project root'),
  rows: z
    .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
    .describe('A dataset, a stage, or a list of stages'),
  inputs: z
    .record(z.string(), jsonValueSchema)
    .optional()
    .describe('Flow input ← expression: `${data.col}`, `${stage.outputs.field}` or a literal'),
  variants: z.array(variantSchema).optional(),
  settings: stageSettingsSchema.optional(),
  repeat: z
    .int()
    .min(1)
    .max(1000)
    .optional()
    .describe(
      'Samples per run: each run is built N times (ids `run`, `run#2`, ...), each sample with its own cached calls',
    ),
  on_failed_rows: z
    .enum(['skip', 'fail'])
    .optional()
    .describe(
      'Aggregation when rows failed: `skip` aggregates over the rest and reports how many (default); `fail` fails the run without aggregating',
    ),
});

export const experimentSchema = z
  .strictObject({
    name: z.string().min(1),
    datasets: z.record(nameSchema('dataset'), datasetSchema).optional(),
    connections: z.record(idSchema('connection name'), connectionSchema).optional(),
    defaults: stageSettingsSchema.optional().describe('Settings for every stage'),
    cache: z
      .string()
      .min(1)
      .optional()
      .describe('Cache store URL; default sqlite://cache/kwgraph.sqlite'),
    stages: z.record(nameSchema('stage'), stageSchema),
    compare: z
      .strictObject({
        metric: z.string().min(1).optional().describe('The metric runs are ranked by'),
      })
      .optional(),
  })
  .meta({ title: 'kwgraph experiment.yaml' });

export type RawExperiment = z.infer<typeof experimentSchema>;
export type RawStage = z.infer<typeof stageSchema>;
export type RawVariant = z.infer<typeof variantSchema>;
