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

/** What a build would do, without doing it: each selected run is fresh or stale, and why. */
export async function computeStatus(
  context: BuildContext,
  force = false,
): Promise<Result<RunStatus[], Diagnostic[]>> {
  const fingerprints = new Map<RunId, ContentHash>();
  const statuses: RunStatus[] = [];
  const diagnostics: Diagnostic[] = [];

  for (const run of context.selected) {
    if (Object.values(run.lineage).some((id) => !fingerprints.has(id))) continue;
    const assessed = await assessRun(context, run, fingerprints, force);
    if (!assessed.ok) {
      diagnostics.push(...assessed.error);
      continue;
    }
    const state = assessed.value;
    fingerprints.set(run.id, state.run.hash);
    statuses.push({
      id: run.id,
      stage: run.stage.name,
      variant: run.variant?.id ?? null,
      state: state.state,
      reasons: state.state === 'fresh' ? [] : state.reasons,
    });
  }

  if (diagnostics.length > 0) return fail(sortDiagnostics(diagnostics));
  return ok(statuses);
}
