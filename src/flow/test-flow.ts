import { CheckedStore } from '../cache/checked-store.js';
import type { CachedCall } from '../cache/call-cache.js';
import Keyv from 'keyv';

import { CallCache } from '../cache/call-cache.js';
import { DEFAULT_CACHE_URL, openCacheStores } from '../cache/open-store.js';
import { didYouMean } from '../config/did-you-mean.js';
import type { ExperimentConfig, FlowConfig } from '../config/types.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { ChatModel } from '../models/chat-model.js';
import { createChatModel } from '../models/create-chat-model.js';
import { hashProjectFile } from '../fingerprint/flow-files.js';
import type { ContentHash } from '../fingerprint/hash.js';
import type { PlannedRun } from '../plan/planned-run.js';
import { resolveRunDefinition, type ResolvedNode } from '../plan/run-definition.js';
import type { RunId } from '../plan/run-id.js';
import { flowEnvironment } from '../python/python-connections.js';
import { pythonInterpreter } from '../python/python-interpreter.js';
import { PythonWorkers } from '../python/python-workers.js';
import { fail, ok, type Result } from '../util/result.js';
import { AggregationInputs, executeAggregation } from './execute-aggregation.js';
import { executeFlowRow, messageOf } from './execute-flow-row.js';
import { prepareFlowInputs } from './flow-inputs.js';
import { nodesInDependencyOrder } from './node-order.js';

export interface FlowTestOptions {
  readonly root: string;
  readonly flow: FlowConfig;
  /** The project's experiment, for its connections and settings; absent outside a project. */
  readonly experiment: ExperimentConfig | undefined;
  /** Node → variant, for nodes that should not run their default variant. */
  readonly variants: Readonly<Record<string, string>>;
  /** Runs every llm node on this connection. */
  readonly connection?: string;
  /** Flow input values; inputs left out take their defaults. */
  readonly inputs: Readonly<Record<string, unknown>>;
}

/** One node as a flow test saw it. */
export interface NodeReport {
  readonly name: string;
  readonly type: ResolvedNode['type'];
  readonly aggregation: boolean;
  /** The variant that ran, for a node with variants. */
  readonly variant?: string;
  readonly status: 'ok' | 'bypassed' | 'failed' | 'not run';
  readonly output?: unknown;
  readonly error?: string;
  /** What a Python tool printed. */
  readonly printed?: string;
}

export interface FlowTestReport {
  readonly ok: boolean;
  readonly nodes: readonly NodeReport[];
  /** The flow's outputs, when every per-row node succeeded. */
  readonly outputs?: Readonly<Record<string, unknown>>;
  /** What the aggregation nodes produced over this one row. */
  readonly metrics?: unknown;
  /** A failure outside any node (an input that does not fit, an output that reads nothing). */
  readonly error?: string;
}

/**
 * Runs a flow on one input, as promptflow's `pf flow test` does: the chosen variants, the
 * project's connections and settings defaults, the LLM-call cache of the project. Mistakes in
 * what was asked for (an unknown variant or input, a missing connection) come back as
 * diagnostics; failures of nodes are part of the report.
 */
export async function testFlow(
  options: FlowTestOptions,
): Promise<Result<FlowTestReport, Diagnostic[]>> {
  const { flow, root } = options;
  const experiment = options.experiment ?? emptyExperiment(root);

  const problems = [...checkVariants(flow, options.variants), ...checkInputs(flow, options.inputs)];
  if (options.connection !== undefined && !(options.connection in experiment.connections)) {
    problems.push(unknownConnection(options.connection, experiment, '--connection'));
  }
  if (problems.length > 0) return fail(problems);

  const definition = resolveRunDefinition(experiment, testRun(flow, options), options.connection);
  const connectionNames = new Set<string>();
  for (const node of definition.nodes) {
    if (node.type !== 'llm') continue;
    if (node.connection in experiment.connections) connectionNames.add(node.connection);
    else problems.push(unknownConnection(node.connection, experiment, `llm node ${node.name}`));
  }
  if (problems.length > 0) return fail(problems);

  const hashes = new Map<string, Promise<ContentHash>>();
  const moduleHash = (file: string) => {
    let hash = hashes.get(file);
    if (hash === undefined) {
      hash = hashProjectFile(root, file);
      hashes.set(file, hash);
    }
    return hash;
  };
  const models = new Map<string, ChatModel>();
  for (const name of connectionNames) {
    const connection = experiment.connections[name];
    if (connection !== undefined) {
      models.set(name, await createChatModel(root, connection, { moduleHash }));
    }
  }

  const stores =
    options.experiment === undefined
      ? undefined
      : await openCacheStores(experiment.cache ?? DEFAULT_CACHE_URL, root);
  const python = new PythonWorkers({
    root,
    interpreter: pythonInterpreter(root, experiment.python),
    environment: () => flowEnvironment(flow, experiment.connections, process.env),
    includes: () => flow.includes,
  });
  const runtime = {
    root,
    flowDir: flow.dir,
    models,
    calls: new CallCache(new CheckedStore<CachedCall>(stores?.calls ?? new Keyv())),
    imageMaxSide: 1024,
    python,
    pythonConcurrency: 1,
    connections: experiment.connections,
  };

  try {
    return ok(await runOnce(flow, definition.nodes, definition.nodeVariants, options, runtime));
  } finally {
    await python.close();
    await stores?.close();
  }
}

