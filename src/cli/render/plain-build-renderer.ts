import type { BuildEvent, RunSummary } from '../../events/build-events.js';
import { dollars, formatMetric, plural, seconds, styles } from './format.js';

/** How often a run still executing gets a progress line, unless the caller says otherwise. */
export const DEFAULT_PROGRESS_INTERVAL_MS = 5000;

/**
 * Renders build events as plain lines: one when a run starts, one when it finishes or is served
 * from cache, and for a long run at most one progress line every `progressIntervalMs`.
 * Readable in a terminal and in CI logs alike.
 */
export function plainBuildRenderer(
  write: (line: string) => void,
  options: { color: boolean; progressIntervalMs?: number },
): (event: BuildEvent) => void {
  const style = styles(options.color);
  const interval = options.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS;
  // When each executing run started, and when it last printed a line.
  const started = new Map<string, number>();
  const lastLine = new Map<string, number>();
  return (event) => {
    switch (event.type) {
      case 'run-start':
        started.set(event.run, Date.now());
        lastLine.set(event.run, Date.now());
        write(
          `${style.cyan('run   ')}  ${event.run}  ${style.dim(`${plural(event.rows, 'row')} · ${event.reasons.join('; ')}`)}`,
        );
        return;
      case 'run-progress': {
        const now = Date.now();
        const last = lastLine.get(event.run);
        if (last === undefined || event.done >= event.total || now - last < interval) return;
        lastLine.set(event.run, now);
        const rate = event.done / Math.max(0.001, (now - (started.get(event.run) ?? now)) / 1000);
        write(
          `${style.dim('…     ')}  ${event.run}  ${style.dim(
            [
              `${event.done}/${event.total} rows`,
              `${plural(event.calls, 'call')} sent`,
              `${event.cachedCalls} from call cache`,
              `${event.failed} failed`,
              `${rate.toFixed(1)} rows/s`,
            ].join(' · '),
          )}`,
        );
        return;
      }
      case 'run-finish':
        started.delete(event.summary.id);
        lastLine.delete(event.summary.id);
        write(finishLine(event.summary, style));
        // A Python traceback spans lines; they stay under the error they belong to.
        for (const line of errorLines(event.summary.errors))
          write(`          ${style.red('✗')} ${line.replaceAll('\n', '\n            ')}`);
        return;
      case 'run-skip':
        write(`${style.yellow('skip  ')}  ${event.run}  ${style.dim(event.reason)}`);
        return;
      case 'run-wait':
        write(
          `${style.yellow('wait  ')}  ${event.run}  ${style.dim(
            `waiting for ${event.run} (held by ${event.pid === undefined ? 'another build' : `pid ${event.pid}`})`,
          )}`,
        );
        return;
      case 'warning':
        write(`${style.yellow('warning:')} ${event.message}`);
        return;
      case 'plan':
        return;
    }
  };
}

/**
 * Row errors grouped by node and message, most frequent first: a run whose 10,000 rows fail
 * for one reason prints one line, not 10,000.
 */
export function errorLines(errors: RunSummary['errors'], most = 5): string[] {
  const groups = new Map<string, { node?: string; error: string; rows: string[] }>();
  for (const error of errors) {
    const key = `${error.node ?? ''}\u0000${error.error}`;
    const group = groups.get(key) ?? {
      ...(error.node ? { node: error.node } : {}),
      error: error.error,
      rows: [],
    };
    group.rows.push(error.row);
    groups.set(key, group);
  }
  const sorted = [...groups.values()].sort((a, b) => b.rows.length - a.rows.length);
  const lines = sorted.slice(0, most).map((group) => {
    const rows =
      group.rows.length === 1
        ? `row ${group.rows[0]}`
        : `${plural(group.rows.length, 'row')} (${group.rows.slice(0, 3).join(', ')}${group.rows.length > 3 ? ', …' : ''})`;
    return `${rows}${group.node ? ` in ${group.node}` : ''}: ${group.error}`;
  });
  if (sorted.length > most)
    lines.push(`… and ${sorted.length - most} more kinds of error (see the run's manifest.json)`);
  return lines;
}

