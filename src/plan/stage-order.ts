import { Graph, alg } from '@dagrejs/graphlib';

import type { StageConfig } from '../config/types.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { fail, ok, type Result } from '../util/result.js';

/**
 * Stages sorted so that every stage comes after the stages it reads rows from; stages that do
 * not depend on each other keep their file order. A cycle is reported with every hop.
 */
export function stagesInOrder(stages: readonly StageConfig[]): Result<StageConfig[], Diagnostic[]> {
  const graph = new Graph();
  for (const stage of stages) graph.setNode(stage.name, stage);
  for (const stage of stages) {
    if (stage.source.kind !== 'stages') continue;
    for (const upstream of stage.source.stages) {
      if (graph.hasNode(upstream)) graph.setEdge(upstream, stage.name);
    }
  }

  const cycles = alg.findCycles(graph);
  if (cycles.length > 0) {
    return fail(
      cycles.map((cycle) => {
        const hops = [...cycle].reverse();
        const first = stages.find((stage) => stage.name === hops[0]);
        return {
          message: `stages form a cycle: ${[...hops, hops[0]].join(' → ')}`,
          ...(first ? { position: first.position } : {}),
          hint: 'a stage cannot read rows from a stage that depends on it; break one `rows` link',
        };
      }),
    );
  }

  const sorted: StageConfig[] = [];
  const placed = new Set<string>();
  // Kahn's algorithm, always taking the earliest stage in file order that is ready, so the
  // order (and so run ids and output order) is stable.
  while (sorted.length < stages.length) {
    const ready = stages.find(
      (stage) =>
        !placed.has(stage.name) &&
        (graph.predecessors(stage.name) ?? []).every((name) => placed.has(name)),
    );
    if (ready === undefined) throw new Error('internal error: stage order stalled');
    sorted.push(ready);
    placed.add(ready.name);
  }
  return ok(sorted);
}
