/**
 * Confusion counts and the metrics derived from them, as the keyword-correctness scoring rules
 * define them. "Correct" keywords are the positive class: a prediction at or above the threshold
 * says "correct".
 */

/** The thresholds every row is scored at: 0.1, 0.2, …, 1.0. */
export const THRESHOLDS: readonly number[] = Array.from({ length: 10 }, (_, i) => (i + 1) / 10);

/** The threshold the headline metrics are reported at. */
export const DEFAULT_THRESHOLD = 0.8;

export interface ConfusionCounts {
  /** Labelled correct, predicted correct. */
  readonly tp: number;
  /** Labelled incorrect, predicted incorrect. */
  readonly tn: number;
  /** Labelled incorrect, predicted correct. */
  readonly fp: number;
  /** Labelled correct, predicted incorrect. */
  readonly fn: number;
}

/** In the order they are reported: catching incorrect keywords is the goal. */
export interface Metrics {
  readonly recall_incorrect: number;
  readonly precision_incorrect: number;
  readonly f1_incorrect: number;
  readonly accuracy: number;
  readonly recall_correct: number;
  readonly precision_correct: number;
  readonly f1_correct: number;
}

/** One labelled keyword with the model's normalised prediction in [0, 1]. */
export interface ScoredKeyword {
  readonly correct: boolean;
  readonly prediction: number;
}

export const NO_COUNTS: ConfusionCounts = { tp: 0, tn: 0, fp: 0, fn: 0 };

export function countAt(keywords: readonly ScoredKeyword[], threshold: number): ConfusionCounts {
  let tp = 0;
  let tn = 0;
  let fp = 0;
  let fn = 0;
  for (const { correct, prediction } of keywords) {
    const predictedCorrect = prediction >= threshold;
    if (correct && predictedCorrect) tp += 1;
    else if (correct) fn += 1;
    else if (predictedCorrect) fp += 1;
    else tn += 1;
  }
  return { tp, tn, fp, fn };
}

export function addCounts(a: ConfusionCounts, b: ConfusionCounts): ConfusionCounts {
  return { tp: a.tp + b.tp, tn: a.tn + b.tn, fp: a.fp + b.fp, fn: a.fn + b.fn };
}

/** A ratio whose denominator is 0 is 1.0 (nothing to get wrong). */
export function ratio(numerator: number, denominator: number): number {
  return denominator === 0 ? 1 : numerator / denominator;
}

/** An F1 whose precision·recall is 0 is 0.0 (this also avoids 0/0). */
export function f1(precision: number, recall: number): number {
  return precision * recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
}

export function metricsFrom({ tp, tn, fp, fn }: ConfusionCounts): Metrics {
  const recallCorrect = ratio(tp, tp + fn);
  const recallIncorrect = ratio(tn, tn + fp);
  const precisionCorrect = ratio(tp, tp + fp);
  const precisionIncorrect = ratio(tn, tn + fn);
  return {
    recall_incorrect: recallIncorrect,
    precision_incorrect: precisionIncorrect,
    f1_incorrect: f1(precisionIncorrect, recallIncorrect),
    accuracy: ratio(tp + tn, tp + tn + fp + fn),
    recall_correct: recallCorrect,
    precision_correct: precisionCorrect,
    f1_correct: f1(precisionCorrect, recallCorrect),
  };
}

/**
 * What the best threshold maximises: recall of incorrect keywords minus the share of correct
 * keywords wrongly flagged, FN/(FN+TP). Catching wrong keywords is the goal, but not at the
 * price of flagging everything.
 */
export function thresholdScore(counts: ConfusionCounts): number {
  return metricsFrom(counts).recall_incorrect - ratio(counts.fn, counts.fn + counts.tp);
}

/** The mean of each metric over a non-empty list of per-row metrics. */
export function meanMetrics(rows: readonly Metrics[]): Metrics {
  const mean = (name: keyof Metrics): number =>
    rows.reduce((sum, row) => sum + row[name], 0) / rows.length;
  return {
    recall_incorrect: mean('recall_incorrect'),
    precision_incorrect: mean('precision_incorrect'),
    f1_incorrect: mean('f1_incorrect'),
    accuracy: mean('accuracy'),
    recall_correct: mean('recall_correct'),
    precision_correct: mean('precision_correct'),
    f1_correct: mean('f1_correct'),
  };
}

/** "0.1" … "1.0": thresholds as object keys that read the same in every language. */
export function thresholdKey(threshold: number): string {
  return threshold.toFixed(1);
}
