import path from 'node:path';

import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { assertNever } from '../util/result.js';
import { closestMatch, didYouMean } from './did-you-mean.js';
import type { RawFlow, RawFlowNode, RawNodeDefinition } from './flow-schema.js';
import { isLlmParameterName, splitLlmInputs } from './llm-parameters.js';
import { compact, normalizeParameters } from './normalize-settings.js';
import type { PromptyDefinition } from './prompty-file.js';
import type {
  FlowConfig,
  FlowInput,
  FlowNode,
  FlowOutput,
  JsonValue,
  NodeVariants,
} from './types.js';
import type { YamlPath, YamlSource } from './yaml-source.js';

/** A flow as loaded: its resolved config and what later checks need to point into its file. */
export interface LoadedFlow {
  readonly config: FlowConfig;
  readonly source: YamlSource;
  /** Where each node definition (a `nodes` item or a variant's `node`) sits in the file. */
  readonly nodePaths: ReadonlyMap<FlowNode, YamlPath>;
  /**
   * Every node name the file declares, including nodes whose definition was invalid: a
   * reference to one of those is not also reported as unknown.
   */
  readonly nodeNames: readonly string[];
}

/** Keys that define a node; on a node with `use_variants` they belong to its variants. */
const DEFINITION_KEYS = [
  'type',
  'source',
  'inputs',
  'aggregation',
  'activate',
  'connection',
  'parameters',
  'api',
  'provider',
  'module',
] as const;

/**
 * Turns a schema-valid flow file into a FlowConfig and reports what the schema cannot express:
 * which keys each node type needs or forbids, duplicate and reserved node names, and the
 * pairing of `use_variants` nodes with `node_variants` entries.
 *
 * A node that uses variants appears in `nodes` with its default variant's definition (the very
 * same object as in `nodeVariants`), so code that ignores variants sees a complete flow.
 */
export function normalizeFlow(
  raw: RawFlow,
  source: YamlSource,
  dir: string,
  prompties: ReadonlyMap<string, PromptyDefinition> = new Map(),
  includes: readonly string[] = [],
): { flow: LoadedFlow; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const nodePaths = new Map<FlowNode, YamlPath>();
  const define = (name: string, definition: RawNodeDefinition, at: YamlPath, inList: boolean) => {
    const node = nodeFromDefinition(name, definition, at, inList, source, prompties, diagnostics);
    if (node !== undefined) nodePaths.set(node, at);
    return node;
  };

  const inputs = normalizeInputs(raw, source, diagnostics);
  const outputs: Record<string, FlowOutput> = {};
  for (const [name, output] of Object.entries(raw.outputs ?? {})) {
    const position = source.locate(['outputs', name], { key: true }).position;
    outputs[name] = { name, reference: output.reference, position };
  }

  checkNodeNames(raw.nodes, source, diagnostics);

  const nodes: FlowNode[] = [];
  const nodeVariants: Record<string, NodeVariants> = {};
  raw.nodes.forEach((rawNode, index) => {
    const at: YamlPath = ['nodes', index];
    if (rawNode.use_variants !== true) {
      const node = define(rawNode.name, rawNode, at, true);
      if (node !== undefined) nodes.push(node);
      return;
    }

    for (const key of DEFINITION_KEYS) {
      if (rawNode[key] === undefined) continue;
      diagnostics.push(
        source.diagnostic(
          [...at, key],
          `node \`${rawNode.name}\` uses variants, so \`${key}\` belongs to each variant`,
          {
            key: true,
            hint: `move it under node_variants.${rawNode.name}.variants.<id>.node`,
          },
        ),
      );
    }

    const entry = raw.node_variants?.[rawNode.name];
    if (entry === undefined) {
      // An entry `describ:` that names no node is reported as a typo of this one; saying it
      // twice helps no one.
      const strayEntries = Object.keys(raw.node_variants ?? {}).filter(
        (name) => !raw.nodes.some((node) => node.name === name),
      );
      if (closestMatch(rawNode.name, strayEntries) !== undefined) return;
      diagnostics.push(
        source.diagnostic(
          [...at, 'use_variants'],
          `node \`${rawNode.name}\` uses variants, ` +
            `but node_variants has no entry \`${rawNode.name}\``,
          {
            key: true,
            hint: `add node_variants.${rawNode.name} with default_variant_id and variants`,
          },
        ),
      );
      return;
    }

    const variants: Record<string, FlowNode> = {};
    for (const [id, variant] of Object.entries(entry.variants)) {
      const variantPath = ['node_variants', rawNode.name, 'variants', id, 'node'];
      const node = define(rawNode.name, variant.node, variantPath, false);
      if (node !== undefined) variants[id] = node;
    }

    const ids = Object.keys(entry.variants);
    if (!ids.includes(entry.default_variant_id)) {
      diagnostics.push(
        source.diagnostic(
          ['node_variants', rawNode.name, 'default_variant_id'],
          `default variant \`${entry.default_variant_id}\` is not a variant of node ` +
            `\`${rawNode.name}\`${didYouMean(entry.default_variant_id, ids)}`,
          { hint: `variants of \`${rawNode.name}\`: ${ids.join(', ')}` },
        ),
      );
    }
    nodeVariants[rawNode.name] = {
      node: rawNode.name,
      defaultVariant: entry.default_variant_id,
      variants,
    };
    const chosen = variants[entry.default_variant_id] ?? Object.values(variants)[0];
    if (chosen !== undefined) nodes.push(chosen);
  });

  checkVariantEntries(raw, source, diagnostics);

  const environmentVariables = Object.fromEntries(
    Object.entries(raw.environment_variables ?? {}).map(([name, value]) => [name, String(value)]),
  );
  const config: FlowConfig = compact({
    dir,
    file: source.file,
    inputs,
    outputs,
    nodes,
    nodeVariants,
    includes: includes.length > 0 ? includes : undefined,
    environmentVariables:
      Object.keys(environmentVariables).length > 0 ? environmentVariables : undefined,
  });
  const nodeNames = raw.nodes.map((node) => node.name);
  return { flow: { config, source, nodePaths, nodeNames }, diagnostics };
}

