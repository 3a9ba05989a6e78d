import { closestMatch } from '../config/did-you-mean.js';
import type { JsonObject } from '../config/types.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { followPath } from '../flow/references.js';
import { fail, ok, type Result } from '../util/result.js';

/** How a command names one row: by key or index (`--row`), or by a data column (`--where`). */
export type RowSelector =
  | { readonly kind: 'row'; readonly value: string }
  | { readonly kind: 'where'; readonly column: string; readonly value: string };

/** A row of a run, with its dataset values when the dataset could be read. */
export interface RowRef {
  readonly key: string;
  readonly index: number;
  readonly data: JsonObject | null;
}

export interface FoundRow {
  readonly row: RowRef;
  /** How many rows matched a `--where` (the first is shown). */
  readonly matches: number;
}

/** Parses `col=value`; undefined when there is no `=`. */
export function parseWhere(text: string): RowSelector | undefined {
  const at = text.indexOf('=');
  if (at <= 0) return undefined;
  return { kind: 'where', column: text.slice(0, at).trim(), value: text.slice(at + 1) };
}

/**
 * Finds the row a selector names among a run's rows. `--row` matches a row key first, then a
 * 0-based index (as `index` in outputs.jsonl). `--where col=value` matches a dataset column,
 * compared as text (`a.b` follows nested values, `images.0` indexes a list).
 */
export function findRow(
  selector: RowSelector,
  rows: readonly RowRef[],
): Result<FoundRow, Diagnostic[]> {
  if (selector.kind === 'row') {
    const byKey = rows.find((row) => row.key === selector.value);
    if (byKey !== undefined) return ok({ row: byKey, matches: 1 });
    const index = Number(selector.value);
    const byIndex = Number.isInteger(index) ? rows.find((row) => row.index === index) : undefined;
    if (byIndex !== undefined) return ok({ row: byIndex, matches: 1 });
    const suggestion = closestMatch(
      selector.value,
      rows.map((row) => row.key),
    );
    return fail([
      {
        message: `the run has no row with key or index "${selector.value}"${suggestion ? `; did you mean \`${suggestion}\`?` : ''}`,
        hint:
          rows.length > 0
            ? `rows: keys such as ${rows
                .slice(0, 3)
                .map((row) => row.key)
                .join(', ')}, or indexes 0 to ${rows.length - 1}`
            : 'the run has no rows',
      },
    ]);
  }

  const path = selector.column.split('.');
  const withColumn = rows.filter((row) => followPath(row.data, path) !== undefined);
  if (withColumn.length === 0) {
    const columns = [...new Set(rows.flatMap((row) => Object.keys(row.data ?? {})))];
    const suggestion = closestMatch(path[0] ?? '', columns);
    return fail([
      {
        message: `no row has a data column \`${selector.column}\`${suggestion ? `; did you mean \`${suggestion}\`?` : ''}`,
        hint:
          columns.length > 0
            ? `columns: ${columns.join(', ')}`
            : "the run's dataset could not be read",
      },
    ]);
  }
  const matching = withColumn.filter((row) => sameText(followPath(row.data, path), selector.value));
  const first = matching[0];
  if (first === undefined) {
    return fail([
      {
        message: `no row has ${selector.column} = "${selector.value}"`,
        hint: `values such as ${withColumn
          .slice(0, 3)
          .map((row) => JSON.stringify(asText(followPath(row.data, path))))
          .join(', ')}`,
      },
    ]);
  }
  return ok({ row: first, matches: matching.length });
}

function sameText(value: unknown, wanted: string): boolean {
  return asText(value) === wanted;
}

function asText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
