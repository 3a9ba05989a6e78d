import type { JsonObject } from '../config/types.js';
import type { BuildContext } from '../execute/build-context.js';
import type { PlannedRun } from '../plan/planned-run.js';
import type { RunId } from '../plan/run-id.js';
import type { OutputLine } from '../runs/run-manifest.js';
import type { BuiltRuns, UnbuiltRun } from './built-runs.js';
import { lineageOf, stageNamesInOrder } from './lineage.js';
import { readRunOutputs } from './run-files.js';

/** A flat record: column → value (lists and objects kept as they are). */
export type ExportRecord = Readonly<Record<string, unknown>>;

export interface ExportedRows {
  readonly columns: readonly string[];
  /** One record per (row, lineage): run by run in plan order, rows in input order. */
  readonly records: AsyncIterable<ExportRecord>;
  /** Runs of the stage in the current plan that have no usable result. */
  readonly unbuilt: readonly UnbuiltRun[];
  readonly runs: number;
}

/**
 * Every row of every built run of a stage, merged with the same row of each run in its
 * lineage: `run`, `key`, `index`, the dataset columns as `data.<column>`, then per stage of the
 * lineage (upstream first) `<stage>.run`, `<stage>.variant`, `<stage>.status`, `<stage>.error`
 * and each flow output as `<stage>.<output>`.
 */
export async function exportRows(
  context: BuildContext,
  built: BuiltRuns,
  stage: string,
): Promise<ExportedRows> {
  const stageOrder = stageNamesInOrder(context.project.experiment);
  const runs = context.graph.runs.filter(
    (run) => run.stage.name === stage && built.built.has(run.id),
  );
  const unbuilt = built.unbuilt.filter((entry) => entry.run.stage.name === stage);

  const lineages = runs.map((run) => lineageOf(context.graph, run, stageOrder));
  const stages = stageOrder.filter((name) =>
    lineages.some((lineage) => lineage.some((member) => member.stage.name === name)),
  );
  const outputNames = new Map<string, string[]>();
  for (const member of lineages.flat()) {
    outputNames.set(member.stage.name, Object.keys(member.flow.outputs));
  }

  const data = new Map<string, Map<string, JsonObject>>();
  const dataColumns: string[] = [];
  for (const name of new Set(runs.map((run) => run.dataset))) {
    const dataset = await context.dataset(name);
    const rows = new Map<string, JsonObject>();
    if (dataset.ok) {
      for (const row of dataset.value.rows) {
        rows.set(row.key, row.data);
        for (const column of Object.keys(row.data)) {
          if (!dataColumns.includes(column)) dataColumns.push(column);
        }
      }
    }
    data.set(name, rows);
  }

  const columns = [
    'run',
    'key',
    'index',
    ...dataColumns.map((column) => `data.${column}`),
    ...stages.flatMap((name) => [
      `${name}.run`,
      `${name}.variant`,
      `${name}.status`,
      `${name}.error`,
      ...(outputNames.get(name) ?? []).map((output) => `${name}.${output}`),
    ]),
  ];

  const root = context.root;
  async function* records(): AsyncGenerator<ExportRecord> {
    // Upstream runs are shared by several lineages (one describe run feeds three validate
    // runs); each is read once, and dropped when no later lineage needs it.
    const outputs = new Map<RunId, Map<string, OutputLine>>();
    for (const [position, lineage] of lineages.entries()) {
      const run = runs[position];
      if (run === undefined) continue;
      const byRun = new Map<RunId, Map<string, OutputLine>>();
      for (const member of lineage) byRun.set(member.id, await outputsOf(member.id));
      const rows = data.get(run.dataset) ?? new Map<string, JsonObject>();

      for (const line of (byRun.get(run.id) ?? new Map<string, OutputLine>()).values()) {
        const record: Record<string, unknown> = { run: run.id, key: line.key, index: line.index };
        const row = rows.get(line.key);
        for (const column of dataColumns) record[`data.${column}`] = row?.[column] ?? null;
        for (const member of lineage) {
          Object.assign(record, stageColumns(member, byRun.get(member.id)?.get(line.key)));
        }
        yield record;
      }
      const needed = new Set(
        lineages.slice(position + 1).flatMap((later) => later.map((m) => m.id)),
      );
      for (const id of outputs.keys()) if (!needed.has(id)) outputs.delete(id);
    }

    async function outputsOf(id: RunId): Promise<Map<string, OutputLine>> {
      let lines = outputs.get(id);
      if (lines === undefined) {
        lines = new Map((await readRunOutputs(root, id)).map((line) => [line.key, line]));
        outputs.set(id, lines);
      }
      return lines;
    }
  }

  return { columns, records: records(), unbuilt, runs: runs.length };

  function stageColumns(member: PlannedRun, line: OutputLine | undefined): Record<string, unknown> {
    const name = member.stage.name;
    const values: Record<string, unknown> = {
      [`${name}.run`]: member.id,
      [`${name}.variant`]: member.variant?.id ?? null,
      [`${name}.status`]: line?.status ?? 'missing',
      [`${name}.error`]: line !== undefined && line.status !== 'ok' ? line.error : null,
    };
    for (const output of outputNames.get(name) ?? []) {
      values[`${name}.${output}`] = line?.status === 'ok' ? (line.outputs[output] ?? null) : null;
    }
    return values;
  }
}