function normalizeInputs(
  raw: RawFlow,
  source: YamlSource,
  diagnostics: Diagnostic[],
): Record<string, FlowInput> {
  const inputs: Record<string, FlowInput> = {};
  for (const [name, input] of Object.entries(raw.inputs ?? {})) {
    const position = source.locate(['inputs', name], { key: true }).position;
    if (input.default !== undefined && !matchesInputType(input.type, input.default)) {
      diagnostics.push(
        source.diagnostic(
          ['inputs', name, 'default'],
          `the default of input \`${name}\` does not match its type \`${input.type}\``,
        ),
      );
    }
    inputs[name] = compact({ name, type: input.type, default: input.default, position });
  }
  return inputs;
}

function matchesInputType(type: FlowInput['type'], value: JsonValue): boolean {
  if (value === null) return true;
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number';
    case 'boolean':
      return typeof value === 'boolean';
    case 'list':
      return Array.isArray(value);
    case 'object':
      return typeof value === 'object' && !Array.isArray(value);
    case 'image':
      return typeof value === 'string' || (typeof value === 'object' && !Array.isArray(value));
    // promptflow converts text to these types when a row arrives; a default may be text too.
    case 'int':
      return Number.isInteger(
        typeof value === 'string' && value.trim() !== '' ? Number(value) : value,
      );
    case 'double':
      return (
        typeof value === 'number' ||
        (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
      );
    case 'bool':
      return typeof value === 'boolean' || value === 'true' || value === 'false';
    case 'any':
      return true;
    default:
      return assertNever(type, 'input type');
  }
}

function checkNodeNames(
  nodes: readonly RawFlowNode[],
  source: YamlSource,
  diagnostics: Diagnostic[],
): void {
  const firstLine = new Map<string, number>();
  nodes.forEach((node, index) => {
    const at = ['nodes', index, 'name'];
    if (node.name === 'inputs') {
      diagnostics.push(
        source.diagnostic(at, '`inputs` cannot name a node: `${inputs.x}` reads the flow inputs', {
          hint: 'rename the node',
        }),
      );
    }
    const line = source.locate(at).position.line;
    const first = firstLine.get(node.name);
    if (first !== undefined) {
      diagnostics.push(
        source.diagnostic(at, `duplicate node name \`${node.name}\` (first on line ${first})`, {
          hint: 'node names must be unique within a flow',
        }),
      );
    } else {
      firstLine.set(node.name, line);
    }
  });
}

