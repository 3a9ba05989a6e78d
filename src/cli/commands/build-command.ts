import { cacheUrlOf, cacheUrlProblem } from '../../cache/open-store.js';
import { BuildContext } from '../../execute/build-context.js';
import { runBuild } from '../../execute/build.js';
import { computeStatus } from '../../execute/status.js';
import {
  EXIT_OK,
  EXIT_RUN_FAILED,
  EXIT_USAGE,
  loadOrReport,
  reportDiagnostics,
  useColor,
  type GlobalOptions,
} from '../load.js';
import { chooseBuildRenderer } from '../render/choose-build-renderer.js';
import { buildSummaryLines } from '../render/plain-build-renderer.js';
import { expectedWork } from './expected-work.js';
import { plural } from '../render/format.js';
import { stopOnSignals } from '../stop-on-signals.js';
import { printStatus } from './status-command.js';

export interface BuildCommandOptions extends GlobalOptions {
  readonly force: boolean;
  readonly dryRun: boolean;
  readonly concurrency?: number;
  readonly connection?: string;
  readonly quiet?: boolean;
  readonly json: boolean;
  /** False with `--no-cache`. */
  readonly cache?: boolean;
  /** False with `--retry-failed=false` (or `--no-retry-failed`). */
  readonly retryFailed?: boolean;
}

/** `kwgraph build [target ...]` */
export async function buildCommand(
  targets: readonly string[],
  options: BuildCommandOptions,
): Promise<number> {
  const project = await loadOrReport(options);
  if (project === undefined) return EXIT_USAGE;
  const root = project.experiment.root;

  const context = BuildContext.create(
    project,
    targets,
    options.connection ?? process.env['KWGRAPH_CONNECTION'],
  );
  if (!context.ok) {
    reportDiagnostics(root, context.error);
    return EXIT_USAGE;
  }

  // experiment.yaml's `cache` was checked when it was loaded; KWGRAPH_CACHE is checked here.
  const cacheProblem = cacheUrlProblem(cacheUrlOf(project.experiment));
  if (cacheProblem !== undefined) {
    reportDiagnostics(root, [
      { message: `KWGRAPH_CACHE: ${cacheProblem}`, hint: 'unset it to use the local cache' },
    ]);
    return EXIT_USAGE;
  }

  const noCache = options.cache === false;
  const retryFailed = options.retryFailed !== false;
  if (options.dryRun) {
    const status = await computeStatus(context.value, {
      force: options.force,
      noCache,
      retryFailed,
    });
    if (!status.ok) {
      reportDiagnostics(root, status.error);
      return EXIT_USAGE;
    }
    printStatus(status.value, options.json, 'would run');
    return EXIT_OK;
  }

  const color = useColor(process.stdout);
  const writeLine = (line: string) => process.stdout.write(`${line}\n`);
  const renderer = await chooseBuildRenderer(
    { json: options.json, quiet: options.quiet ?? false },
    () => expectedWork(context.value, options.force),
  );

  const stop = stopOnSignals((line) => process.stderr.write(`${line}\n`));
  let report;
  try {
    report = await runBuild(
      context.value,
      {
        force: options.force,
        ...(options.concurrency ? { concurrency: options.concurrency } : {}),
        noCache,
        retryFailed,
        signal: stop.signal,
      },
      renderer.render,
    );
  } catch (error) {
    // Imported here: the models module is loaded only when a run needs a model.
    const { ConnectionSetupError } = await import('../../models/create-chat-model.js');
    if (error instanceof ConnectionSetupError) {
      reportDiagnostics(root, [
        { message: error.message, position: error.connection.position, hint: error.hint },
      ]);
      return EXIT_USAGE;
    }
    throw error;
  } finally {
    renderer.stop();
    stop.dispose();
  }
  if (!report.ok) {
    reportDiagnostics(root, report.error);
    return EXIT_USAGE;
  }

  const { interrupted } = report.value;
  if (options.json) {
    process.stdout.write(
      `${JSON.stringify({ ok: report.value.ok, durationMs: report.value.durationMs, runs: report.value.runs, ...(interrupted ? { interrupted } : {}) }, null, 2)}\n`,
    );
  } else if (interrupted !== undefined) {
    writeLine(
      `\nstopped: ${plural(interrupted.rowsSaved, 'row')} and ${plural(interrupted.callsSaved, 'call')} ` +
        `saved by this build, ${interrupted.runsDone} of ${plural(interrupted.runs, 'run')} done; ` +
        '`kwgraph build` resumes from there',
    );
  } else {
    for (const line of buildSummaryLines(
      report.value.runs,
      report.value.durationMs,
      project.experiment.primaryMetric,
      color,
    )) {
      writeLine(line);
    }
  }
  if (interrupted !== undefined) return stop.exitCode() || EXIT_RUN_FAILED;
  return report.value.ok ? EXIT_OK : EXIT_RUN_FAILED;
}
