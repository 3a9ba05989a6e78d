import type { ExperimentConfig } from '../config/types.js';
import { didYouMean } from '../config/did-you-mean.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { PlannedRun } from '../plan/planned-run.js';
import type { RunGraph } from '../plan/run-graph.js';
import type { RunId } from '../plan/run-id.js';
import { stagesInOrder } from '../plan/stage-order.js';
import { fail, ok, type Result } from '../util/result.js';

/** Stage names with every stage after the stages it reads: the order lineages are shown in. */
export function stageNamesInOrder(experiment: ExperimentConfig): string[] {
  const ordered = stagesInOrder(experiment.stages);
  // Planning already succeeded when the result commands run, so the stages have no cycle.
  return (ordered.ok ? ordered.value : experiment.stages).map((stage) => stage.name);
}

/** The runs a run is built on and the run itself, upstream first: one lineage, as a list. */
export function lineageOf(graph: RunGraph, run: PlannedRun, stageOrder: readonly string[]) {
  const ids: RunId[] = [];
  for (const stage of stageOrder) {
    const id = stage === run.stage.name ? run.id : run.lineage[stage];
    if (id !== undefined) ids.push(id);
  }
  return ids.map((id) => graph.get(id));
}

/**
 * The stages whose variant tells a stage's runs apart: every stage in their lineages (the stage
 * itself included) that has more than one run to choose from, in stage order.
 */
export function variantStages(
  runs: readonly PlannedRun[],
  graph: RunGraph,
  stageOrder: readonly string[],
): string[] {
  const choices = new Map<string, Set<string>>();
  for (const run of runs) {
    for (const member of lineageOf(graph, run, stageOrder)) {
      const seen = choices.get(member.stage.name) ?? new Set<string>();
      seen.add(member.variant?.id ?? '');
      choices.set(member.stage.name, seen);
    }
  }
  return stageOrder.filter((stage) => (choices.get(stage)?.size ?? 0) > 1);
}

/** Stage → the variant of the run of that stage in `run`'s lineage (null: no variants). */
export function variantsOf(
  run: PlannedRun,
  graph: RunGraph,
  stages: readonly string[],
): Record<string, string | null> {
  const variants: Record<string, string | null> = {};
  for (const stage of stages) {
    const id = stage === run.stage.name ? run.id : run.lineage[stage];
    variants[stage] = id === undefined ? null : (graph.get(id).variant?.id ?? null);
  }
  return variants;
}

/** The stage a command names, or the last stage when it names none. */
export function selectStage(
  experiment: ExperimentConfig,
  name: string | undefined,
): Result<string, Diagnostic[]> {
  const order = stageNamesInOrder(experiment);
  if (name === undefined) {
    const last = order[order.length - 1];
    if (last === undefined) return fail([{ message: 'the experiment has no stages' }]);
    return ok(last);
  }
  if (order.includes(name)) return ok(name);
  return fail([
    {
      message: `"${name}" is not a stage of this experiment${didYouMean(name, order)}`,
      hint: `stages: ${order.join(', ')}`,
    },
  ]);
}
