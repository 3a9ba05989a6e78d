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

/** An aggregation node's input that lists a value of every row, such as `${score_row.output}`. */
interface RowLevelInput {
  readonly node: string;
  readonly input: string;
  readonly expression: ResolvedNode['inputs'][string];
}

/** A row's value that could not be resolved; thrown when aggregation asks for the list. */
class Unresolved {
  constructor(readonly error: unknown) {}
}

/**
 * What the aggregation nodes read of a run's successful rows, gathered as rows finish (in any
 * order) and listed in row order: only the values their inputs refer to, not the rows' inputs
 * and node outputs, so a run of many rows holds little more than what aggregation gets.
 */
export class AggregationInputs {
  private readonly rowLevel: readonly RowLevelInput[];
  /** By row position: the row's value for each row-level input, in `rowLevel` order. */
  private readonly rows: (unknown[] | undefined)[] = [];
  private added = 0;

  constructor(nodes: readonly ResolvedNode[]) {
    const aggregationNodes = nodes.filter((node) => node.aggregation);
    this.rowLevel = aggregationNodes.flatMap((node) =>
      Object.entries(node.inputs)
        .filter(([, expression]) => !refersToAggregation(expression, aggregationNodes))
        .map(([input, expression]) => ({ node: node.name, input, expression })),
    );
  }

  /** How many rows were added. */
  get count(): number {
    return this.added;
  }

  /** Adds the successful row at `position` (0-based among all the run's rows). */
  add(position: number, row: AggregationRow): void {
    this.added++;
    if (this.rowLevel.length === 0) return;
    const lookup = nodeLookup(row.inputs, row.nodes, new Set(row.bypassed ?? []));
    this.rows[position] = this.rowLevel.map(({ input, expression }) => {
      try {
        return resolveInputs({ [input]: expression }, lookup)[input];
      } catch (error) {
        return new Unresolved(error);
      }
    });
  }

  /** The values of one row-level input, one per row in row order. */
  list(node: string, input: string): unknown[] {
    const slot = this.rowLevel.findIndex((item) => item.node === node && item.input === input);
    if (slot === -1) throw new Error(`internal error: ${node}.${input} is not row-level`);
    const values: unknown[] = [];
    for (const row of this.rows) {
      if (row === undefined) continue;
      const value = row[slot];
      if (value instanceof Unresolved) throw value.error;
      values.push(value);
    }
    return values;
  }
}

function refersToAggregation(
  expression: ResolvedNode['inputs'][string],
  aggregationNodes: readonly ResolvedNode[],
): boolean {
  return (
    typeof expression === 'string' &&
    aggregationNodes.some((other) => expression.includes(`\${${other.name}.`))
  );
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
  rows: AggregationInputs,
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
      inputs[name] = refersToAggregation(expression, aggregationNodes)
        ? resolveInputs({ [name]: expression }, nodeLookup({}, aggregated))[name]
        : rows.list(node.name, name);
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
