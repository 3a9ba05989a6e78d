import pLimit from 'p-limit';

import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { sortDiagnostics } from '../diagnostics/sort-diagnostics.js';
import type { ContentHash } from '../fingerprint/hash.js';
import { describeReason, type StaleReason } from '../fingerprint/stale-reason.js';
import type { RunId } from '../plan/run-id.js';
import { fail, ok, type Result } from '../util/result.js';
import { assessRun, type AssessOptions } from './assess-run.js';
import type { BuildContext } from './build-context.js';
import type { UpstreamState } from './fingerprint-run.js';

export interface RunStatus {
  readonly id: RunId;
  readonly stage: string;
  readonly variant: string | null;
  readonly state: 'fresh' | 'stale';
  /** Why it is stale, in the user's terms; empty when fresh. */
  readonly reasons: readonly string[];
  /** The same reasons, as data. */
  readonly causes: readonly StaleReason[];
}

/**
 * What a build would do, without doing it: each selected run is fresh or stale, and why. A run
 * that reads a stale run is stale too (`upstream X will re-run`), even when nothing of its own
 * changed: its input is about to.
 */
export async function computeStatus(
  context: BuildContext,
  options: AssessOptions = { force: false },
): Promise<Result<RunStatus[], Diagnostic[]>> {
  const known = new Map<RunId, UpstreamState & { readonly stale: boolean }>();
  const statuses: RunStatus[] = [];
  const diagnostics: Diagnostic[] = [];
  // Each run's status once assessed; undefined when it (or a run in its lineage) could not be.
  const assessed = new Map<RunId, Promise<{ status: RunStatus; hash: ContentHash } | undefined>>();

  for (const run of context.selected) {
    if (Object.values(run.lineage).some((id) => !known.has(id))) continue;
    const assessed = await assessRun(context, run, known, options);
    if (!assessed.ok) {
      diagnostics.push(...assessed.error);
      continue;
    }
    const state = assessed.value;
    const staleUpstream = run.upstream.filter((id) => known.get(id)?.stale === true);

    const causes = withStaleUpstream(state.state === 'fresh' ? [] : state.reasons, staleUpstream);
    const stale = causes.length > 0;
    known.set(run.id, {
      fingerprint: state.run.hash,
      // A stale run's outputs are unknown until it runs; its last ones stand in for them.
      outputs:
        state.state === 'fresh'
          ? state.manifest.outputsHash
          : (state.previous?.outputsHash ?? ('' as ContentHash)),
      stale,
    });
    statuses.push({
      id: run.id,
      stage: run.stage.name,
      variant: run.variant?.id ?? null,
      state: stale ? 'stale' : 'fresh',
      reasons: causes.map(describeReason),
      causes,
    });
  }

  await context.saveFileHashes();
  if (diagnostics.length > 0) return fail(sortDiagnostics(diagnostics));
  return ok(statuses);
}

/**
 * A run's stale reasons when some of its upstream runs are stale themselves. Their new outputs
 * are not known yet, so what this run recorded of them is bound to differ and says nothing more
 * than that they will re-run.
 */
export function withStaleUpstream(
  reasons: readonly StaleReason[],
  staleUpstream: readonly RunId[],
): StaleReason[] {
  if (staleUpstream.length === 0) return [...reasons];
  return [
    ...reasons.filter(
      (cause) =>
        cause.kind !== 'fingerprint' && !(cause.kind === 'upstream' && cause.change === 're-ran'),
    ),
    ...staleUpstream.map((id): StaleReason => ({
      kind: 'upstream',
      run: id,
      change: 'will-re-run',
    })),
  ];
}
