import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { explainChanges } from '../fingerprint/explain-changes.js';
import type { ContentHash } from '../fingerprint/hash.js';
import type { PlannedRun } from '../plan/planned-run.js';
import type { RunId } from '../plan/run-id.js';
import { readManifest } from '../runs/run-folder.js';
import type { RunManifest } from '../runs/run-manifest.js';
import { ok, type Result } from '../util/result.js';
import type { BuildContext } from './build-context.js';
import { fingerprintRun, type FingerprintedRun } from './fingerprint-run.js';

/** Whether a run's materialised result can be used as it is, and if not, why. */
export type RunState =
  | { readonly state: 'fresh'; readonly manifest: RunManifest; readonly run: FingerprintedRun }
  | {
      readonly state: 'stale';
      readonly reasons: readonly string[];
      readonly run: FingerprintedRun;
      readonly previous?: RunManifest;
    };

/**
 * Decides a run's state: fingerprint it and compare with the manifest it was last built with.
 * `lineage` maps each ancestor run to its (current) fingerprint hash.
 */
export async function assessRun(
  context: BuildContext,
  run: PlannedRun,
  lineage: ReadonlyMap<RunId, ContentHash>,
  force: boolean,
): Promise<Result<RunState, Diagnostic[]>> {
  const fingerprinted = await fingerprintRun(context, run, lineage);
  if (!fingerprinted.ok) return fingerprinted;
  const current = fingerprinted.value;

  const previous = await readManifest(context.root, run.id);
  if (previous === undefined) {
    return ok({ state: 'stale', reasons: ['never built'], run: current });
  }
  if (previous.fingerprintHash !== current.hash) {
    return ok({
      state: 'stale',
      reasons: explainChanges(previous.fingerprint, current.fingerprint),
      run: current,
      previous,
    });
  }
  if (previous.status === 'failed') {
    const failed = previous.rows.failed + previous.rows.skipped;
    return ok({
      state: 'stale',
      reasons: [
        failed > 0
          ? `${failed} row${failed === 1 ? '' : 's'} failed last time`
          : 'its aggregation failed last time',
      ],
      run: current,
      previous,
    });
  }
  if (force) return ok({ state: 'stale', reasons: ['--force'], run: current, previous });
  return ok({ state: 'fresh', manifest: previous, run: current });
}
