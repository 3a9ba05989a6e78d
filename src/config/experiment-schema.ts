import * as z from 'zod';

import {
  API_KEY_ENV_PATTERN,
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

/** `api_key_env`: a variable's name, or `none` for a server that takes no key. */
const apiKeyEnvSchema = z.string().regex(API_KEY_ENV_PATTERN, {
  error:
    'write the name of the environment variable holding the key, e.g. OPENAI_API_KEY ' +
    '(or `none` for a server that needs no key)',
});

const limitsSchema = z
  .strictObject({
    concurrency: z
      .int()
      .positive()
      .optional()
      .describe('Requests in flight at once on one endpoint (default 16)'),
    requests_per_minute: z.number().positive().optional(),
    tokens_per_minute: z.number().positive().optional(),
  })
  .describe('Limits of each endpoint; a 429 answer lowers them for a while');

const priceSchema = z
  .strictObject({
    input: z.number().min(0).describe('USD per 1M prompt tokens'),
    output: z.number().min(0).describe('USD per 1M completion tokens'),
  })
  .describe('Prices in USD per 1M tokens');

const pricingSchema = z
  .union([priceSchema, z.record(z.string().min(1), priceSchema)])
  .describe('`{ input, output }` for every model, or a price per model name');

/** Options of the `openai` and `azure_openai` kinds besides where their endpoints are. */
const remoteShape = {
  model: z.string().min(1).optional().describe('Model name used when no node or stage sets one'),
  model_aliases: z
    .record(z.string().min(1), z.string().min(1))
    .optional()
    .describe('Model a node names → model this connection sends (e.g. for a local server)'),
  timeout_seconds: z.number().positive().optional().describe('Per request; default 120'),
  max_retries: z
    .int()
    .min(0)
    .optional()
    .describe('Retries of a call after a 429, 5xx, timeout or dropped connection; default 6'),
  backoff_seconds: z
    .number()
    .positive()
    .optional()
    .describe('First wait before a retry (doubled each time, with jitter); default 1'),
  balance: z
    .enum(['least_busy', 'round_robin'])
    .optional()
    .describe('How calls are spread over the endpoints; default least_busy'),
  limits: limitsSchema.optional(),
  pricing: pricingSchema.optional(),
};

const openaiEndpointShape = {
  base_url: z.string().min(1).optional().describe('Default https://api.openai.com/v1'),
  api_key_env: apiKeyEnvSchema
    .optional()
    .describe('Environment variable holding the API key; default OPENAI_API_KEY'),
};

const azureEndpointShape = {
  endpoint: z
    .string()
    .min(1)
    .optional()
    .describe('The resource URL, e.g. https://my-resource.openai.azure.com'),
  deployment: z
    .string()
    .min(1)
    .optional()
    .describe("The deployment's name; without one, the request's model names it"),
  api_version: z.string().min(1).optional().describe('e.g. 2024-10-21'),
  api_key_env: apiKeyEnvSchema
    .optional()
    .describe('Environment variable holding the API key; default AZURE_OPENAI_API_KEY'),
};

const endpointCommon = {
  name: idSchema('endpoint name').optional().describe('Shown in accounting; default the host'),
  limits: limitsSchema.optional(),
};

const openaiConnectionSchema = z.strictObject({
  kind: z.literal('openai'),
  ...openaiEndpointShape,
  ...remoteShape,
  endpoints: z
    .array(z.strictObject({ ...endpointCommon, ...openaiEndpointShape }))
    .min(1)
    .optional()
    .describe('Several endpoints; each entry overrides the values above'),
});

const azureConnectionSchema = z.strictObject({
  kind: z.literal('azure_openai'),
  ...azureEndpointShape,
  ...remoteShape,
  endpoints: z
    .array(z.strictObject({ ...endpointCommon, ...azureEndpointShape }))
    .min(1)
    .optional()
    .describe('Several endpoints (e.g. regional deployments); each overrides the values above'),
});

const connectionSchema = z.discriminatedUnion('kind', [
  moduleConnectionSchema,
  openaiConnectionSchema,
  azureConnectionSchema,
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
  column_mapping: z
    .record(z.string(), jsonValueSchema)
    .optional()
    .describe("promptflow's name for `inputs`; `${run.outputs.x}` reads the one upstream stage"),
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
      .describe(
        'Cache store URL: sqlite://<file> (default sqlite://cache/kwgraph.sqlite), or a shared redis://… or postgres://… store behind the local file; KWGRAPH_CACHE overrides it',
      ),
    stages: z.record(nameSchema('stage'), stageSchema),
    python: z
      .string()
      .min(1)
      .optional()
      .describe('Python interpreter for python nodes (KWGRAPH_PYTHON overrides it)'),
    compare: z
      .strictObject({
        metric: z.string().min(1).optional().describe('The metric runs are ranked by'),
        higher_is_better: z
          .boolean()
          .optional()
          .describe('False when a lower value of the metric is better; default true'),
      })
      .optional(),
  })
  .meta({ title: 'kwgraph experiment.yaml' });

export type RawExperiment = z.infer<typeof experimentSchema>;
export type RawConnection = z.infer<typeof connectionSchema>;
export type RawStage = z.infer<typeof stageSchema>;
export type RawVariant = z.infer<typeof variantSchema>;
