/**
 * Scores one validate answer against the row's labelled keywords (the `score_row` node).
 *
 * A row is scored only when the answer parses, names exactly the labelled keywords and gives a
 * usable result for each; otherwise it is a big or small parse error and the aggregate counts
 * it but leaves it out of the metrics.
 */
import {
  DEFAULT_THRESHOLD,
  THRESHOLDS,
  countAt,
  metricsFrom,
  type ConfusionCounts,
  type Metrics,
  type ScoredKeyword,
} from './metrics.ts';
import { normaliseKeyword, normaliseResult, parseAnswer } from './parse-answer.ts';

export type RowStatus = 'scored' | 'big_parse_error' | 'small_parse_error';

export interface KeywordScore {
  readonly keyword: string;
  readonly label: 'correct' | 'incorrect';
  /** The model's confidence that the keyword is correct, in [0, 1]. */
  readonly prediction: number;
}

export interface ThresholdCounts extends ConfusionCounts {
  readonly threshold: number;
}

/** The output of `score_row`, one per row; `aggregate` receives the list of them. */
export interface RowScore {
  readonly status: RowStatus;
  /** How many keywords the row has labels for. */
  readonly labelled_keywords: number;
  /** Predictions with a missing keyword or an unusable result (0 after a big parse error). */
  readonly small_parse_errors: number;
  /** Why the row was not scored: one message for a big error, one per small error. */
  readonly errors: readonly string[];
  /** Only for scored rows, in label order. */
  readonly keywords: readonly KeywordScore[] | null;
  /** Confusion counts at every threshold, only for scored rows. */
  readonly counts: readonly ThresholdCounts[] | null;
  /** Metrics at the default threshold, only for scored rows (for reading outputs.jsonl). */
  readonly metrics: Metrics | null;
}

export interface ScoreRowInputs {
  readonly answer: unknown;
  /** `{keyword: "correct" | "incorrect"}`, in the order the keywords were labelled. */
  readonly labels: unknown;
}

export function scoreRow({ answer, labels }: ScoreRowInputs): RowScore {
  const labelled = readLabels(labels);
  const notScored = (status: RowStatus, errors: string[], small: number): RowScore => ({
    status,
    labelled_keywords: labelled.length,
    small_parse_errors: small,
    errors,
    keywords: null,
    counts: null,
    metrics: null,
  });

  const parsed = parseAnswer(answer);
  if (!parsed.ok) return notScored('big_parse_error', [parsed.error], 0);

  const { predictions } = parsed;
  if (predictions.length !== labelled.length) {
    const message = `${predictions.length} predictions for ${labelled.length} labelled keywords`;
    return notScored('big_parse_error', [message], 0);
  }

  // Predictions are matched to labels by keyword, not position: order does not matter, but
  // every labelled keyword must be answered exactly once.
  const unmatched = new Map<string, number[]>();
  for (const [index, { keyword }] of labelled.entries()) {
    const key = normaliseKeyword(keyword);
    unmatched.set(key, [...(unmatched.get(key) ?? []), index]);
  }

  const values: (number | undefined)[] = labelled.map(() => undefined);
  const smallErrors: string[] = [];
  for (const [position, prediction] of predictions.entries()) {
    if (typeof prediction.keyword !== 'string') {
      smallErrors.push(`prediction ${position + 1} has no keyword`);
      continue;
    }

    const labelIndex = unmatched.get(normaliseKeyword(prediction.keyword))?.shift();
    if (labelIndex === undefined) {
      const message = `"${prediction.keyword}" is not a labelled keyword (or is repeated)`;
      return notScored('big_parse_error', [message], 0);
    }

    const result = normaliseResult(prediction.result);
    if (result.ok) values[labelIndex] = result.value;
    else smallErrors.push(`"${prediction.keyword}": ${result.error}`);
  }
  if (smallErrors.length > 0) {
    return notScored('small_parse_error', smallErrors, smallErrors.length);
  }

  const keywords = labelled.map(({ keyword, correct }, index): KeywordScore => {
    const prediction = values[index];
    // Unreachable: as many predictions as labels, each matched once, none failed.
    if (prediction === undefined) throw new Error(`internal error: "${keyword}" has no result`);
    return { keyword, label: correct ? 'correct' : 'incorrect', prediction };
  });
  const scored: ScoredKeyword[] = keywords.map((k) => ({
    correct: k.label === 'correct',
    prediction: k.prediction,
  }));

  return {
    status: 'scored',
    labelled_keywords: labelled.length,
    small_parse_errors: 0,
    errors: [],
    keywords,
    counts: THRESHOLDS.map((threshold) => ({ threshold, ...countAt(scored, threshold) })),
    metrics: metricsFrom(countAt(scored, DEFAULT_THRESHOLD)),
  };
}

interface Label {
  readonly keyword: string;
  readonly correct: boolean;
}

/**
 * Labels come from the dataset, not the model: a malformed one is a data error and fails the
 * row (thrown), rather than being counted as a parse error of the answer.
 */
function readLabels(labels: unknown): Label[] {
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) {
    throw new Error('labels must be an object {keyword: "correct" | "incorrect"}');
  }
  return Object.entries(labels).map(([keyword, label]): Label => {
    if (label !== 'correct' && label !== 'incorrect') {
      throw new Error(`label of "${keyword}" is ${JSON.stringify(label)}, not correct/incorrect`);
    }
    return { keyword, correct: label === 'correct' };
  });
}
