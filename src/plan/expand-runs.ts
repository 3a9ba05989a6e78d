import type { LoadedProject, StageConfig } from '../config/types.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { fail, ok, type Result } from '../util/result.js';
import type { PlannedRun } from './planned-run.js';
import { makeRunId, runLabel, type RunId } from './run-id.js';
import { stagesInOrder } from './stage-order.js';

/**
 * Expands stages into runs: every variant × every lineage-consistent combination of upstream
 * runs. Two upstream runs are combined only when they agree on every ancestor stage they share,
 * so a run never mixes outputs built on `describe@a` with a run built on `describe@b`. A stage
 * with `repeat: N` has N runs per combination, one per sample.
 */
export function expandRuns(project: LoadedProject): Result<PlannedRun[], Diagnostic[]> {
  const ordered = stagesInOrder(project.experiment.stages);
  if (!ordered.ok) return ordered;

  const runsByStage = new Map<string, PlannedRun[]>();
  const all: PlannedRun[] = [];
  const errors: Diagnostic[] = [];

  for (const stage of ordered.value) {
    const flow = project.flows[stage.flow];
    if (flow === undefined) throw new Error(`internal error: flow ${stage.flow} was not loaded`);

    const combinations = upstreamCombinations(stage, runsByStage);
    const datasets = new Set(combinations.map((combination) => combination.dataset));
    if (datasets.size > 1) {
      errors.push({
        message: `stage "${stage.name}" combines rows of different datasets (${[...datasets].join(', ')})`,
        position: stage.position,
        hint: 'feed a stage only from stages that read the same dataset, so rows line up',
      });
      continue;
    }

    const variants = stage.variants.length > 0 ? stage.variants : [undefined];
    const runs: PlannedRun[] = [];
    for (const combination of combinations) {
      for (const variant of variants) {
        const ancestorLabels = ancestorsNearestFirst(combination.lineage, ordered.value);
        for (let sample = 1; sample <= (stage.repeat ?? 1); sample++) {
          runs.push({
            id: makeRunId(runLabel(stage.name, variant?.id, sample), ancestorLabels),
            stage,
            flow,
            variant,
            ...(sample > 1 ? { sample } : {}),
            upstream: combination.upstream,
            lineage: combination.lineage,
            dataset: combination.dataset,
          });
        }
      }
    }
    runsByStage.set(stage.name, runs);
    all.push(...runs);
  }

  return errors.length > 0 ? fail(errors) : ok(all);
}

interface Combination {
  readonly upstream: RunId[];
  readonly lineage: Record<string, RunId>;
  readonly dataset: string;
}

function upstreamCombinations(
  stage: StageConfig,
  runsByStage: ReadonlyMap<string, readonly PlannedRun[]>,
): Combination[] {
  const source = stage.source;
  if (source.kind === 'dataset') {
    return [{ upstream: [], lineage: {}, dataset: source.dataset }];
  }

  let combinations: Combination[] = [{ upstream: [], lineage: {}, dataset: '' }];
  for (const upstreamStage of source.stages) {
    const next: Combination[] = [];
    for (const combination of combinations) {
      for (const run of runsByStage.get(upstreamStage) ?? []) {
        const lineage = { ...run.lineage, [upstreamStage]: run.id };
        if (!agrees(combination.lineage, lineage)) continue;
        next.push({
          upstream: [...combination.upstream, run.id],
          lineage: { ...combination.lineage, ...lineage },
          dataset: combination.dataset === '' ? run.dataset : combination.dataset,
        });
      }
    }
    combinations = next;
  }
  return combinations;
}

/** True when the two lineages pick the same run for every stage they both contain. */
function agrees(a: Readonly<Record<string, RunId>>, b: Readonly<Record<string, RunId>>): boolean {
  for (const [stage, run] of Object.entries(b)) {
    const other = a[stage];
    if (other !== undefined && other !== run) return false;
  }
  return true;
}

function ancestorsNearestFirst(
  lineage: Readonly<Record<string, RunId>>,
  ordered: readonly StageConfig[],
): string[] {
  const labels: string[] = [];
  for (let index = ordered.length - 1; index >= 0; index--) {
    const stage = ordered[index];
    if (stage === undefined) continue;
    const run = lineage[stage.name];
    // The first part of an ancestor's id is its own label.
    if (run !== undefined) labels.push(run.split('~')[0] ?? run);
  }
  return labels;
}