/** `node_variants` entries must belong to a node that says `use_variants: true`. */
function checkVariantEntries(raw: RawFlow, source: YamlSource, diagnostics: Diagnostic[]): void {
  const names = raw.nodes.map((node) => node.name);
  for (const name of Object.keys(raw.node_variants ?? {})) {
    const node = raw.nodes.find((candidate) => candidate.name === name);
    if (node === undefined) {
      diagnostics.push(
        source.diagnostic(
          ['node_variants', name],
          `node_variants names \`${name}\`, which is not a node${didYouMean(name, names)}`,
          { key: true, hint: `nodes: ${names.join(', ')}` },
        ),
      );
    } else if (node.use_variants !== true) {
      diagnostics.push(
        source.diagnostic(
          ['node_variants', name],
          `node \`${name}\` has variants but does not set \`use_variants: true\``,
          { key: true, hint: `write the node as \`- name: ${name}\` and \`use_variants: true\`` },
        ),
      );
    }
  }
}

/**
 * One node definition, or undefined (with diagnostics) when it lacks what its type needs.
 * `inList` tells whether it is a `nodes` item (which may instead use variants) for the hint.
 */
function nodeFromDefinition(
  name: string,
  raw: RawNodeDefinition,
  at: YamlPath,
  inList: boolean,
  source: YamlSource,
  prompties: ReadonlyMap<string, PromptyDefinition>,
  diagnostics: Diagnostic[],
): FlowNode | undefined {
  const position = source.locate(at).position;
  const onlyFor = (keyPath: YamlPath, kind: 'llm' | 'code' | 'code and python') =>
    diagnostics.push(
      source.diagnostic(
        [...at, ...keyPath],
        `\`${keyPath.join('.')}\` applies to ${kind} nodes only`,
        {
          key: true,
          hint:
            kind === 'llm'
              ? `remove it, or make \`${name}\` an llm node`
              : `remove it, or make \`${name}\` a ${kind === 'code' ? 'code' : 'python'} node`,
        },
      ),
    );

  if (raw.type === undefined) {
    diagnostics.push(
      source.diagnostic([...at, 'type'], `node \`${name}\` has no \`type\``, {
        hint: inList
          ? 'set `type: llm`, `prompt`, `python` or `code`, or `use_variants: true` with node_variants'
          : 'set `type: llm`, `prompt`, `python` or `code`',
      }),
    );
    return undefined;
  }
  // promptflow's vision chat tools are `custom_llm` nodes whose package tool renders a template
  // (`source: { type: package_with_prompt, tool: ..., path: chat.jinja2 }`): an llm node here.
  const withPrompt =
    raw.type === 'custom_llm' &&
    raw.source?.type === 'package_with_prompt' &&
    raw.source.path !== undefined;
  const type = raw.type === 'custom_llm' ? 'llm' : raw.type;
  if (type !== 'llm') {
    // `provider` and `module` are promptflow's bookkeeping of which tool runs a node: ignored.
    for (const key of ['parameters', 'connection', 'api'] as const) {
      if (raw[key] !== undefined) onlyFor([key], 'llm');
    }
  }
  if (type !== 'code' && type !== 'python' && raw.source?.function !== undefined) {
    onlyFor(['source', 'function'], 'code and python');
  }
  if (
    !withPrompt &&
    (raw.source?.type === 'package' ||
      raw.source?.type === 'package_with_prompt' ||
      raw.source?.tool !== undefined)
  ) {
    const tool = raw.source.tool === undefined ? 'a package tool' : `\`${raw.source.tool}\``;
    diagnostics.push(
      source.diagnostic(
        [...at, 'source'],
        `node \`${name}\` runs ${tool}, which kwgraph cannot run`,
        {
          hint:
            'kwgraph runs only the code in the flow folder: write the tool as a @tool function in ' +
            'a .py file there and set `source: { type: code, path: that.py }`',
        },
      ),
    );
    return undefined;
  }
  if (raw.source?.path === undefined) {
    const what = {
      code: 'a .ts or .js module',
      python: 'a .py file',
      llm: 'a template (.jinja2 or .prompty)',
      prompt: 'a template',
    }[type];
    diagnostics.push(
      source.diagnostic([...at, 'source'], `node \`${name}\` has no \`source\``, {
        hint: `add \`source: { path: ... }\` naming ${what} in the flow folder`,
      }),
    );
    return undefined;
  }
  if (type === 'llm' && raw.api !== undefined && raw.api !== 'chat') {
    diagnostics.push(
      source.diagnostic([...at, 'api'], `llm api \`${raw.api}\` is not supported`, {
        hint: 'kwgraph sends chat requests: write `api: chat` and give the template role lines',
      }),
    );
  }

  const base = compact({
    name,
    inputs: raw.inputs ?? {},
    aggregation: raw.aggregation ?? false,
    activate: raw.activate && { when: raw.activate.when, is: raw.activate.is },
    position,
  });
  // Relative to the flow folder as written, tidied (`./a.jinja2` → `a.jinja2`); whether it
  // exists and stays inside the project is checked with the other files.
  const file = path.posix.normalize(raw.source.path);
  switch (type) {
    case 'llm':
      return llmNode(name, raw, at, file, base, source, prompties.get(file), diagnostics);
    case 'prompt':
      return { ...base, type: 'prompt', template: file };
    case 'code':
      return { ...base, type: 'code', module: file, function: raw.source.function ?? 'default' };
    case 'python':
      return compact({
        ...base,
        type: 'python' as const,
        module: file,
        function: raw.source.function,
      });
    default:
      return assertNever(type, 'node type');
  }
}

