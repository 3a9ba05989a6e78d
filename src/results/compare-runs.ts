import { didYouMean, listNames } from '../config/did-you-mean.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { BuildContext } from '../execute/build-context.js';
import type { RunId } from '../plan/run-id.js';
import { fail, ok, type Result } from '../util/result.js';
import type { BuiltRuns, UnbuiltRun } from './built-runs.js';
import { lineageOf, stageNamesInOrder, variantStages, variantsOf } from './lineage.js';
import { sumUsage, type RunUsage, UsageReader } from './run-usage.js';

export interface CompareOptions {
  /** The stage whose runs are compared. */
  readonly stage: string;
  /** Metric columns, the first ranking; default: the primary metric and a few others. */
  readonly metrics?: readonly string[];
  /** Show every top-level metric the runs report. */
  readonly allMetrics?: boolean;
  /** Overrides the ranking direction. */
  readonly higherIsBetter?: boolean;
}

/** One run of the compared stage. */
export interface CompareRow {
  /** 1 for the best; equal values share a rank; null when the run lacks the ranking metric. */
  readonly rank: number | null;
  readonly best: boolean;
  readonly run: RunId;
  readonly status: 'succeeded' | 'failed';
  /** Stage → variant, for every stage of `CompareTable.variantStages`. */
  readonly variants: Readonly<Record<string, string | null>>;
  readonly metrics: Readonly<Record<string, number | null>>;
  readonly rows: { readonly total: number; readonly ok: number; readonly failed: number };
  /** Calls, tokens and cost of the run and every run in its lineage. */
  readonly lineage: RunUsage;
}

export interface CompareTable {
  readonly stage: string;
  readonly variantStages: readonly string[];
  readonly metrics: readonly string[];
  /** The metric rows are sorted by; null when no run reports one to rank by. */
  readonly rankedBy: string | null;
  readonly higherIsBetter: boolean;
  /** Best first (unranked runs last, in plan order). */
  readonly rows: readonly CompareRow[];
  /** Runs of the stage in the current plan that have no usable result. */
  readonly unbuilt: readonly UnbuiltRun[];
  /** True when every row has a lineage cost. */
  readonly hasCost: boolean;
  /** Things the reader should know about the ranking (printed as notes, kept in --json). */
  readonly notes: readonly string[];
}

/** Metric columns shown by default: the same number a build's summary shows. */
const DEFAULT_METRIC_COLUMNS = 6;

/**
 * The compare table of a stage: one row per built run, with the variants of its lineage, its
 * metrics, its rows and what its whole lineage cost, ranked by the primary metric.
 */
