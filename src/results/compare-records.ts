import type { CompareTable } from './compare-runs.js';

/** A compare table as flat records: what `--csv` writes and `--json` lists under `runs`. */
export interface CompareRecords {
  readonly columns: readonly string[];
  readonly records: readonly Readonly<Record<string, string | number | boolean | null>>[];
}

const BEFORE = ['rank', 'best', 'run'] as const;
const AFTER = [
  'status',
  'rows',
  'rows_ok',
  'rows_failed',
  'calls',
  'prompt_tokens',
  'completion_tokens',
  'tokens',
] as const;

/**
 * Flattens the table: one column per variant stage and per metric between the fixed columns.
 * A metric whose name is taken by another column is written `metric:<name>`.
 */
export function compareRecords(table: CompareTable): CompareRecords {
  const fixed = new Set<string>([...BEFORE, ...AFTER, 'cost', 'currency', ...table.variantStages]);
  const metricColumn = (name: string) => (fixed.has(name) ? `metric:${name}` : name);
  const columns = [
    ...BEFORE,
    ...table.variantStages,
    ...table.metrics.map(metricColumn),
    ...AFTER,
    ...(table.hasCost ? ['cost', 'currency'] : []),
  ];

  const records = table.rows.map((row) => {
    const record: Record<string, string | number | boolean | null> = {
      rank: row.rank,
      best: row.best,
      run: row.run,
    };
    for (const stage of table.variantStages) record[stage] = row.variants[stage] ?? null;
    for (const name of table.metrics) record[metricColumn(name)] = row.metrics[name] ?? null;
    Object.assign(record, {
      status: row.status,
      rows: row.rows.total,
      rows_ok: row.rows.ok,
      rows_failed: row.rows.failed,
      calls: row.lineage.calls,
      prompt_tokens: row.lineage.tokens.prompt,
      completion_tokens: row.lineage.tokens.completion,
      tokens: row.lineage.tokens.total,
    });
    if (table.hasCost) {
      record['cost'] = row.lineage.cost?.amount ?? null;
      record['currency'] = row.lineage.cost?.currency ?? null;
    }
    return record;
  });
  return { columns, records };
}