/**
 * An llm node. Model parameters come from, lowest first: the .prompty file's front matter,
 * promptflow-style parameters among the node's `inputs` (in a flow.dag.yaml), and kwgraph's
 * `parameters` block. The remaining inputs are the template's variables, on top of the .prompty
 * file's input defaults.
 */
function llmNode(
  name: string,
  raw: RawNodeDefinition,
  at: YamlPath,
  template: string,
  base: Omit<Extract<FlowNode, { type: 'llm' }>, 'type' | 'template' | 'parameters'>,
  source: YamlSource,
  prompty: PromptyDefinition | undefined,
  diagnostics: Diagnostic[],
): FlowNode {
  // promptflow's llm tool takes its parameters among the inputs; kwgraph's own flow.yaml keeps
  // them under `parameters`, so that any name can be a template variable there.
  const promptflowFile = isPromptflowFile(source.file);
  const split = promptflowFile
    ? splitLlmInputs(raw.inputs ?? {})
    : { parameters: {}, variables: raw.inputs ?? {}, problems: [] };
  // promptflow's llm tools take their connection as an argument too (`connection: my_aoai`).
  const { connection: connectionInput, ...variables } = split.variables;
  const inputConnection =
    promptflowFile && typeof connectionInput === 'string' && !connectionInput.includes('${')
      ? connectionInput
      : undefined;
  for (const problem of split.problems) {
    diagnostics.push(
      source.diagnostic([...at, 'inputs', problem.key], problem.message, {
        key: true,
        hint: problem.hint,
      }),
    );
  }
  const written = normalizeParameters(raw.parameters ?? {});
  for (const key of Object.keys(written)) {
    const twice = Object.keys(raw.inputs ?? {}).find(
      (input) =>
        isLlmParameterName(input) &&
        (input === key || (key === 'model' && input === 'deployment_name')),
    );
    if (twice === undefined) continue;
    diagnostics.push(
      source.diagnostic([...at, 'inputs', twice], `\`${twice}\` is also set under \`parameters\``, {
        key: true,
        hint: 'set each model parameter once',
      }),
    );
  }

  return compact({
    ...base,
    inputs: {
      ...prompty?.inputDefaults,
      ...(inputConnection === undefined ? split.variables : variables),
    },
    type: 'llm' as const,
    template,
    connection: raw.connection ?? inputConnection ?? prompty?.connection,
    parameters: { ...prompty?.parameters, ...split.parameters, ...written },
  });
}

/** A flow file written by (or for) promptflow, whose llm nodes follow promptflow's rules. */
function isPromptflowFile(file: string): boolean {
  return path.posix.basename(file) === 'flow.dag.yaml';
}
