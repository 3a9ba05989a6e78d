import { describe, expect, it } from 'vitest';

import { aggregate } from '../../flows/evaluate/aggregate.ts';
import { metricsFrom } from '../../flows/evaluate/metrics.ts';
import {
  normaliseResult,
  parseAnswer,
  stripFences,
  type RawPrediction,
} from '../../flows/evaluate/parse-answer.ts';
import { scoreRow, type RowScore } from '../../flows/evaluate/score-row.ts';

/** A JSON answer in the shape the validate prompts ask for. */
function jsonAnswer(results: Record<string, unknown>): string {
  const items = Object.entries(results).map(([keyword, result]) => ({
    keyword,
    reason: 'because',
    result,
  }));
  return JSON.stringify(items);
}

function predictions(answer: string): readonly RawPrediction[] {
  const parsed = parseAnswer(answer);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.predictions;
}

function predictionOf(row: RowScore, keyword: string): number | undefined {
  return row.keywords?.find((k) => k.keyword === keyword)?.prediction;
}

const labels = { 'red kurta': 'correct', 'cotton kurta': 'incorrect' } as const;

describe('parsing an answer', () => {
  it('strips markdown fences around JSON', () => {
    expect(stripFences('```json\n[1]\n```')).toBe('[1]');
    const row = scoreRow({
      answer: '```json\n' + jsonAnswer({ 'red kurta': 9, 'cotton kurta': 1 }) + '\n```',
      labels,
    });
    expect(row.status).toBe('scored');
    expect(predictionOf(row, 'red kurta')).toBe(0.9);
  });

  it('reads a lone object as a one-element list', () => {
    const row = scoreRow({
      answer: '{"keyword": "red kurta", "reason": "matches", "result": 8}',
      labels: { 'red kurta': 'correct' },
    });
    expect(row.status).toBe('scored');
    expect(predictionOf(row, 'red kurta')).toBe(0.8);
  });

  it('reads keyword | reason | result lines, with a table header, ruler and pipes in reasons', () => {
    const answer = [
      '| keyword | reason | result |',
      '|---|---|---|',
      '| red kurta | the colour matches | 9 |',
      'cotton kurta | the fabric | is rayon | 0.2',
    ].join('\n');
    const row = scoreRow({ answer, labels });
    expect(row.status).toBe('scored');
    expect(predictionOf(row, 'red kurta')).toBe(0.9);
    expect(predictionOf(row, 'cotton kurta')).toBe(0.2);
  });

  it('matches keywords in any order after collapsing whitespace, but not case', () => {
    const spaced = jsonAnswer({ '  cotton   kurta ': 0, 'red\tkurta': 10 });
    expect(scoreRow({ answer: spaced, labels }).status).toBe('scored');

    const cased = jsonAnswer({ 'Red kurta': 10, 'cotton kurta': 0 });
    expect(scoreRow({ answer: cased, labels }).status).toBe('big_parse_error');
  });

  it('treats prose, invalid JSON and non-text as big parse errors', () => {
    const cases: unknown[] = [
      'Both keywords look fine to me.',
      'Here you go:\n```json\n[{"keyword": "red kurta", "result": 9}]\n```',
      '[{"keyword": "red kurta", "result": 9},]',
      null,
    ];
    for (const answer of cases) {
      const row = scoreRow({ answer, labels });
      expect(row.status, String(answer)).toBe('big_parse_error');
      expect(row.small_parse_errors).toBe(0);
      expect(row.counts).toBeNull();
    }
  });

  it('treats a different number of keywords, an unknown or a repeated one as big errors', () => {
    const tooFew = jsonAnswer({ 'red kurta': 9 });
    const unknown = jsonAnswer({ 'red kurta': 9, 'silk kurta': 1 });
    const repeated = JSON.stringify([
      { keyword: 'red kurta', result: 9 },
      { keyword: 'red kurta', result: 8 },
    ]);
    for (const answer of [tooFew, unknown, repeated]) {
      expect(scoreRow({ answer, labels }).status, answer).toBe('big_parse_error');
    }
  });

  it('counts unusable results and missing fields as small parse errors', () => {
    const answer = JSON.stringify([
      { keyword: 'red kurta', reason: 'x', result: 11 },
      { keyword: 'cotton kurta', reason: 'x' },
    ]);
    const row = scoreRow({ answer, labels });
    expect(row.status).toBe('small_parse_error');
    expect(row.small_parse_errors).toBe(2);
    expect(row.errors).toHaveLength(2);
    expect(row.metrics).toBeNull();

    const noKeyword = JSON.stringify([{ keyword: 'red kurta', result: 9 }, { result: 1 }]);
    expect(scoreRow({ answer: noKeyword, labels })).toMatchObject({
      status: 'small_parse_error',
      small_parse_errors: 1,
    });
  });

  it('reports a big error over small ones in the same answer', () => {
    const answer = JSON.stringify([
      { keyword: 'red kurta', result: 'maybe' },
      { keyword: 'silk kurta', result: 1 },
    ]);
    expect(scoreRow({ answer, labels })).toMatchObject({
      status: 'big_parse_error',
      small_parse_errors: 0,
    });
  });

  it('fails the row (throws) on malformed labels: a data error, not a parse error', () => {
    expect(() => scoreRow({ answer: '[]', labels: { kurta: 'maybe' } })).toThrow(/maybe/);
    expect(() => scoreRow({ answer: '[]', labels: ['kurta'] })).toThrow(/object/);
  });
});

