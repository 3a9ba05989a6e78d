import path from 'node:path';

import { toPromptflowImages } from '../models/image-values.js';
import type { ResolvedNode } from '../plan/run-definition.js';
import { describePythonFailure } from '../python/describe-failure.js';
import { pythonConnection } from '../python/python-connections.js';
import { PythonWorkerError, type PythonConnection } from '../python/python-worker.js';
import type { NodeCallOptions, NodeRuntime } from './execute-node.js';
import { NodeError } from './node-error.js';

/**
 * Runs a python node: its tool is called in one of the flow's Python workers with the node's
 * inputs as JSON (images in promptflow's form), and its output comes back as JSON. An input
 * whose value, as written in the flow, is the name of one of the experiment's connections
 * (`connection: openai`) also carries that connection, which the worker hands to a tool
 * parameter typed as a connection.
 */
export async function executePythonNode(
  node: Extract<ResolvedNode, { type: 'python' }>,
  inputs: Record<string, unknown>,
  runtime: NodeRuntime,
  options: NodeCallOptions,
): Promise<unknown> {
  if (runtime.python === undefined) throw new Error('internal error: no Python workers');

  const connections: Record<string, PythonConnection> = {};
  for (const [name, written] of Object.entries(node.inputs)) {
    const connection = typeof written === 'string' ? runtime.connections?.[written] : undefined;
    if (connection !== undefined) connections[name] = pythonConnection(connection, process.env);
  }

  let reply;
  try {
    reply = await runtime.python.call(
      runtime.flowDir,
      {
        file: path.join(runtime.root, runtime.flowDir, node.module),
        ...(node.function === undefined ? {} : { function: node.function }),
        inputs: toPromptflowImages(inputs, runtime.root) as Record<string, unknown>,
        bypassed: options.bypassedInputs ?? [],
        connections,
      },
      runtime.pythonConcurrency ?? 1,
    );
  } catch (error) {
    if (error instanceof PythonWorkerError) throw new NodeError(error.message);
    throw error;
  }

  if (reply.stdout) options.onPrint?.(reply.stdout);
  if (!reply.ok) {
    throw new NodeError(
      describePythonFailure(reply.error, {
        root: runtime.root,
        flowDir: runtime.flowDir,
        interpreter: runtime.python.interpreter,
      }),
    );
  }
  options.onMetrics?.(reply.metrics);
  return reply.output;
}
