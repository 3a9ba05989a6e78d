import { formatDiagnostics } from '../diagnostics/format-diagnostic.js';
import { BuildContext } from '../execute/build-context.js';
import { fingerprintRun, type FingerprintedRun } from '../execute/fingerprint-run.js';
import { explainChanges } from '../fingerprint/explain-changes.js';
import type { ContentHash } from '../fingerprint/hash.js';
import { describeReason } from '../fingerprint/stale-reason.js';
import type { LoadedProject } from '../config/types.js';
import type { PlannedRun } from '../plan/planned-run.js';
import type { RunId } from '../plan/run-id.js';
import type { RowJobData } from './row-job.js';

/** A run as this checkout plans and fingerprints it, when that is the build's. */
export type CheckoutCheck =
  | { readonly ok: true; readonly run: PlannedRun; readonly fingerprinted: FingerprintedRun }
  /** Why this checkout may not compute the run's rows, in the user's terms. */
  | { readonly ok: false; readonly reason: string };

/**
 * Whether this checkout computes a run exactly as the build that queued it would: the same run
 * planned from experiment.yaml, with the same fingerprint (flow files, settings, connections,
 * dataset, upstream runs). A worker on a stale checkout would store results under keys that
 * describe other prompts; it must refuse instead. Each run is checked once per fingerprint.
 */
export class CheckoutChecks {
  private readonly contexts = new Map<string, BuildContext | string>();
  private readonly checks = new Map<string, Promise<CheckoutCheck>>();

  constructor(private readonly project: LoadedProject) {}

  check(job: RowJobData): Promise<CheckoutCheck> {
    const key = `${job.connection ?? ''}\n${job.run}\n${job.fingerprintHash}`;
    let check = this.checks.get(key);
    if (check === undefined) {
      check = this.compute(job);
      this.checks.set(key, check);
    }
    return check;
  }

  private async compute(job: RowJobData): Promise<CheckoutCheck> {
    const context = this.context(job.connection ?? undefined);
    if (typeof context === 'string') return { ok: false, reason: context };
    if (!context.graph.has(job.run)) {
      return { ok: false, reason: `this checkout's experiment.yaml has no run ${job.run}` };
    }
    const run = context.graph.get(job.run);

    // The build's upstream runs, as its fingerprint names them: their outputs live on the
    // build's machine, and the row's inputs already hold what the row reads of them.
    const lineage = new Map<RunId, { fingerprint: ContentHash; outputs: ContentHash }>();
    for (const upstream of Object.values(job.fingerprint.upstream)) {
      lineage.set(upstream.run, { fingerprint: upstream.fingerprint, outputs: upstream.outputs });
    }
    if (Object.values(run.lineage).some((id) => !lineage.has(id))) {
      return { ok: false, reason: `this checkout plans run ${job.run} on other upstream runs` };
    }

    const mine = await fingerprintRun(context, run, lineage);
    if (!mine.ok) {
      return {
        ok: false,
        reason: formatDiagnostics(mine.error, () => undefined, { color: false }),
      };
    }
    if (mine.value.hash !== job.fingerprintHash) {
      const changes = explainChanges(job.fingerprint, mine.value.fingerprint).map(describeReason);
      return {
        ok: false,
        reason: `this checkout differs from the build's (${changes.join('; ') || 'fingerprint'})`,
      };
    }
    return { ok: true, run, fingerprinted: mine.value };
  }

  /** The project planned under a build's `--connection`; a string says why it cannot be. */
  private context(connection: string | undefined): BuildContext | string {
    const key = connection ?? '';
    let context = this.contexts.get(key);
    if (context === undefined) {
      const created = BuildContext.create(this.project, [], connection);
      context = created.ok
        ? created.value
        : created.error.map((diagnostic) => diagnostic.message).join('; ');
      this.contexts.set(key, context);
    }
    return context;
  }
}