describe('normalising a result', () => {
  const value = (answer: string): unknown => {
    const result = normaliseResult(predictions(answer)[0]?.result);
    return result.ok ? result.value : result.error;
  };

  it('keeps a float in [0, 1] and scales an integer in [0, 10] by 1/10', () => {
    expect(value('[{"keyword": "k", "result": 0.7}]')).toBe(0.7);
    expect(value('[{"keyword": "k", "result": 7}]')).toBe(0.7);
    expect(value('[{"keyword": "k", "result": 0}]')).toBe(0);
    expect(value('[{"keyword": "k", "result": 10}]')).toBe(1);
  });

  it('tells 1.0 (a float: 1.0) from 1 (an integer: 0.1), as written', () => {
    expect(value('[{"keyword": "k", "result": 1.0}]')).toBe(1);
    expect(value('[{"keyword": "k", "result": 1}]')).toBe(0.1);
    expect(value('[{"keyword": "k", "result": 1e0}]')).toBe(1);
    expect(value('[{"keyword": "1.5", "reason": "1.0 sure", "result": 1}]')).toBe(0.1);
    expect(value('k | r | 1.0')).toBe(1);
    expect(value('k | r | 1')).toBe(0.1);
  });

  it('maps "correct"/"incorrect" and booleans to 1/0', () => {
    expect(value('[{"keyword": "k", "result": "correct"}]')).toBe(1);
    expect(value('[{"keyword": "k", "result": "incorrect"}]')).toBe(0);
    expect(value('[{"keyword": "k", "result": true}]')).toBe(1);
    expect(value('[{"keyword": "k", "result": false}]')).toBe(0);
    expect(value('k | r | Correct')).toBe(1);
    expect(value('k | r | false')).toBe(0);
  });

  it('rejects anything else', () => {
    const rejected = ['1.5', '-1', '11', '"8"', '"yes"', 'null', '[1]', '{"score": 1}'];
    for (const result of rejected) {
      const normalised = normaliseResult(
        predictions(`[{"keyword": "k", "result": ${result}}]`)[0]?.result,
      );
      expect(normalised.ok, result).toBe(false);
    }
    expect(normaliseResult(undefined).ok).toBe(false);
  });
});

describe('scoring a row', () => {
  it('counts a prediction at the threshold as correct and scores every threshold', () => {
    const row = scoreRow({
      answer: jsonAnswer({ 'red kurta': 0.8, 'cotton kurta': 0.79 }),
      labels,
    });
    expect(row.metrics).toMatchObject({ accuracy: 1, recall_incorrect: 1 });
    expect(row.counts?.map((c) => c.threshold)).toEqual([
      0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1,
    ]);
    expect(row.counts?.[7]).toEqual({ threshold: 0.8, tp: 1, tn: 1, fp: 0, fn: 0 });
    expect(row.counts?.[8]).toEqual({ threshold: 0.9, tp: 0, tn: 1, fp: 0, fn: 1 });
  });

  it('computes every metric from the counts', () => {
    // tp 3, tn 2, fp 1, fn 2
    expect(metricsFrom({ tp: 3, tn: 2, fp: 1, fn: 2 })).toEqual({
      recall_incorrect: 2 / 3,
      precision_incorrect: 2 / 4,
      f1_incorrect: (2 * (2 / 3) * 0.5) / (2 / 3 + 0.5),
      accuracy: 5 / 8,
      recall_correct: 3 / 5,
      precision_correct: 3 / 4,
      f1_correct: (2 * 0.6 * 0.75) / (0.6 + 0.75),
    });
  });

  it('makes a ratio with a 0 denominator 1.0 and an F1 with precision·recall 0 zero', () => {
    // Only correct keywords: no TN and no FP, so recall_incorrect is 0/0.
    const row = scoreRow({
      answer: jsonAnswer({ a: 9, b: 5 }),
      labels: { a: 'correct', b: 'correct' },
    });
    expect(row.metrics).toEqual({
      recall_incorrect: 1,
      precision_incorrect: 0,
      f1_incorrect: 0,
      accuracy: 0.5,
      recall_correct: 0.5,
      precision_correct: 1,
      f1_correct: 2 / 3,
    });

    const empty = scoreRow({ answer: '[]', labels: {} });
    expect(empty.status).toBe('scored');
    expect(empty.metrics).toEqual(metricsFrom({ tp: 0, tn: 0, fp: 0, fn: 0 }));
    expect(empty.metrics?.accuracy).toBe(1);
    expect(empty.metrics?.f1_correct).toBe(1);
  });
});

