import { createLogUpdate } from 'log-update';

import type { BuildEvent } from '../../events/build-events.js';
import { BuildProgress, type ActiveRun, type ExpectedWork } from './build-progress.js';
import { plural, styles } from './format.js';
import { plainBuildRenderer } from './plain-build-renderer.js';

/** A renderer that owns the terminal while the build runs; `stop` hands it back. */
export interface BuildRenderer {
  readonly render: (event: BuildEvent) => void;
  readonly stop: () => void;
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const FRAME_MS = 100;
const BAR_WIDTH = 24;

/**
 * The build as a live display on a terminal: one line per run executing now (rows done of
 * total, calls sent, calls served from the call cache, failed rows, rate) under an overall bar
 * with an ETA.
 * A run that finishes leaves the display as the one line the plain renderer prints for it.
 */
export function liveBuildRenderer(
  stream: NodeJS.WriteStream,
  expected: ExpectedWork | undefined,
): BuildRenderer {
  const style = styles(true);
  const progress = new BuildProgress(expected);
  const update = createLogUpdate(sized(stream));
  let tick = 0;

  const persisted: string[] = [];
  const plain = plainBuildRenderer((line) => persisted.push(line), { color: true });

  const draw = () => {
    const now = performance.now();
    const width = Math.max(20, (stream.columns || 80) - 1);
    const spinner = SPINNER[tick % SPINNER.length] ?? '-';
    const lines = progress.activeRuns().map((run) => runLine(run, now, width, spinner, style));
    lines.push(overallLine(progress.overall(now), width, style));
    update(lines.join('\n'));
  };

  const timer = setInterval(() => {
    tick++;
    draw();
  }, FRAME_MS);
  timer.unref();

  return {
    render: (event) => {
      progress.apply(event, performance.now());
      if (event.type === 'run-finish' || event.type === 'run-skip' || event.type === 'warning') {
        plain(event);
        update.persist(persisted.splice(0).join('\n'));
      }
      draw();
    },
    stop: () => {
      clearInterval(timer);
      update.clear();
      update.done();
    },
  };
}

function runLine(
  run: ActiveRun,
  now: number,
  width: number,
  spinner: string,
  style: ReturnType<typeof styles>,
): string {
  const seconds = Math.max(0.001, (now - run.startedAt) / 1000);
  const facts = [
    `${run.done}/${run.total} rows`,
    `${run.calls} sent`,
    `${run.cachedCalls} cached`,
    `${run.failed} failed`,
    `${(run.done / seconds).toFixed(1)} rows/s`,
  ].join(' · ');
  // The id says which run this is: it gets the room, and the facts what is left.
  const id = fit(run.id, Math.max(24, width - facts.length - 4));
  const rest = fit(facts, Math.max(0, width - id.length - 4));
  return `${style.cyan(spinner)} ${id}  ${run.failed > 0 ? style.yellow(rest) : style.dim(rest)}`;
}

function overallLine(
  overall: ReturnType<BuildProgress['overall']>,
  width: number,
  style: ReturnType<typeof styles>,
): string {
  const fraction = overall.fraction ?? 0;
  const filled = Math.round(fraction * BAR_WIDTH);
  const bar = `${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}`;
  const facts = [
    `${Math.round(fraction * 100)}%`,
    `${overall.runsDone}/${overall.runs ?? '?'} runs`,
    ...(overall.rows !== undefined ? [`${overall.rowsDone}/${overall.rows} rows`] : []),
    ...(overall.failedRuns > 0 ? [`${overall.failedRuns} failed`] : []),
    `ETA ${overall.etaSeconds === undefined ? '…' : duration(overall.etaSeconds)}`,
  ].join(' · ');
  return `${style.green(bar)} ${fit(facts, width - BAR_WIDTH - 1)}`;
}

/**
 * The stream with a usable size. A pseudo-terminal nobody has sized (as under `script`) reports
 * 0 columns and 0 rows, and log-update draws nothing into a terminal of height 0.
 */
function sized(stream: NodeJS.WriteStream): NodeJS.WriteStream {
  return new Proxy(stream, {
    get(target, property, receiver) {
      if (property === 'columns') return target.columns || 80;
      if (property === 'rows') return target.rows || 24;
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** `text` cut to `width` characters, an ellipsis marking the cut. */
function fit(text: string, width: number): string {
  if (text.length <= width) return text;
  return width <= 1 ? '' : `${text.slice(0, width - 1)}…`;
}

function duration(seconds: number): string {
  const whole = Math.ceil(seconds);
  if (whole < 60) return `${whole}s`;
  const minutes = Math.floor(whole / 60);
  if (minutes < 60) return `${minutes}m${String(whole % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}
