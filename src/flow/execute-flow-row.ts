import { isDeepStrictEqual } from 'node:util';

import type { CallOutcome } from '../cache/call-cache.js';
import type { CallKey } from '../cache/cache-keys.js';
import type { FlowConfig } from '../config/types.js';
import type { ChatUsage } from '../models/chat.js';
import type { ResolvedNode } from '../plan/run-definition.js';
import { executeNode, type NodeRuntime } from './execute-node.js';
import { nodesInDependencyOrder } from './node-order.js';
import { followPath, referencesIn, resolveExpression, type ReferenceLookup } from './references.js';

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

/**
 * What a row produced: the flow's outputs and every node's output (and which nodes were
 * bypassed by `activate`), or the first failure.
 */
export type RowOutcome =
  | {
      readonly status: 'ok';
      readonly outputs: Record<string, unknown>;
      readonly nodes: Record<string, unknown>;
      readonly bypassed: readonly string[];
      readonly calls: readonly CallRecord[];
    }
  | {
      readonly status: 'failed';
      readonly error: string;
      readonly node: string | undefined;
      /** The outputs of the nodes that ran before the failure. */
      readonly nodes: Record<string, unknown>;
      readonly calls: readonly CallRecord[];
    };

export interface RowOptions {
  /** What a Python tool printed. */
  readonly onPrint?: (node: string, text: string) => void;
}

/**
 * Runs a flow's per-row nodes (not the aggregation nodes) on one row's inputs.
 *
 * A node with `activate` runs only when its condition holds, and is bypassed when the node its
 * condition reads was bypassed. A node without `activate` is bypassed when every node it reads
 * was; otherwise it runs, and reads null for a bypassed node's output (promptflow's rules).
 */
export async function executeFlowRow(
  flow: FlowConfig,
  nodes: readonly ResolvedNode[],
  inputs: Record<string, unknown>,
  runtime: NodeRuntime,
  options: RowOptions = {},
): Promise<RowOutcome> {
  const outputs: Record<string, unknown> = {};
  const bypassed = new Set<string>();
  const calls: CallRecord[] = [];
  const lookup = nodeLookup(inputs, outputs, bypassed);
  const names = new Set(nodes.map((node) => node.name));

  for (const node of nodesInDependencyOrder(nodes.filter((node) => !node.aggregation))) {
    try {
      if (isBypassed(node, names, bypassed, lookup)) {
        bypassed.add(node.name);
        continue;
      }
      const nodeInputs = resolveInputs(node.inputs, lookup);
      outputs[node.name] = await executeNode(
        node,
        nodeInputs,
        runtime,
        (call: CallOutcome) => calls.push(callRecord(node.name, call)),
        {
          bypassedInputs: inputsReading(node, bypassed),
          onPrint: (text) => options.onPrint?.(node.name, text),
        },
      );
    } catch (error) {
      return { status: 'failed', error: messageOf(error), node: node.name, nodes: outputs, calls };
    }
  }

  try {
    const flowOutputs: Record<string, unknown> = {};
    for (const output of Object.values(flow.outputs)) {
      flowOutputs[output.name] = resolveExpression(output.reference, lookup);
    }
    return { status: 'ok', outputs: flowOutputs, nodes: outputs, bypassed: [...bypassed], calls };
  } catch (error) {
    return { status: 'failed', error: messageOf(error), node: undefined, nodes: outputs, calls };
  }
}

function isBypassed(
  node: ResolvedNode,
  names: ReadonlySet<string>,
  bypassed: ReadonlySet<string>,
  lookup: ReferenceLookup,
): boolean {
  if (node.activate !== undefined) {
    const [condition] = referencesIn(node.activate.when);
    if (condition !== undefined && bypassed.has(condition.scope)) return true;
    return !isDeepStrictEqual(resolveExpression(node.activate.when, lookup), node.activate.is);
  }
  const read = referencesIn(node.inputs)
    .map((reference) => reference.scope)
    .filter((scope) => names.has(scope));
  return read.length > 0 && read.every((scope) => bypassed.has(scope));
}

/** The inputs of `node` that read a bypassed node. */
function inputsReading(node: ResolvedNode, bypassed: ReadonlySet<string>): string[] {
  if (bypassed.size === 0) return [];
  return Object.entries(node.inputs)
    .filter(([, expression]) =>
      referencesIn(expression).some((reference) => bypassed.has(reference.scope)),
    )
    .map(([name]) => name);
}

/**
 * `${inputs.x}` and `${node.output...}` against a row's inputs and the node outputs so far; any
 * path into a bypassed node's output is null.
 */
export function nodeLookup(
  inputs: Readonly<Record<string, unknown>>,
  outputs: Readonly<Record<string, unknown>>,
  bypassed: ReadonlySet<string> = new Set(),
): ReferenceLookup {
  return (reference) => {
    if (reference.scope === 'inputs') return followPath(inputs, reference.path);
    if (bypassed.has(reference.scope)) return null;
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
