import { compareRecords } from '../../results/compare-records.js';
import { compareRuns } from '../../results/compare-runs.js';
import { selectStage } from '../../results/lineage.js';
import { csvRecord } from '../../util/csv.js';
import { EXIT_OK, EXIT_USAGE, reportDiagnostics, useColor, type GlobalOptions } from '../load.js';
import { compareTableLines } from '../render/compare-table.js';
import { styles } from '../render/format.js';
import { loadResults } from './load-results.js';

export interface CompareCommandOptions extends GlobalOptions {
  readonly metric?: readonly string[];
  readonly allMetrics: boolean;
  readonly better?: 'higher' | 'lower';
  readonly json: boolean;
  readonly csv: boolean;
}

/** `kwgraph compare [stage]`: the built runs of a stage side by side, best first. */
export async function compareCommand(
  stageName: string | undefined,
  options: CompareCommandOptions,
): Promise<number> {
  const loaded = await loadResults(options);
  if (loaded === undefined) return EXIT_USAGE;
  const root = loaded.project.experiment.root;

  const stage = selectStage(loaded.project.experiment, stageName);
  if (!stage.ok) {
    reportDiagnostics(root, stage.error);
    return EXIT_USAGE;
  }
  const metrics = (options.metric ?? []).flatMap((value) =>
    value
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name !== ''),
  );
  const table = await compareRuns(loaded.context, loaded.built, {
    stage: stage.value,
    ...(metrics.length > 0 ? { metrics } : {}),
    allMetrics: options.allMetrics,
    ...(options.better ? { higherIsBetter: options.better === 'higher' } : {}),
  });
  if (!table.ok) {
    reportDiagnostics(root, table.error);
    return EXIT_USAGE;
  }

  if (!options.json && !options.csv) {
    const lines = compareTableLines(table.value, useColor(process.stdout));
    process.stdout.write(`${lines.join('\n')}\n`);
    return EXIT_OK;
  }

  const { columns, records } = compareRecords(table.value);
  if (options.json) {
    const { stage: compared, rankedBy, higherIsBetter, notes } = table.value;
    const unbuilt = table.value.unbuilt.map((entry) => ({
      run: entry.run.id,
      state: entry.state,
      reasons: entry.reasons,
    }));
    process.stdout.write(
      `${JSON.stringify({ stage: compared, rankedBy, higherIsBetter, columns, runs: records, unbuilt, notes }, null, 2)}\n`,
    );
  } else {
    process.stdout.write(csvRecord(columns));
    for (const record of records) process.stdout.write(csvRecord(columns.map((c) => record[c])));
  }
  // Machine-readable output stays on stdout; what a person should know goes to stderr.
  const style = styles(useColor(process.stderr));
  for (const note of table.value.notes) process.stderr.write(`${style.yellow('note:')} ${note}\n`);
  for (const entry of table.value.unbuilt) {
    process.stderr.write(
      `${style.yellow(`not shown (${entry.state}):`)} ${entry.run.id}  ${style.dim(entry.reasons.join('; '))}\n`,
    );
  }
  return EXIT_OK;
}