function finishLine(summary: RunSummary, style: ReturnType<typeof styles>): string {
  if (summary.status === 'cached') {
    return `${style.dim('cached')}  ${summary.id}`;
  }
  const label = summary.status === 'failed' ? style.red('failed') : style.green('done  ');
  const parts = [
    rowCounts(summary),
    `${plural(summary.calls, 'call')} sent`,
    `${summary.cachedCalls} from call cache`,
    `${summary.rowsCached} rows cached`,
  ];
  if (summary.tokens.total > 0) parts.push(plural(summary.tokens.total, 'token'));
  if (summary.cost !== undefined && summary.calls > 0) parts.push(dollars(summary.cost));
  parts.push(seconds(summary.durationMs));
  return `${label}  ${summary.id}  ${style.dim(parts.join(' · '))}`;
}

/** `42 rows`, or what did not go well: `1 of 42 rows failed, 3 skipped`. */
function rowCounts(summary: RunSummary): string {
  const { rows, rowsFailed: failed, rowsSkipped: skipped } = summary;
  if (failed === 0 && skipped === 0) return plural(rows, 'row');
  if (skipped === 0) return `${failed} of ${plural(rows, 'row')} failed`;
  const skippedText = `skipped (no upstream output)`;
  if (failed === 0) return `${skipped} of ${plural(rows, 'row')} ${skippedText}`;
  return `${failed} of ${plural(rows, 'row')} failed, ${skipped} ${skippedText}`;
}

/** The closing block: metrics of every run that has them, then the totals. */
export function buildSummaryLines(
  runs: readonly RunSummary[],
  durationMs: number,
  primaryMetric: string | undefined,
  color: boolean,
): string[] {
  const style = styles(color);
  const lines: string[] = [];
  const withMetrics = runs.filter((run) => Object.keys(run.metrics).length > 0);
  if (withMetrics.length > 0) {
    lines.push('', style.bold('Metrics'));
    const width = Math.max(...withMetrics.map((run) => run.id.length));
    for (const run of withMetrics) {
      const names = Object.keys(run.metrics);
      const ordered =
        primaryMetric && names.includes(primaryMetric)
          ? [primaryMetric, ...names.filter((name) => name !== primaryMetric)]
          : names;
      const shown = ordered
        .slice(0, 6)
        .map((name) => `${name} ${formatMetric(run.metrics[name] ?? 0)}`)
        .join('  ');
      const over =
        run.aggregated && run.aggregated.rows < run.aggregated.of
          ? style.dim(`  (over ${run.aggregated.rows} of ${plural(run.aggregated.of, 'row')})`)
          : '';
      lines.push(`  ${run.id.padEnd(width)}  ${shown}${over}`);
    }
  }

  const count = (status: RunSummary['status']) =>
    runs.filter((run) => run.status === status).length;
  const calls = runs.reduce((sum, run) => sum + run.calls, 0);
  const cachedCalls = runs.reduce((sum, run) => sum + run.cachedCalls, 0);
  const tokens = runs.reduce((sum, run) => sum + run.tokens.total, 0);
  const priced = runs.filter((run) => run.cost !== undefined);
  const cost = priced.reduce((sum, run) => sum + (run.cost ?? 0), 0);
  const failed = count('failed');
  lines.push(
    '',
    `${plural(runs.length, 'run')}: ${count('executed')} executed, ${count('cached')} cached, ` +
      `${failed > 0 ? style.red(`${failed} failed`) : '0 failed'} · ` +
      `${plural(calls, 'call')} sent, ${cachedCalls} from call cache · ` +
      (tokens > 0 ? `${plural(tokens, 'token')} · ` : '') +
      (priced.length > 0 && calls > 0 ? `${dollars(cost)} (estimated) · ` : '') +
      seconds(durationMs),
  );
  return lines;
}