describe('aggregating a run', () => {
  // Two scored rows, one big and one small parse error (11 labelled keywords in all).
  const rowA = scoreRow({
    answer: jsonAnswer({ a: 0.9, b: 0.3, c: 0.85 }),
    labels: { a: 'correct', b: 'incorrect', c: 'incorrect' },
  });
  const rowB = scoreRow({
    answer: jsonAnswer({ d: 0.6, e: 0.95, f: 0.2 }),
    labels: { d: 'correct', e: 'correct', f: 'incorrect' },
  });
  const big = scoreRow({
    answer: 'They all look right.',
    labels: { x: 'correct', y: 'incorrect', z: 'correct' },
  });
  const small = scoreRow({
    answer: jsonAnswer({ g: 7, h: 'maybe' }),
    labels: { g: 'correct', h: 'incorrect' },
  });
  // What the engine hands over: stored JSON.
  const scores: unknown[] = JSON.parse(JSON.stringify([rowA, rowB, big, small]));
  const metrics = aggregate({ scores });

  it('counts parse errors and their ratios', () => {
    expect(metrics).toMatchObject({
      rows: 4,
      rows_scored: 2,
      labelled_keywords: 11,
      big_parse_errors: 1,
      big_parse_error_ratio: 0.25,
      rows_with_small_parse_errors: 1,
      rows_with_small_parse_errors_ratio: 0.25,
      small_parse_errors: 1,
      small_parse_error_ratio: 1 / 11,
    });
  });

  it('puts micro metrics at the default threshold at the top level', () => {
    // Row A: tp 1 (a), tn 1 (b), fp 1 (c); row B: tp 1 (e), fn 1 (d), tn 1 (f).
    expect(metrics.threshold).toBe(0.8);
    expect(metrics.counts).toEqual({ tp: 2, tn: 2, fp: 1, fn: 1 });
    expect(metrics.recall_incorrect).toBeCloseTo(2 / 3, 12);
    expect(metrics.precision_incorrect).toBeCloseTo(2 / 3, 12);
    expect(metrics.accuracy).toBeCloseTo(4 / 6, 12);
  });

  it('averages per-row metrics for the macro figures', () => {
    // Row A: recall_incorrect 1/2, precision_incorrect 1; row B: 1 and 1/2.
    expect(metrics.macro?.recall_incorrect).toBeCloseTo(0.75, 12);
    expect(metrics.macro?.precision_incorrect).toBeCloseTo(0.75, 12);
    expect(metrics.macro?.f1_incorrect).toBeCloseTo(2 / 3, 12);
  });

  it('picks the best threshold by recall_incorrect − FN/(FN+TP), the lowest on a tie', () => {
    // Scores: 0.1 → 0, 0.2 → 0, 0.3 → 1/3, 0.4–0.6 → 2/3, 0.7–0.8 → 1/3, 0.9 → 2/3, 1.0 → 0.
    expect(metrics.thresholds['0.3']?.score).toBeCloseTo(1 / 3, 12);
    expect(metrics.thresholds['0.9']?.score).toBeCloseTo(2 / 3, 12);
    expect(metrics.thresholds['1.0']?.counts).toEqual({ tp: 0, tn: 3, fp: 0, fn: 3 });
    expect(metrics.best_threshold?.threshold).toBe(0.4);
    expect(metrics.best_threshold?.micro?.recall_incorrect).toBeCloseTo(2 / 3, 12);
    expect(metrics.best_threshold?.counts).toEqual({ tp: 3, tn: 2, fp: 1, fn: 0 });
    expect(Object.keys(metrics.thresholds)).toHaveLength(10);
  });

  it('reports no metrics, rather than perfect ones, when no row could be scored', () => {
    const none = aggregate({ scores: [big, small] });
    expect(none.rows_scored).toBe(0);
    expect(none.recall_incorrect).toBeNull();
    expect(none.macro).toBeNull();
    expect(none.best_threshold).toBeNull();
    expect(none.big_parse_error_ratio).toBe(0.5);

    const empty = aggregate({ scores: [] });
    expect(empty.rows).toBe(0);
    expect(empty.big_parse_error_ratio).toBe(0);
  });

  it('refuses inputs that are not score_row outputs', () => {
    expect(() => aggregate({ scores: ['oops'] })).toThrow(/score_row/);
  });
});
