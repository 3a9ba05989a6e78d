/**
 * Aggregates a run's row scores into its metrics (the `aggregate` node; its return value is the
 * run's metrics.json). Headline numbers sit at the top level: micro metrics at the default
 * threshold and the error counts. Macro metrics, the best threshold and every threshold's
 * metrics are nested.
 */
import {
  DEFAULT_THRESHOLD,
  NO_COUNTS,
  THRESHOLDS,
  addCounts,
  meanMetrics,
  metricsFrom,
  thresholdKey,
  thresholdScore,
  type ConfusionCounts,
  type Metrics,
} from './metrics.ts';
import type { RowScore, ThresholdCounts } from './score-row.ts';

/** Metrics at one threshold; null when no row of the run could be scored. */
export interface ThresholdMetrics {
  readonly threshold: number;
  /** recall_incorrect − FN/(FN+TP) over the micro counts: what the best threshold maximises. */
  readonly score: number | null;
  readonly counts: ConfusionCounts;
  readonly micro: Metrics | null;
  readonly macro: Metrics | null;
}

type NullableMetrics = { readonly [K in keyof Metrics]: number | null };

export interface RunMetrics extends NullableMetrics {
  /** The threshold the top-level metrics are computed at. */
  readonly threshold: number;
  readonly rows: number;
  readonly rows_scored: number;
  readonly labelled_keywords: number;
  readonly big_parse_errors: number;
  readonly big_parse_error_ratio: number;
  readonly rows_with_small_parse_errors: number;
  readonly rows_with_small_parse_errors_ratio: number;
  readonly small_parse_errors: number;
  readonly small_parse_error_ratio: number;
  /** Micro confusion counts at the default threshold. */
  readonly counts: ConfusionCounts;
  /** Mean of the per-row metrics at the default threshold. */
  readonly macro: Metrics | null;
  readonly best_threshold: ThresholdMetrics | null;
  /** Keyed "0.1" … "1.0". */
  readonly thresholds: { readonly [threshold: string]: ThresholdMetrics };
}

export function aggregate({ scores }: { readonly scores: readonly unknown[] }): RunMetrics {
  const rows = scores.map(asRowScore);
  const scored = rows.filter((row) => row.status === 'scored');

  const labelledKeywords = sum(rows.map((row) => row.labelled_keywords));
  const bigErrors = rows.filter((row) => row.status === 'big_parse_error').length;
  const smallErrorRows = rows.filter((row) => row.status === 'small_parse_error').length;
  const smallErrors = sum(rows.map((row) => row.small_parse_errors));

  const thresholds = THRESHOLDS.map((threshold) => metricsAt(scored, threshold));
  const byKey = Object.fromEntries(thresholds.map((t) => [thresholdKey(t.threshold), t]));
  const atDefault = metricsAt(scored, DEFAULT_THRESHOLD);

  return {
    ...(atDefault.micro ?? nullMetrics()),
    threshold: DEFAULT_THRESHOLD,
    rows: rows.length,
    rows_scored: scored.length,
    labelled_keywords: labelledKeywords,
    big_parse_errors: bigErrors,
    big_parse_error_ratio: errorRatio(bigErrors, rows.length),
    rows_with_small_parse_errors: smallErrorRows,
    rows_with_small_parse_errors_ratio: errorRatio(smallErrorRows, rows.length),
    small_parse_errors: smallErrors,
    small_parse_error_ratio: errorRatio(smallErrors, labelledKeywords),
    counts: atDefault.counts,
    macro: atDefault.macro,
    best_threshold: bestThreshold(thresholds),
    thresholds: byKey,
  };
}

/**
 * Micro metrics come from the counts summed over scored rows, macro metrics are the mean of
 * each row's metrics. With no scored row there is nothing to measure: the metrics are null
 * rather than the 1.0 that the empty ratios would give, so a run whose every answer failed to
 * parse can never rank first.
 */
function metricsAt(scored: readonly RowScore[], threshold: number): ThresholdMetrics {
  const perRow = scored.map((row) => countsAt(row, threshold));
  const counts = perRow.reduce(addCounts, NO_COUNTS);
  if (scored.length === 0) return { threshold, score: null, counts, micro: null, macro: null };

  return {
    threshold,
    score: thresholdScore(counts),
    counts,
    micro: metricsFrom(counts),
    macro: meanMetrics(perRow.map(metricsFrom)),
  };
}

/**
 * The threshold with the highest score; on a tie the lower threshold wins. Scores that differ
 * only by rounding (1 − 1/3 and 2/3) are a tie.
 */
function bestThreshold(thresholds: readonly ThresholdMetrics[]): ThresholdMetrics | null {
  let best: ThresholdMetrics | null = null;
  for (const candidate of thresholds) {
    if (candidate.score === null) continue;
    if (best === null || best.score === null || candidate.score > best.score + TIE) {
      best = candidate;
    }
  }
  return best;
}

const TIE = 1e-9;

function countsAt(row: RowScore, threshold: number): ConfusionCounts {
  const found = row.counts?.find((counts: ThresholdCounts) => counts.threshold === threshold);
  if (found === undefined) {
    throw new Error(`internal error: a scored row has no counts at threshold ${threshold}`);
  }
  const { tp, tn, fp, fn } = found;
  return { tp, tn, fp, fn };
}

/** Error ratios of an empty run are 0: no row, no error. */
function errorRatio(count: number, total: number): number {
  return total === 0 ? 0 : count / total;
}

function nullMetrics(): NullableMetrics {
  return {
    recall_incorrect: null,
    precision_incorrect: null,
    f1_incorrect: null,
    accuracy: null,
    recall_correct: null,
    precision_correct: null,
    f1_correct: null,
  };
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

/** Rows arrive as stored JSON; anything that is not a score_row output is a wiring mistake. */
function asRowScore(value: unknown): RowScore {
  const row = value as Partial<RowScore> | null;
  const valid =
    typeof row === 'object' &&
    row !== null &&
    (row.status === 'scored' ||
      row.status === 'big_parse_error' ||
      row.status === 'small_parse_error') &&
    typeof row.labelled_keywords === 'number' &&
    typeof row.small_parse_errors === 'number' &&
    (row.status !== 'scored' || Array.isArray(row.counts));
  if (!valid) {
    throw new Error(`aggregate expects score_row outputs, got ${JSON.stringify(value)}`);
  }
  return value as RowScore;
}
