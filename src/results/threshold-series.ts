/**
 * Metrics over thresholds, when an evaluation reports them: `thresholds` in metrics.json as a
 * list of objects with a numeric `threshold`, or an object of such objects keyed by threshold.
 * Every numeric value inside an entry (`score`, `micro.recall_incorrect`, …) is a series.
 */
export interface ThresholdSeries {
  /** Dotted path inside an entry → points sorted by threshold. */
  readonly series: ReadonlyMap<string, readonly (readonly [number, number])[]>;
  /** The threshold the run's top-level metrics are computed at, when metrics.json says. */
  readonly threshold?: number;
}

export function thresholdSeries(metrics: unknown): ThresholdSeries | undefined {
  if (!isRecord(metrics)) return undefined;
  const raw = metrics['thresholds'];
  const entries = Array.isArray(raw) ? raw : isRecord(raw) ? Object.values(raw) : [];
  const series = new Map<string, [number, number][]>();
  for (const entry of entries) {
    if (!isRecord(entry) || typeof entry['threshold'] !== 'number') continue;
    const threshold = entry['threshold'];
    for (const [path, value] of numericLeaves(entry, '')) {
      if (path === 'threshold') continue;
      const points = series.get(path) ?? [];
      points.push([threshold, value]);
      series.set(path, points);
    }
  }
  if (series.size === 0) return undefined;
  for (const points of series.values()) points.sort((a, b) => a[0] - b[0]);
  const threshold = metrics['threshold'];
  return { series, ...(typeof threshold === 'number' ? { threshold } : {}) };
}

function* numericLeaves(
  value: Record<string, unknown>,
  prefix: string,
): Generator<[string, number]> {
  for (const [key, item] of Object.entries(value)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if (typeof item === 'number' && Number.isFinite(item)) yield [path, item];
    else if (isRecord(item)) yield* numericLeaves(item, path);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
