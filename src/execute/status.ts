import pLimit from 'p-limit';

import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { sortDiagnostics } from '../diagnostics/sort-diagnostics.js';
import type { ContentHash } from '../fingerprint/hash.js';
import type { RunId } from '../plan/run-id.js';
import { fail, ok, type Result } from '../util/result.js';
import { assessRun } from './assess-run.js';
import type { BuildContext } from './build-context.js';

export interface RunStatus {
  readonly id: RunId;
  readonly stage: string;
  readonly variant: string | null;
  readonly state: 'fresh' | 'stale';
  /** Why it is stale, in the user's terms; empty when fresh. */
  readonly reasons: readonly string[];
}

/**
 * Runs assessed at once. Each reads a manifest: with thousands of runs, unbounded reads would
 * run out of file handles, and a manifest that cannot be read counts as never built.
 */
const ASSESS_CONCURRENCY = 32;

/** What a build would do, without doing it: each selected run is fresh or stale, and why. */
export async function computeStatus(
  context: BuildContext,
  force = false,
): Promise<Result<RunStatus[], Diagnostic[]>> {
  const limit = pLimit(ASSESS_CONCURRENCY);
  const diagnostics: Diagnostic[] = [];
  // Each run's status once assessed; undefined when it (or a run in its lineage) could not be.
  const assessed = new Map<RunId, Promise<{ status: RunStatus; hash: ContentHash } | undefined>>();

  const assess = async (run: (typeof context.selected)[number]) => {
    // A run is assessed once the runs in its lineage are: their fingerprints are part of its.
    const lineage = new Map<RunId, ContentHash>();
    for (const id of Object.values(run.lineage)) {
      const upstream = await assessed.get(id);
      if (upstream === undefined) return undefined;
      lineage.set(id, upstream.hash);
    }
    const state = await limit(() => assessRun(context, run, lineage, force));
    if (!state.ok) {
      diagnostics.push(...state.error);
      return undefined;
    }
    const status: RunStatus = {
      id: run.id,
      stage: run.stage.name,
      variant: run.variant?.id ?? null,
      state: state.value.state,
      reasons: state.value.state === 'fresh' ? [] : state.value.reasons,
    };
    return { status, hash: state.value.run.hash };
  };

  // Selected runs come upstream first, so every run's lineage is in the map before it.
  for (const run of context.selected) assessed.set(run.id, assess(run));
  const statuses: RunStatus[] = [];
  for (const run of context.selected) {
    const result = await assessed.get(run.id);
    if (result !== undefined) statuses.push(result.status);
  }

  await context.saveFileHashes();
  if (diagnostics.length > 0) return fail(sortDiagnostics(diagnostics));
  return ok(statuses);
}
