import type { CompareTable } from '../../results/compare-runs.js';
import { formatMetric, plural, styles } from './format.js';
import { textTable, type TextColumn } from './text-table.js';

/** The compare table as terminal lines: the best run marked ★, then what is left out and why. */
export function compareTableLines(table: CompareTable, color: boolean): string[] {
  const style = styles(color);
  const lines: string[] = [];
  if (table.rows.length === 0) {
    lines.push(`No built run of ${table.stage}.`);
  } else {
    lines.push(
      table.rankedBy === null
        ? `Runs of ${table.stage}`
        : `Runs of ${table.stage}, best first by ${table.rankedBy} (${table.higherIsBetter ? 'higher' : 'lower'} is better)`,
      '',
    );
    // A metric named like one of the table's own columns (a `rows` metric) is told apart.
    const own = new Set(['#', 'rows', 'failed', 'calls', 'tokens', 'cost', 'run']);
    const metricTitle = (name: string) =>
      own.has(name) || table.variantStages.includes(name) ? `metric:${name}` : name;
    const columns: TextColumn[] = [
      { title: '#', align: 'right' },
      ...table.variantStages.map((stage) => ({ title: stage })),
      ...table.metrics.map((name) => ({ title: metricTitle(name), align: 'right' as const })),
      { title: 'rows', align: 'right' },
      { title: 'failed', align: 'right' },
      { title: 'calls', align: 'right' },
      { title: 'tokens', align: 'right' },
      ...(table.hasCost ? [{ title: 'cost', align: 'right' as const }] : []),
      { title: 'run' },
    ];
    const rows = table.rows.map((row) => [
      row.best ? '★' : row.rank === null ? '-' : String(row.rank),
      ...table.variantStages.map((stage) => row.variants[stage] ?? '-'),
      ...table.metrics.map((name) => {
        const value = row.metrics[name];
        return value === null || value === undefined ? '-' : formatMetric(value);
      }),
      row.rows.total.toLocaleString('en-US'),
      row.rows.failed.toLocaleString('en-US'),
      row.lineage.calls.toLocaleString('en-US'),
      row.lineage.tokens.total.toLocaleString('en-US'),
      ...(table.hasCost ? [formatCost(row.lineage.cost)] : []),
      row.run,
    ]);
    lines.push(
      ...textTable(columns, rows, (line, index) =>
        table.rows[index]?.best ? style.green(line) : line,
      ),
    );
    lines.push('', style.dim('calls, tokens and cost are of the whole lineage of each run'));
  }

  for (const note of table.notes) lines.push(`${style.yellow('note:')} ${note}`);
  if (table.unbuilt.length > 0) {
    lines.push(
      '',
      `${plural(table.unbuilt.length, 'run')} of ${table.stage} not shown (\`kwgraph build ${table.stage}\` builds them):`,
    );
    for (const entry of table.unbuilt) {
      lines.push(
        `  ${style.yellow(entry.state.padEnd(7))}  ${entry.run.id}  ${style.dim(entry.reasons.join('; '))}`,
      );
    }
  }
  return lines;
}

export function formatCost(cost: { amount: number; currency: string } | undefined): string {
  if (cost === undefined) return '-';
  const digits = cost.amount !== 0 && Math.abs(cost.amount) < 1 ? 4 : 2;
  return `${cost.amount.toFixed(digits)} ${cost.currency}`;
}
