/**
 * A run id reads as the run's lineage, nearest stage first:
 * `evaluate~validate@strict_top5~describe@detailed`. Each part is `stage` or `stage@variant`.
 * Branded so that an id is never confused with a stage name or a path.
 */
export type RunId = string & { readonly __brand: 'RunId' };

export function runLabel(stage: string, variant: string | undefined): string {
  return variant === undefined ? stage : `${stage}@${variant}`;
}

export function makeRunId(ownLabel: string, ancestorLabels: readonly string[]): RunId {
  return [ownLabel, ...ancestorLabels].join('~') as RunId;
}
