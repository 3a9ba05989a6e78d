import type { ResolvedNode } from '../plan/run-definition.js';
import { executeNode, type NodeRuntime } from './execute-node.js';
import { callRecord, nodeLookup, resolveInputs, type CallRecord } from './execute-flow-row.js';
import { isPlainObject } from '../templates/python-repr.js';
import { nodesInDependencyOrder } from './node-order.js';

/** A successful row as aggregation sees it. */
export interface AggregationRow {
  readonly inputs: Readonly<Record<string, unknown>>;
  readonly nodes: Readonly<Record<string, unknown>>;
  /** Nodes `activate` bypassed on the row: their values are null in the lists. */
  readonly bypassed?: readonly string[];
}

/**
 * Runs the aggregation nodes of a flow once over a run's successful rows. An input that refers
 * to row-level values (`${inputs.x}`, `${score_row.output}`) becomes the list of those values,
 * one per row in row order; a reference to another aggregation node is its single output.
 * Returns the run's metrics: the one aggregation node's output, or each node's output by name,
 * with what Python tools logged with `log_metric` on top (replacing an output that is not an
 * object, such as a tool's `None`).
 */
export async function executeAggregation(
  nodes: readonly ResolvedNode[],
  rows: readonly AggregationRow[],
  runtime: NodeRuntime,
): Promise<{ metrics: unknown; calls: CallRecord[] }> {
  const aggregationNodes = nodes.filter((node) => node.aggregation);
  const calls: CallRecord[] = [];
  if (aggregationNodes.length === 0) return { metrics: undefined, calls };

  const aggregated: Record<string, unknown> = {};
  const logged: Record<string, number | null> = {};
  for (const node of nodesInDependencyOrder(aggregationNodes)) {
    const inputs: Record<string, unknown> = {};
    for (const [name, expression] of Object.entries(node.inputs)) {
      const refersToAggregation =
        typeof expression === 'string' &&
        aggregationNodes.some((other) => expression.includes(`\${${other.name}.`));
      inputs[name] = refersToAggregation
        ? resolveInputs({ [name]: expression }, nodeLookup({}, aggregated))[name]
        : rows.map(
            (row) =>
              resolveInputs(
                { [name]: expression },
                nodeLookup(row.inputs, row.nodes, new Set(row.bypassed ?? [])),
              )[name],
          );
    }
    aggregated[node.name] = await executeNode(
      node,
      inputs,
      runtime,
      (call) => calls.push(callRecord(node.name, call)),
      { onMetrics: (metrics) => Object.assign(logged, metrics) },
    );
  }

  const returned =
    aggregationNodes.length === 1 ? aggregated[aggregationNodes[0]?.name ?? ''] : aggregated;
  if (Object.keys(logged).length === 0) return { metrics: returned, calls };
  const metrics = isPlainObject(returned) ? { ...returned, ...logged } : logged;
  return { metrics, calls };
}
