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
  // promptflow's names for numbers and booleans.
  'int',
  'double',
  'bool',
] as const;

// `custom_llm` is promptflow's type for its vision chat tools; it runs as an llm node.
export const NODE_TYPES = ['llm', 'prompt', 'code', 'python', 'custom_llm'] as const;

const flowInputSchema = z.strictObject({
  type: z.enum(FLOW_INPUT_TYPES),
  default: jsonValueSchema.optional().describe('Used when a stage does not map the input'),
  description: z.string().optional(),
  // promptflow's chat and UI hints: accepted so its files load unchanged, and ignored.
  enum: z.array(jsonValueSchema).optional(),
  is_chat_input: z.boolean().optional(),
  is_chat_history: z.boolean().optional(),
});

const flowOutputSchema = z.strictObject({
  reference: z.string().min(1).describe('`${node.output}` or `${node.output.field}`'),
  description: z.string().optional(),
  // promptflow writes these; the type of an output is whatever its node produced.
  type: z.string().optional(),
  is_chat_output: z.boolean().optional(),
  evaluation_only: z.boolean().optional(),
});

const sourceSchema = z.strictObject({
  // promptflow writes `type: code` on every source; accepted so its files load unchanged.
  // `package` (a tool from an installed package) is reported as unsupported.
  type: z.enum(['code', 'package', 'package_with_prompt']).optional(),
  path: pathSchema
    .optional()
    .describe('Template (llm, prompt) or module (code, python), relative to the flow folder'),
  tool: z.string().optional().describe('promptflow package tools; not supported'),
  function: z
    .string()
    .min(1)
    .optional()
    .describe('Function of a code node (default `default`) or python node (default: the @tool)'),
});

const activateSchema = z.strictObject({
  when: z.string().min(1).describe('`${inputs.x}` or `${node.output...}`'),
  is: jsonValueSchema.describe('The node runs only when `when` equals this value'),
});

const nodeDefinitionShape = {
  type: z.enum(NODE_TYPES).optional(),
  source: sourceSchema.optional(),
  inputs: z
    .record(z.string(), jsonValueSchema)
    .optional()
    .describe('On llm nodes, promptflow model parameters (deployment_name, ...) may sit here'),
  aggregation: z.boolean().optional().describe('Run once over all rows; the output is metrics'),
  activate: activateSchema.optional().describe('Run only when a condition holds'),
  connection: idSchema('connection name').optional().describe('llm nodes: connection name'),
  parameters: modelParametersSchema.optional().describe('llm nodes: model parameters'),
  api: z.string().optional().describe('llm nodes: `chat` (promptflow)'),
  // promptflow's provider and tool module of an llm node; the connection decides both here.
  provider: z.string().optional(),
  module: z.string().optional(),
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
    environment_variables: z
      .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
      .optional()
      .describe("Set for the flow's Python tools; `${connection.api_key}` reads a connection"),
    // promptflow's descriptive keys and its container settings: accepted, not used.
    id: z.string().optional(),
    name: z.string().optional(),
    description: z.string().optional(),
    tags: z.record(z.string(), z.string()).optional(),
    language: z.string().optional(),
    environment: z
      .strictObject({
        python_requirements_txt: z.string().optional(),
        image: z.string().optional(),
      })
      .optional(),
    additional_includes: z
      .array(z.string())
      .optional()
      .describe('Files or folders outside the flow folder that its nodes use under their own name'),
  })
  .meta({ title: 'kwgraph flow.yaml' });

export type RawFlow = z.infer<typeof flowSchema>;
export type RawFlowNode = z.infer<typeof flowNodeSchema>;
export type RawNodeDefinition = z.infer<typeof variantNodeSchema>;
