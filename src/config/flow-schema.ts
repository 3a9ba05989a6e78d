import * as z from 'zod';

import {
  idSchema,
  jsonValueSchema,
  modelParametersSchema,
  nameSchema,
  pathSchema,
} from './common-schema.js';

/**
 * The shape of flow.yaml (or flow.dag.yaml) as written, in promptflow's layout.
 *
 * A node is one object with every key optional rather than a union per node type: which keys
 * a type needs (`source`, `parameters` only on llm nodes...) is checked in normalisation, which
 * can say "`parameters` applies to llm nodes only" instead of a union's "no option matched".
 */

export const FLOW_INPUT_TYPES = [
  'string',
  'number',
  'boolean',
  'object',
  'list',
  'image',
  'any',
] as const;

export const NODE_TYPES = ['llm', 'prompt', 'code'] as const;

const flowInputSchema = z.strictObject({
  type: z.enum(FLOW_INPUT_TYPES),
  default: jsonValueSchema.optional().describe('Used when a stage does not map the input'),
  description: z.string().optional(),
});

const flowOutputSchema = z.strictObject({
  reference: z.string().min(1).describe('`${node.output}` or `${node.output.field}`'),
  description: z.string().optional(),
});

const sourceSchema = z.strictObject({
  // promptflow writes `type: code` on every source; accepted so its files load unchanged.
  type: z.literal('code').optional(),
  path: pathSchema.describe('Template (llm, prompt) or module (code), relative to the flow folder'),
  function: z
    .string()
    .min(1)
    .optional()
    .describe('Exported function of a code node; default `default`'),
});

const nodeDefinitionShape = {
  type: z.enum(NODE_TYPES).optional(),
  source: sourceSchema.optional(),
  inputs: z.record(z.string(), jsonValueSchema).optional(),
  aggregation: z.boolean().optional().describe('Run once over all rows; the output is metrics'),
  connection: idSchema('connection name').optional().describe('llm nodes: connection name'),
  parameters: modelParametersSchema.optional().describe('llm nodes: model parameters'),
};

/** A node's definition inside `node_variants.<node>.variants.<id>.node`. */
const variantNodeSchema = z.strictObject(nodeDefinitionShape);

const flowNodeSchema = z.strictObject({
  name: nameSchema('node'),
  use_variants: z.boolean().optional().describe('The definition lives under node_variants.<name>'),
  ...nodeDefinitionShape,
});

const nodeVariantsSchema = z.strictObject({
  default_variant_id: idSchema('variant id'),
  variants: z.record(idSchema('variant id'), z.strictObject({ node: variantNodeSchema })),
});

export const flowSchema = z
  .strictObject({
    // promptflow files start with `$schema: https://...`; harmless, so accepted.
    $schema: z.string().optional(),
    inputs: z.record(nameSchema('flow input'), flowInputSchema).optional(),
    outputs: z.record(nameSchema('flow output'), flowOutputSchema).optional(),
    nodes: z.array(flowNodeSchema).min(1, { error: 'a flow needs at least one node' }),
    node_variants: z.record(nameSchema('node'), nodeVariantsSchema).optional(),
  })
  .meta({ title: 'kwgraph flow.yaml' });

export type RawFlow = z.infer<typeof flowSchema>;
export type RawFlowNode = z.infer<typeof flowNodeSchema>;
export type RawNodeDefinition = z.infer<typeof variantNodeSchema>;
