import type { JsonObject } from '../config/types.js';
import type { BuildContext } from '../execute/build-context.js';
import type { RunId } from '../plan/run-id.js';
import type { BuiltRuns } from '../results/built-runs.js';
import { compareRecords, type CompareRecords } from '../results/compare-records.js';
import type { CompareTable } from '../results/compare-runs.js';
import { lineageOf, stageNamesInOrder } from '../results/lineage.js';
import { readRunMetrics, readRunOutputs } from '../results/run-files.js';
import { UsageReader, type RunUsage } from '../results/run-usage.js';
import { thresholdSeries } from '../results/threshold-series.js';

/** A run as the report's graph draws it. */
export interface GraphRun {
  readonly id: RunId;
  readonly stage: string;
  readonly variant: string | null;
  readonly upstream: readonly RunId[];
  readonly state: 'succeeded' | 'failed' | 'missing' | 'stale';
}

/** One built run with what producing it took (its own usage, not its lineage's). */
export interface CostRow {
  readonly id: RunId;
  readonly stage: string;
  readonly variant: string | null;
  readonly status: 'succeeded' | 'failed';
  readonly rows: number;
  readonly rowsFailed: number;
  readonly usage: RunUsage;
  readonly durationMs: number;
}

/** A lineage of the compared stage: its last run, a short label and every run in it. */
export interface Lineage {
  readonly run: RunId;
  readonly label: string;
  readonly rank: number | null;
  readonly best: boolean;
  /** Stage → run id, upstream first. */
  readonly members: Readonly<Record<string, RunId>>;
  /** The ranking metric's value. */
  readonly value: number | null;
  /** Threshold metric path → points; empty when the run reports none. */
  readonly thresholds: Readonly<Record<string, readonly (readonly [number, number])[]>>;
  readonly threshold?: number;
}

/** A row's result in one run: its outputs, or why it has none. */
export type RowCell =
  | { readonly status: 'ok'; readonly outputs: Record<string, unknown> }
  | { readonly status: 'failed' | 'skipped'; readonly error: string };

/** Everything the report shows, as plain data; the HTML is drawn from it. */
export interface ReportData {
  readonly experiment: string;
  readonly generatedAt: string;
  readonly stages: readonly string[];
  readonly graph: readonly GraphRun[];
  readonly compare: CompareTable;
  readonly records: CompareRecords;
  readonly lineages: readonly Lineage[];
  readonly costs: readonly CostRow[];
  readonly rows: {
    readonly keys: readonly { readonly key: string; readonly index: number }[];
    readonly data: Readonly<Record<string, JsonObject>>;
    /** Run id → row key → cell, for every run of a lineage. */
    readonly cells: Readonly<Record<string, Readonly<Record<string, RowCell>>>>;
  };
}

/** Gathers the report's data from the plan, the built runs and the compare table. */
export async function collectReportData(
  context: BuildContext,
  built: BuiltRuns,
  compare: CompareTable,
): Promise<ReportData> {
  const experiment = context.project.experiment;
  const stageOrder = stageNamesInOrder(experiment);
  const unbuilt = new Map(built.unbuilt.map((entry) => [entry.run.id, entry.state]));

  const graph: GraphRun[] = context.graph.runs.map((run) => ({
    id: run.id,
    stage: run.stage.name,
    variant: run.variant?.id ?? null,
    upstream: run.upstream,
    state: built.built.get(run.id)?.manifest.status ?? unbuilt.get(run.id) ?? 'missing',
  }));

  const usage = new UsageReader(context.root);
  const costs: CostRow[] = [];
  for (const { run, manifest } of built.built.values()) {
    costs.push({
      id: run.id,
      stage: run.stage.name,
      variant: run.variant?.id ?? null,
      status: manifest.status,
      rows: manifest.rows.total,
      rowsFailed: manifest.rows.failed + manifest.rows.skipped,
      usage: await usage.of(manifest),
      durationMs: manifest.durationMs,
    });
  }

  const lineages: Lineage[] = [];
  for (const row of compare.rows) {
    const run = context.graph.get(row.run);
    const members: Record<string, RunId> = {};
    for (const member of lineageOf(context.graph, run, stageOrder)) {
      members[member.stage.name] = member.id;
    }
    const series = thresholdSeries(await readRunMetrics(context.root, row.run));
    const label = compare.variantStages.map((stage) => row.variants[stage] ?? '-').join(' · ');
    lineages.push({
      run: row.run,
      label: label || row.run,
      rank: row.rank,
      best: row.best,
      members,
      value: compare.rankedBy === null ? null : (row.metrics[compare.rankedBy] ?? null),
      thresholds: series ? Object.fromEntries(series.series) : {},
      ...(series?.threshold !== undefined ? { threshold: series.threshold } : {}),
    });
  }

  // NOTE: every row of every run of the compared lineages goes into the page, so the report
  // grows with rows × runs; a very large experiment wants paging or a sample here.
  const cells: Record<string, Record<string, RowCell>> = {};
  const keys = new Map<string, number>();
  for (const id of new Set(lineages.flatMap((lineage) => Object.values(lineage.members)))) {
    const byKey: Record<string, RowCell> = {};
    for (const line of await readRunOutputs(context.root, id)) {
      if (!keys.has(line.key)) keys.set(line.key, line.index);
      byKey[line.key] =
        line.status === 'ok'
          ? { status: 'ok', outputs: line.outputs }
          : { status: line.status, error: line.error };
    }
    cells[id] = byKey;
  }

  const data: Record<string, JsonObject> = {};
  const datasets = new Set(lineages.map((lineage) => context.graph.get(lineage.run).dataset));
  for (const name of datasets) {
    const dataset = await context.dataset(name);
    if (!dataset.ok) continue;
    for (const row of dataset.value.rows) if (keys.has(row.key)) data[row.key] = row.data;
  }

  return {
    experiment: experiment.name,
    generatedAt: new Date().toISOString(),
    stages: stageOrder,
    graph,
    compare,
    records: compareRecords(compare),
    lineages,
    costs,
    rows: {
      keys: [...keys.entries()]
        .map(([key, index]) => ({ key, index }))
        .sort((a, b) => a.index - b.index),
      data,
      cells,
    },
  };
}
