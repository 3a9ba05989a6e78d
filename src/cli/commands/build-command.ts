import type { BuildEvent } from '../../events/build-events.js';
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
import { buildSummaryLines, plainBuildRenderer } from '../render/plain-build-renderer.js';
import { printStatus } from './status-command.js';

export interface BuildCommandOptions extends GlobalOptions {
  readonly force: boolean;
  readonly dryRun: boolean;
  readonly concurrency?: number;
  readonly connection?: string;
  readonly json: boolean;
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

  if (options.dryRun) {
    const status = await computeStatus(context.value, options.force);
    if (!status.ok) {
      reportDiagnostics(root, status.error);
      return EXIT_USAGE;
    }
    printStatus(status.value, options.json, 'would run');
    return EXIT_OK;
  }

  const color = useColor(process.stdout);
  const writeLine = (line: string) => process.stdout.write(`${line}\n`);
  const render: (event: BuildEvent) => void = options.json
    ? () => {}
    : plainBuildRenderer(writeLine, { color });

  let report;
  try {
    report = await runBuild(
      context.value,
      {
        force: options.force,
        ...(options.concurrency ? { concurrency: options.concurrency } : {}),
      },
      render,
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
  }
  if (!report.ok) {
    reportDiagnostics(root, report.error);
    return EXIT_USAGE;
  }

  if (options.json) {
    process.stdout.write(
      `${JSON.stringify({ ok: report.value.ok, durationMs: report.value.durationMs, runs: report.value.runs }, null, 2)}\n`,
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
  return report.value.ok ? EXIT_OK : EXIT_RUN_FAILED;
}
