import { withStaleUpstream } from '../execute/status.js';
import { describeReason } from '../fingerprint/stale-reason.js';
import type { UpstreamState } from '../execute/fingerprint-run.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { sortDiagnostics } from '../diagnostics/sort-diagnostics.js';
import { assessRun } from '../execute/assess-run.js';
import type { BuildContext } from '../execute/build-context.js';
import type { ContentHash } from '../fingerprint/hash.js';
import type { PlannedRun } from '../plan/planned-run.js';
import type { RunId } from '../plan/run-id.js';
import type { RunManifest } from '../runs/run-manifest.js';
import { fail, ok, type Result } from '../util/result.js';

/** A run of the current plan whose materialised result was built from what the plan holds now. */
export interface BuiltRun {
  readonly run: PlannedRun;
  readonly manifest: RunManifest;
}

/** A run of the current plan with no usable result, and why, in the words `status` uses. */
export interface UnbuiltRun {
  readonly run: PlannedRun;
  readonly state: 'missing' | 'stale';
  readonly reasons: readonly string[];
}

export interface BuiltRuns {
  /** In plan order (upstream first). */
  readonly built: ReadonlyMap<RunId, BuiltRun>;
  readonly unbuilt: readonly UnbuiltRun[];
}

/**
 * Sorts the planned runs into those whose manifest matches their current fingerprint and those
 * that are missing or stale. A run whose rows failed still counts as built when its fingerprint
 * matches: its results are what the current plan produces, failures included, and the result
 * commands show them as such.
 */
export async function findBuiltRuns(
  context: BuildContext,
): Promise<Result<BuiltRuns, Diagnostic[]>> {
  const fingerprints = new Map<RunId, UpstreamState>();
  const built = new Map<RunId, BuiltRun>();
  const unbuilt: UnbuiltRun[] = [];
  const diagnostics: Diagnostic[] = [];
  // Runs whose results are not the current plan's: what reads them is told they will re-run.
  const stale = new Set<RunId>();

  for (const run of context.graph.runs) {
    if (Object.values(run.lineage).some((id) => !fingerprints.has(id))) {
      unbuilt.push({ run, state: 'missing', reasons: ['its lineage could not be fingerprinted'] });
      continue;
    }
    const assessed = await assessRun(context, run, fingerprints, { force: false });
    if (!assessed.ok) {
      diagnostics.push(...assessed.error);
      continue;
    }
    const state = assessed.value;
    fingerprints.set(run.id, {
      fingerprint: state.run.hash,
      outputs:
        state.state === 'fresh'
          ? state.manifest.outputsHash
          : (state.previous?.outputsHash ?? ('' as ContentHash)),
    });

    if (state.state === 'fresh') {
      built.set(run.id, { run, manifest: state.manifest });
    } else if (state.previous?.fingerprintHash === state.run.hash) {
      built.set(run.id, { run, manifest: state.previous });
    } else {
      stale.add(run.id);
      const staleUpstream = run.upstream.filter((id) => stale.has(id));
      unbuilt.push({
        run,
        state: state.previous === undefined ? 'missing' : 'stale',
        reasons: withStaleUpstream(state.reasons, staleUpstream).map(describeReason),
      });
    }
  }

  if (diagnostics.length > 0) return fail(sortDiagnostics(diagnostics));
  return ok({ built, unbuilt });
}