async function runOnce(
  flow: FlowConfig,
  nodes: readonly ResolvedNode[],
  chosen: Readonly<Record<string, string>>,
  options: FlowTestOptions,
  runtime: Parameters<typeof executeFlowRow>[3],
): Promise<FlowTestReport> {
  const printed = new Map<string, string>();
  const report = (
    node: ResolvedNode,
    status: NodeReport['status'],
    extra: Partial<NodeReport> = {},
  ): NodeReport => ({
    name: node.name,
    type: node.type,
    aggregation: node.aggregation,
    ...(chosen[node.name] === undefined ? {} : { variant: chosen[node.name] }),
    status,
    ...(printed.has(node.name) ? { printed: printed.get(node.name) } : {}),
    ...extra,
  });
  const ordered = nodesInDependencyOrder(nodes);

  let inputs: Record<string, unknown>;
  try {
    inputs = prepareFlowInputs(flow, options.inputs);
  } catch (error) {
    return {
      ok: false,
      nodes: ordered.map((node) => report(node, 'not run')),
      error: messageOf(error),
    };
  }

  const row = await executeFlowRow(flow, nodes, inputs, runtime, {
    onPrint: (node, text) => printed.set(node, (printed.get(node) ?? '') + text),
  });
  const perRow = (node: ResolvedNode): NodeReport => {
    if (Object.hasOwn(row.nodes, node.name))
      return report(node, 'ok', { output: row.nodes[node.name] });
    if (row.status === 'ok' && row.bypassed.includes(node.name)) return report(node, 'bypassed');
    if (row.status === 'failed' && row.node === node.name) {
      return report(node, 'failed', { error: row.error });
    }
    return report(node, 'not run');
  };
  if (row.status === 'failed') {
    return {
      ok: false,
      nodes: ordered.map(perRow),
      ...(row.node === undefined ? { error: row.error } : {}),
    };
  }

  let metrics: unknown;
  let aggregationError: string | undefined;
  try {
    const rows = new AggregationInputs(nodes);
    rows.add(0, { inputs, nodes: row.nodes, bypassed: row.bypassed });
    const aggregation = await executeAggregation(nodes, rows, runtime);
    metrics = aggregation.metrics;
  } catch (error) {
    aggregationError = messageOf(error);
  }
  return {
    ok: aggregationError === undefined,
    nodes: ordered.map((node) =>
      node.aggregation
        ? report(node, aggregationError === undefined ? 'ok' : 'failed', {
            ...(aggregationError === undefined ? {} : { error: aggregationError }),
          })
        : perRow(node),
    ),
    outputs: row.outputs,
    ...(metrics === undefined ? {} : { metrics }),
  };
}

function checkVariants(flow: FlowConfig, variants: Readonly<Record<string, string>>): Diagnostic[] {
  const problems: Diagnostic[] = [];
  const nodes = Object.keys(flow.nodeVariants);
  for (const [node, variant] of Object.entries(variants)) {
    const entry = flow.nodeVariants[node];
    if (entry === undefined) {
      problems.push({
        message: `--variant ${node}.${variant}: node \`${node}\` has no variants${didYouMean(node, nodes)}`,
        hint:
          nodes.length > 0
            ? `nodes with variants in ${flow.file}: ${nodes.join(', ')}`
            : `${flow.file} has no node with variants`,
      });
      continue;
    }
    const ids = Object.keys(entry.variants);
    if (!ids.includes(variant)) {
      problems.push({
        message: `--variant ${node}.${variant}: \`${variant}\` is not a variant of \`${node}\`${didYouMean(variant, ids)}`,
        hint: `variants of ${node}: ${ids.join(', ')}`,
      });
    }
  }
  return problems;
}

function checkInputs(flow: FlowConfig, inputs: Readonly<Record<string, unknown>>): Diagnostic[] {
  const problems: Diagnostic[] = [];
  const declared = Object.keys(flow.inputs);
  for (const name of Object.keys(inputs)) {
    if (declared.includes(name)) continue;
    problems.push({
      message: `flow \`${flow.dir}\` has no input \`${name}\`${didYouMean(name, declared)}`,
      hint: `inputs of ${flow.file}: ${declared.join(', ') || 'none'}`,
    });
  }
  for (const input of Object.values(flow.inputs)) {
    if (input.default !== undefined || Object.hasOwn(inputs, input.name)) continue;
    problems.push({
      message: `flow input \`${input.name}\` has no default and no value`,
      position: input.position,
      hint: `give it a value in the --inputs file: {"${input.name}": ...}`,
    });
  }
  return problems;
}

function unknownConnection(name: string, experiment: ExperimentConfig, where: string): Diagnostic {
  const names = Object.keys(experiment.connections);
  return {
    message:
      name === ''
        ? `${where} has no connection`
        : `${where} uses connection \`${name}\`, which ${experiment.file || 'the project'} does not define${didYouMean(name, names)}`,
    hint:
      names.length > 0
        ? `pass --connection with one of: ${names.join(', ')}`
        : 'define connections in experiment.yaml in the project folder (-C <dir>)',
  };
}

/** The run a flow test executes: no stage settings, the chosen variants. */
function testRun(flow: FlowConfig, options: FlowTestOptions): PlannedRun {
  const position = { file: flow.file, line: 1, column: 1 };
  const variants = Object.keys(options.variants).length > 0;
  return {
    id: 'flow-test' as RunId,
    stage: {
      name: 'flow-test',
      flow: flow.dir,
      source: { kind: 'dataset', dataset: '' },
      inputs: {},
      variants: [],
      settings: {},
      position,
      inputPositions: {},
    },
    flow,
    variant: variants
      ? { id: 'flow-test', nodeVariants: options.variants, settings: {}, position }
      : undefined,
    upstream: [],
    lineage: {},
    dataset: '',
  };
}

function emptyExperiment(root: string): ExperimentConfig {
  return { name: '', root, file: '', datasets: {}, connections: {}, defaults: {}, stages: [] };
}
