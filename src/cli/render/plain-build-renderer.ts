import type { BuildEvent, RunSummary } from '../../events/build-events.js';
import { formatMetric, plural, seconds, styles } from './format.js';

/**
 * Renders build events as plain lines: one when a run starts, one when it finishes or is served
 * from cache. Readable in a terminal and in CI logs alike.
 */
export function plainBuildRenderer(
  write: (line: string) => void,
  options: { color: boolean },
): (event: BuildEvent) => void {
  const style = styles(options.color);
  return (event) => {
    switch (event.type) {
      case 'run-start':
        write(
          `${style.cyan('run   ')}  ${event.run}  ${style.dim(`${plural(event.rows, 'row')} · ${event.reasons.join('; ')}`)}`,
        );
        return;
      case 'run-finish':
        write(finishLine(event.summary, style));
        for (const line of errorLines(event.summary.errors))
          write(`          ${style.red('✗')} ${line}`);
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
      case 'run-progress':
        return;
    }
  };
}

/**
 * Row errors grouped by node and message, most frequent first: a run whose 10,000 rows fail
 * for one reason prints one line, not 10,000.
 */
function errorLines(errors: RunSummary['errors'], most = 5): string[] {
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
    summary.rowsFailed > 0
      ? `${summary.rowsFailed} of ${plural(summary.rows, 'row')} failed`
      : plural(summary.rows, 'row'),
    `${plural(summary.calls, 'call')} sent`,
    `${summary.cachedCalls} from call cache`,
    `${summary.rowsCached} rows cached`,
  ];
  if (summary.tokens.total > 0) parts.push(plural(summary.tokens.total, 'token'));
  parts.push(seconds(summary.durationMs));
  return `${label}  ${summary.id}  ${style.dim(parts.join(' · '))}`;
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
  const failed = count('failed');
  lines.push(
    '',
    `${plural(runs.length, 'run')}: ${count('executed')} executed, ${count('cached')} cached, ` +
      `${failed > 0 ? style.red(`${failed} failed`) : '0 failed'} · ` +
      `${plural(calls, 'call')} sent, ${cachedCalls} from call cache · ${seconds(durationMs)}`,
  );
  return lines;
}
