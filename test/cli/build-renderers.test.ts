import { afterEach, describe, expect, it, vi } from 'vitest';

import { BuildProgress } from '../../src/cli/render/build-progress.js';
import { plainBuildRenderer } from '../../src/cli/render/plain-build-renderer.js';
import type { BuildEvent, RunSummary } from '../../src/events/build-events.js';
import type { RunId } from '../../src/plan/run-id.js';

const RUN = 'validate@strict~describe@a' as RunId;

function progress(done: number, total = 100): BuildEvent {
  return { type: 'run-progress', run: RUN, done, total, failed: 0, calls: done, cachedCalls: 0 };
}

function finish(): BuildEvent {
  const summary: RunSummary = {
    id: RUN,
    stage: 'validate',
    variant: 'strict',
    status: 'executed',
    reasons: ['never built'],
    rows: 100,
    rowsFailed: 0,
    rowsSkipped: 0,
    rowsCached: 0,
    calls: 100,
    cachedCalls: 0,
    tokens: { prompt: 0, completion: 0, total: 0 },
    durationMs: 12_000,
    metrics: {},
    errors: [],
  };
  return { type: 'run-finish', summary };
}

describe('the plain build renderer', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('prints at most one progress line per run per interval, and none once the run is done', () => {
    vi.useFakeTimers({ now: 0 });
    const lines: string[] = [];
    const render = plainBuildRenderer((line) => lines.push(line), {
      color: false,
      progressIntervalMs: 5000,
    });

    render({ type: 'run-start', run: RUN, reasons: ['never built'], rows: 100 });
    for (let done = 1; done <= 40; done++) {
      vi.advanceTimersByTime(250);
      render(progress(done));
    }
    // 10 seconds of progress events, four every second: two lines.
    expect(lines.filter((line) => line.startsWith('…'))).toEqual([
      `…       ${RUN}  20/100 rows · 20 calls sent · 0 from call cache · 0 failed · 4.0 rows/s`,
      `…       ${RUN}  40/100 rows · 40 calls sent · 0 from call cache · 0 failed · 4.0 rows/s`,
    ]);

    vi.advanceTimersByTime(60_000);
    render(progress(100));
    render(finish());
    expect(lines.at(-1)).toMatch(/^done {4}validate@strict~describe@a {2}100 rows/);
    expect(lines.filter((line) => line.startsWith('…'))).toHaveLength(2);
  });
});

describe('build progress', () => {
  it('measures the overall fraction and an ETA from the rows finished so far', () => {
    const state = new BuildProgress({ runs: 3, rows: 300 });
    expect(state.overall(0).fraction).toBe(0);
    expect(state.overall(0).etaSeconds).toBeUndefined();

    state.apply({ type: 'run-start', run: RUN, reasons: [], rows: 100 }, 1000);
    state.apply(progress(50), 6000);
    // 50 rows in 5 s: 250 rows left at 10 rows/s.
    expect(state.overall(6000)).toMatchObject({ rowsDone: 50, fraction: 50 / 300, etaSeconds: 25 });
    expect(state.activeRuns()).toHaveLength(1);

    state.apply(finish(), 11_000);
    expect(state.activeRuns()).toHaveLength(0);
    expect(state.overall(11_000)).toMatchObject({ runsDone: 1, rowsDone: 100, failedRuns: 0 });
  });
});
