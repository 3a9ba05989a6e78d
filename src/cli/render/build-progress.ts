import type { BuildEvent } from '../../events/build-events.js';
import type { RunId } from '../../plan/run-id.js';

/** What a build is expected to do, known before it starts: how many runs, which will execute. */
export interface ExpectedWork {
  readonly runs: number;
  /** Rows of the runs that will execute (the stale ones). */
  readonly rows: number;
}

/** One run executing now. */
export interface ActiveRun {
  readonly id: RunId;
  readonly total: number;
  readonly done: number;
  readonly failed: number;
  readonly calls: number;
  readonly cachedCalls: number;
  /** performance.now() when it started. */
  readonly startedAt: number;
}

/**
 * The state of a build as its events describe it: the runs executing now and the totals, with
 * an ETA from the rate rows have been finishing at. The live display draws it.
 */
export class BuildProgress {
  private readonly active = new Map<RunId, ActiveRun>();
  private runsFinished = 0;
  private rowsFinished = 0;
  private failedRuns = 0;
  private firstStart: number | undefined;
  private expectedRows: number | undefined;
  private expectedRuns: number | undefined;

  constructor(expected?: ExpectedWork) {
    this.expectedRows = expected?.rows;
    this.expectedRuns = expected?.runs;
  }

  apply(event: BuildEvent, now: number): void {
    switch (event.type) {
      case 'plan':
        this.expectedRuns = event.runs;
        return;
      case 'run-start':
        this.firstStart ??= now;
        this.active.set(event.run, {
          id: event.run,
          total: event.rows,
          done: 0,
          failed: 0,
          calls: 0,
          cachedCalls: 0,
          startedAt: now,
        });
        return;
      case 'run-progress': {
        // NOTE: progress events count call-cache hits only; rows served whole from the row
        // cache show up in the run's summary line, not here.
        const run = this.active.get(event.run);
        if (run === undefined) return;
        this.active.set(event.run, { ...run, ...progressOf(event) });
        return;
      }
      case 'run-finish': {
        const run = this.active.get(event.summary.id);
        this.active.delete(event.summary.id);
        this.runsFinished++;
        if (event.summary.status === 'failed') this.failedRuns++;
        if (run !== undefined) this.rowsFinished += run.total;
        return;
      }
      case 'run-skip':
        this.runsFinished++;
        this.failedRuns++;
        return;
      case 'warning':
        return;
    }
  }

  /** Runs executing now, oldest first. */
  activeRuns(): ActiveRun[] {
    return [...this.active.values()];
  }

  overall(now: number): {
    runsDone: number;
    runs: number | undefined;
    rowsDone: number;
    rows: number | undefined;
    failedRuns: number;
    /** 0..1; undefined when the amount of work is unknown. */
    fraction: number | undefined;
    /** Seconds left; undefined until rows have finished to measure a rate. */
    etaSeconds: number | undefined;
  } {
    let rowsDone = this.rowsFinished;
    for (const run of this.active.values()) rowsDone += run.done;
    const rows = this.expectedRows;
    const runs = this.expectedRuns;

    let fraction: number | undefined;
    if (rows !== undefined && rows > 0) fraction = Math.min(1, rowsDone / rows);
    else if (runs !== undefined && runs > 0) fraction = Math.min(1, this.runsFinished / runs);

    let etaSeconds: number | undefined;
    if (rows !== undefined && this.firstStart !== undefined && rowsDone > 0) {
      const rate = rowsDone / Math.max(0.001, (now - this.firstStart) / 1000);
      etaSeconds = Math.max(0, (rows - rowsDone) / rate);
    }
    return {
      runsDone: this.runsFinished,
      runs,
      rowsDone,
      rows,
      failedRuns: this.failedRuns,
      fraction,
      etaSeconds,
    };
  }
}

function progressOf(event: Extract<BuildEvent, { type: 'run-progress' }>) {
  return {
    total: event.total,
    done: event.done,
    failed: event.failed,
    calls: event.calls,
    cachedCalls: event.cachedCalls,
  };
}
