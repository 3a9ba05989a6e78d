import { Graph } from '@dagrejs/graphlib';

import type { PlannedRun } from './planned-run.js';
import type { RunId } from './run-id.js';

/**
 * The graph of runs: an edge from every upstream run to the runs that read it. Runs are the
 * nodes' labels, so one object answers both "what does this run need" and "what needs it".
 */
export class RunGraph {
  private readonly graph = new Graph();

  constructor(readonly runs: readonly PlannedRun[]) {
    for (const run of runs) this.graph.setNode(run.id, run);
    for (const run of runs) {
      for (const upstream of run.upstream) this.graph.setEdge(upstream, run.id);
    }
  }

  get(id: RunId): PlannedRun {
    const run = this.graph.node(id) as PlannedRun | undefined;
    if (run === undefined) throw new Error(`internal error: unknown run ${id}`);
    return run;
  }

  has(id: string): id is RunId {
    return this.graph.hasNode(id);
  }

  /** The runs `id` reads from directly. */
  upstreamOf(id: RunId): PlannedRun[] {
    return this.get(id).upstream.map((upstream) => this.get(upstream));
  }

  /** The runs that read `id` directly. */
  downstreamOf(id: RunId): PlannedRun[] {
    return ((this.graph.successors(id) ?? []) as RunId[]).map((next) => this.get(next));
  }

  /** `targets` and every run they need, in plan order (upstream first). */
  closure(targets: readonly RunId[]): PlannedRun[] {
    const wanted = new Set<string>();
    const visit = (id: RunId): void => {
      if (wanted.has(id)) return;
      wanted.add(id);
      for (const upstream of this.get(id).upstream) visit(upstream);
    };
    targets.forEach(visit);
    return this.runs.filter((run) => wanted.has(run.id));
  }
}
