import type { ConnectionConfig } from '../config/types.js';
import type { CallRecord } from '../flow/execute-flow-row.js';
import { costOf, priceOf } from '../models/pricing.js';
import type { ResolvedNode } from '../plan/run-definition.js';

/**
 * Prices the calls of one run: each call's node names its connection, the connection's
 * `pricing` gives the model's price. Computed from the current config, so a price edited later
 * applies to calls served from the caches too.
 */
export function callPricer(
  connections: Readonly<Record<string, ConnectionConfig>>,
  nodes: readonly ResolvedNode[],
): (call: CallRecord) => number | undefined {
  const connectionOf = new Map(
    nodes.flatMap((node) => (node.type === 'llm' ? [[node.name, node.connection] as const] : [])),
  );
  return (call) => {
    if (call.usage === undefined) return undefined;
    const price = priceOf(connections[connectionOf.get(call.node) ?? ''], call.model);
    return price === undefined ? undefined : costOf(price, call.usage);
  };
}
