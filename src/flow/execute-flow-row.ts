import type { CallOutcome } from '../cache/call-cache.js';
import type { CallKey } from '../cache/cache-keys.js';
import type { FlowConfig } from '../config/types.js';
import type { ChatUsage } from '../models/chat.js';
import type { ResolvedNode } from '../plan/run-definition.js';
import { executeNode, type NodeRuntime } from './execute-node.js';
import { nodesInDependencyOrder } from './node-order.js';
import { followPath, resolveExpression, type ReferenceLookup } from './references.js';

/** One LLM call a row made, for the run's accounting and for tracing a row. */
export interface CallRecord {
  readonly node: string;
  readonly key: CallKey;
  readonly cached: boolean;
  readonly usage?: ChatUsage;
  /** The model the request named (absent in records cached before it was recorded). */
  readonly model?: string;
  /** The endpoint that answered and how long it took, when the call was sent. */
  readonly endpoint?: string;
  readonly latencyMs?: number;
  /** Requests sent beyond the first (only when there were any). */
  readonly retries?: number;
}

/** A call as a row's trace and the run's accounting keep it. */
export function callRecord(node: string, call: CallOutcome): CallRecord {
  return {
    node,
    key: call.key,
    cached: call.cached,
    ...(call.usage ? { usage: call.usage } : {}),
    model: call.model,
    endpoint: call.endpoint,
    latencyMs: call.latencyMs,
    ...(call.retries > 0 ? { retries: call.retries } : {}),
  };
}

/** What a row produced: the flow's outputs and every node's output, or the first failure. */
export type RowOutcome =
  | {
      readonly status: 'ok';
      readonly outputs: Record<string, unknown>;
      readonly nodes: Record<string, unknown>;
      readonly calls: readonly CallRecord[];
    }
  | {
      readonly status: 'failed';
      readonly error: string;
      readonly node: string | undefined;
      readonly calls: readonly CallRecord[];
    };

/** Runs a flow's per-row nodes (not the aggregation nodes) on one row's inputs. */
export async function executeFlowRow(
  flow: FlowConfig,
  nodes: readonly ResolvedNode[],
  inputs: Record<string, unknown>,
  runtime: NodeRuntime,
): Promise<RowOutcome> {
  const outputs: Record<string, unknown> = {};
  const calls: CallRecord[] = [];
  const lookup = nodeLookup(inputs, outputs);

  for (const node of nodesInDependencyOrder(nodes.filter((node) => !node.aggregation))) {
    try {
      const nodeInputs = resolveInputs(node.inputs, lookup);
      outputs[node.name] = await executeNode(node, nodeInputs, runtime, (call: CallOutcome) =>
        calls.push(callRecord(node.name, call)),
      );
    } catch (error) {
      return { status: 'failed', error: messageOf(error), node: node.name, calls };
    }
  }

  try {
    const flowOutputs: Record<string, unknown> = {};
    for (const output of Object.values(flow.outputs)) {
      flowOutputs[output.name] = resolveExpression(output.reference, lookup);
    }
    return { status: 'ok', outputs: flowOutputs, nodes: outputs, calls };
  } catch (error) {
    return { status: 'failed', error: messageOf(error), node: undefined, calls };
  }
}

/** `${inputs.x}` and `${node.output...}` against a row's inputs and the node outputs so far. */
export function nodeLookup(
  inputs: Readonly<Record<string, unknown>>,
  outputs: Readonly<Record<string, unknown>>,
): ReferenceLookup {
  return (reference) => {
    if (reference.scope === 'inputs') return followPath(inputs, reference.path);
    if (!Object.hasOwn(outputs, reference.scope)) return undefined;
    const [first, ...rest] = reference.path;
    if (first !== 'output') return undefined;
    return followPath(outputs[reference.scope], rest);
  };
}

export function resolveInputs(
  mapping: ResolvedNode['inputs'],
  lookup: ReferenceLookup,
): Record<string, unknown> {
  const resolved: Record<string, unknown> = {};
  for (const [name, expression] of Object.entries(mapping)) {
    resolved[name] = resolveExpression(expression, lookup);
  }
  return resolved;
}

/** A failure's message as the user should read it: no stack unless asked for elsewhere. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
