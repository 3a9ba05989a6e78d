import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { explainChanges } from '../fingerprint/explain-changes.js';
import type { StaleReason } from '../fingerprint/stale-reason.js';
import { lockState } from '../locks/file-lock.js';
import { runLockTarget } from '../locks/run-lock.js';
import type { PlannedRun } from '../plan/planned-run.js';
import type { RunId } from '../plan/run-id.js';
import { hasUnfinishedBuild, outputsFileHash, readManifest } from '../runs/run-folder.js';
import { readRunIndex, rowDataHash, type RunIndex } from '../runs/run-index.js';
import type { RunManifest } from '../runs/run-manifest.js';
import { ok, type Result } from '../util/result.js';
import type { BuildContext } from './build-context.js';
import type { DatasetRow } from '../data/read-dataset.js';
import { fingerprintRun, type FingerprintedRun, type UpstreamState } from './fingerprint-run.js';

/** Whether a run's materialised result can be used as it is, and if not, why. */
export type RunState =
  | { readonly state: 'fresh'; readonly manifest: RunManifest; readonly run: FingerprintedRun }
  | {
      readonly state: 'stale';
      readonly reasons: readonly StaleReason[];
      readonly run: FingerprintedRun;
      readonly previous?: RunManifest;
    };

export interface AssessOptions {
  /** `--force`: the runs the targets name are stale whatever their state. */
  readonly force: boolean;
  /** `--no-cache`: stale whatever its state (fresh samples). */
  readonly noCache?: boolean;
  /**
   * Whether a run that failed last time is stale (true, the default: its failed rows are
   * retried). False keeps an unchanged failed run as it is.
   */
  readonly retryFailed?: boolean;
}

/**
 * Decides a run's state: fingerprint it and compare with the manifest it was last built with.
 * `lineage` maps each ancestor run to its current state. A run whose outputs.jsonl is not the
 * one its manifest records (deleted, edited) is stale too: its outputs feed other runs.
 */
export async function assessRun(
  context: BuildContext,
  run: PlannedRun,
  lineage: ReadonlyMap<RunId, UpstreamState>,
  options: AssessOptions,
): Promise<Result<RunState, Diagnostic[]>> {
  const fingerprinted = await fingerprintRun(context, run, lineage);
  if (!fingerprinted.ok) return fingerprinted;
  const current = fingerprinted.value;

  const previous = await readManifest(context.root, run.id);
  if (previous === undefined) {
    return ok({ state: 'stale', reasons: [await whyUnbuilt(context.root, run)], run: current });
  }
  const stale = (reasons: StaleReason[]): Result<RunState, Diagnostic[]> =>
    ok({ state: 'stale', reasons, run: current, previous });

  if (previous.fingerprintHash !== current.hash) {
    const reasons = explainChanges(previous.fingerprint, current.fingerprint);
    // The index (a line per row) and the rows are read only when the dataset changed.
    const index = reasons.some((reason) => reason.kind === 'dataset-file')
      ? await readRunIndex(context.root, run.id)
      : undefined;
    const refined: StaleReason[] = [];
    for (const reason of reasons) {
      refined.push(await refineDatasetReason(context, run, reason, index, current));
    }
    return stale(refined);
  }
  if (previous.status === 'failed' && options.retryFailed !== false) {
    const failed = previous.rows.failed + previous.rows.skipped;
    return stale([
      failed > 0 ? { kind: 'failed-rows', count: failed } : { kind: 'aggregation-failed' },
    ]);
  }
  if ((await outputsFileHash(context.root, run.id)) !== previous.outputsHash) {
    return stale([{ kind: 'outputs-changed' }]);
  }
  if (options.force && context.targeted.has(run.id)) return stale([{ kind: 'forced' }]);
  if (options.noCache) return stale([{ kind: 'no-cache' }]);
  return ok({ state: 'fresh', manifest: previous, run: current });
}

/** Why a run has no manifest: never built, being built by another build, or cut short. */
async function whyUnbuilt(root: string, run: PlannedRun): Promise<StaleReason> {
  if (!(await hasUnfinishedBuild(root, run.id))) return { kind: 'never-built' };
  const lock = await lockState(runLockTarget(root, run.id));
  if (lock.held && lock.holder?.pid !== process.pid) {
    return { kind: 'in-progress', ...(lock.holder ? { pid: lock.holder.pid } : {}) };
  }
  return { kind: 'unfinished' };
}

/**
 * `data/products.jsonl changed` made precise with the previous build's row hashes: how many
 * rows changed, were added or were removed, by row key.
 */
async function refineDatasetReason(
  context: BuildContext,
  run: PlannedRun,
  reason: StaleReason,
  index: RunIndex | undefined,
  current: FingerprintedRun,
): Promise<StaleReason> {
  if (reason.kind !== 'dataset-file' || index === undefined) return reason;
  // Rows are read only here, when the dataset changed: a no-op build reads none.
  const rows = await context.datasetRows(run.dataset, current.fingerprint.data.hash);
  if (!rows.ok) return reason;
  const counts = diffRows(index, rows.value);
  if (counts.changed + counts.added + counts.removed === 0) {
    return { kind: 'dataset-file', file: reason.file, rowsChanged: 0 };
  }
  return { kind: 'dataset-rows', file: reason.file, ...counts };
}

function diffRows(
  index: RunIndex,
  rows: readonly DatasetRow[],
): { changed: number; added: number; removed: number } {
  const before = new Map(index.rows.map(([key, hash]) => [key, hash]));
  let changed = 0;
  let added = 0;
  const seen = new Set<string>();
  for (const row of rows) {
    seen.add(row.key);
    const was = before.get(row.key);
    if (was === undefined) added++;
    else if (was !== rowDataHash(row.data)) changed++;
  }
  let removed = 0;
  for (const key of before.keys()) if (!seen.has(key)) removed++;
  return { changed, added, removed };
}