export async function compareRuns(
  context: BuildContext,
  built: BuiltRuns,
  options: CompareOptions,
): Promise<Result<CompareTable, Diagnostic[]>> {
  const experiment = context.project.experiment;
  const stageOrder = stageNamesInOrder(experiment);
  const planned = context.graph.runs.filter((run) => run.stage.name === options.stage);
  const runs = planned.flatMap((run) => built.built.get(run.id) ?? []);
  const unbuilt = built.unbuilt.filter((entry) => entry.run.stage.name === options.stage);

  const reported = reportedMetrics(runs.map((entry) => entry.manifest.metrics));
  const notes: string[] = [];

  const asked = options.metrics ?? [];
  const unknown = asked.filter((name) => !reported.includes(name));
  if (unknown.length > 0 && runs.length > 0) {
    return fail(
      unknown.map((name) => ({
        message: `no run of stage "${options.stage}" reports a metric \`${name}\`${didYouMean(name, reported)}`,
        hint:
          reported.length > 0
            ? `metrics of ${options.stage}: ${reported.join(', ')}`
            : `the runs of ${options.stage} report no metrics`,
      })),
    );
  }

  const primary = experiment.primaryMetric;
  let rankedBy: string | null = asked[0] ?? null;
  if (rankedBy === null && primary !== undefined) {
    if (reported.includes(primary)) rankedBy = primary;
    else if (runs.length > 0) {
      notes.push(
        `the runs of ${options.stage} report no \`${primary}\` (compare.metric)` +
          `${didYouMean(primary, reported)}; not ranked` +
          (reported.length > 0 ? `. Metrics: ${listNames(reported)}` : ''),
      );
    }
  } else if (rankedBy === null && reported.length > 0) {
    notes.push('not ranked: set compare.metric in experiment.yaml or pass --metric');
  }

  const metrics =
    asked.length > 0
      ? [...asked]
      : options.allMetrics
        ? ordered(reported, rankedBy)
        : ordered(reported, rankedBy).slice(0, DEFAULT_METRIC_COLUMNS);
  const higherIsBetter =
    options.higherIsBetter ??
    (rankedBy !== null && rankedBy === primary ? (experiment.higherIsBetter ?? true) : true);

  const stages = variantStages(
    runs.map((entry) => entry.run),
    context.graph,
    stageOrder,
  );
  const usage = new UsageReader(context.root);
  const unranked: Omit<CompareRow, 'rank' | 'best'>[] = [];
  for (const { run, manifest } of runs) {
    const lineageUsage: RunUsage[] = [];
    for (const member of lineageOf(context.graph, run, stageOrder)) {
      const memberManifest = built.built.get(member.id)?.manifest;
      if (memberManifest !== undefined) lineageUsage.push(await usage.of(memberManifest));
    }
    unranked.push({
      run: run.id,
      status: manifest.status,
      variants: variantsOf(run, context.graph, stages),
      metrics: Object.fromEntries(metrics.map((name) => [name, manifest.metrics[name] ?? null])),
      rows: {
        total: manifest.rows.total,
        ok: manifest.rows.ok,
        failed: manifest.rows.failed + manifest.rows.skipped,
      },
      lineage: sumUsage(lineageUsage),
    });
  }

  const rows = rank(unranked, rankedBy, higherIsBetter);
  return ok({
    stage: options.stage,
    variantStages: stages,
    metrics,
    rankedBy,
    higherIsBetter,
    rows,
    unbuilt,
    hasCost: rows.length > 0 && rows.every((row) => row.lineage.cost !== undefined),
    notes,
  });
}

/** Sorts best first; equal values share a rank (1, 2, 2, 4); runs without a value come last. */
function rank(
  rows: readonly Omit<CompareRow, 'rank' | 'best'>[],
  metric: string | null,
  higherIsBetter: boolean,
): CompareRow[] {
  const valueOf = (row: Omit<CompareRow, 'rank' | 'best'>) =>
    metric === null ? null : (row.metrics[metric] ?? null);
  const sorted = rows
    .map((row, position) => ({ row, position, value: valueOf(row) }))
    .sort((a, b) => {
      if (a.value === null || b.value === null) {
        return a.value === b.value ? a.position - b.position : a.value === null ? 1 : -1;
      }
      const difference = higherIsBetter ? b.value - a.value : a.value - b.value;
      return difference !== 0 ? difference : a.position - b.position;
    });
  const bestValue = sorted[0]?.value ?? null;
  let previous: { value: number; rank: number } | undefined;
  return sorted.map(({ row, value }, index) => {
    if (value === null) return { rank: null, best: false, ...row };
    const position = previous !== undefined && previous.value === value ? previous.rank : index + 1;
    previous = { value, rank: position };
    return { rank: position, best: value === bestValue, ...row };
  });
}

/** Metric names in the order the runs report them (first run first), each once. */
function reportedMetrics(all: readonly Readonly<Record<string, number>>[]): string[] {
  const names = new Set<string>();
  for (const metrics of all) for (const name of Object.keys(metrics)) names.add(name);
  return [...names];
}

function ordered(names: readonly string[], first: string | null): string[] {
  return first === null ? [...names] : [first, ...names.filter((name) => name !== first)];
}
