/**
 * A run id reads as the run's lineage, nearest stage first:
 * `evaluate~validate@strict_top5~describe@detailed`. Each part is `stage` or `stage@variant`,
 * followed by `#N` for the Nth sample of a stage with `repeat` (the first sample has no mark).
 * Branded so that an id is never confused with a stage name or a path.
 */
export type RunId = string & { readonly __brand: 'RunId' };

export function runLabel(stage: string, variant: string | undefined, sample?: number): string {
  const label = variant === undefined ? stage : `${stage}@${variant}`;
  return sample !== undefined && sample > 1 ? `${label}#${sample}` : label;
}

export function makeRunId(ownLabel: string, ancestorLabels: readonly string[]): RunId {
  return [ownLabel, ...ancestorLabels].join('~') as RunId;
}
