import { cacheUrlUsable } from '../check-cache-url.js';
import { BuildContext } from '../../execute/build-context.js';
import { computeStatus, type RunStatus } from '../../execute/status.js';
import {
  EXIT_OK,
  EXIT_USAGE,
  loadOrReport,
  reportDiagnostics,
  useColor,
  type GlobalOptions,
} from '../load.js';
import { styles } from '../render/format.js';

export interface StatusCommandOptions extends GlobalOptions {
  readonly json: boolean;
  readonly connection?: string;
}

/** `kwgraph status [target ...]`: what is stale and why, running nothing. */
export async function statusCommand(
  targets: readonly string[],
  options: StatusCommandOptions,
): Promise<number> {
  const project = await loadOrReport(options);
  if (project === undefined) return EXIT_USAGE;
  if (!cacheUrlUsable(project)) return EXIT_USAGE;

  // The same connection choice as `build`, or every run would look stale under an override.
  const context = BuildContext.create(
    project,
    targets,
    options.connection ?? process.env['KWGRAPH_CONNECTION'],
  );
  if (!context.ok) {
    reportDiagnostics(project.experiment.root, context.error);
    return EXIT_USAGE;
  }
  const status = await computeStatus(context.value);
  if (!status.ok) {
    reportDiagnostics(project.experiment.root, status.error);
    return EXIT_USAGE;
  }
  printStatus(status.value, options.json, 'stale');
  return EXIT_OK;
}

export function printStatus(runs: readonly RunStatus[], json: boolean, staleWord: string): void {
  if (json) {
    const stale = runs.filter((run) => run.state === 'stale').length;
    process.stdout.write(
      `${JSON.stringify({ stale, fresh: runs.length - stale, runs }, null, 2)}\n`,
    );
    return;
  }
  const style = styles(useColor(process.stdout));
  const width = Math.max(0, ...runs.map((run) => run.id.length));
  for (const run of runs) {
    if (run.state === 'fresh') {
      process.stdout.write(`${style.dim('fresh')}  ${run.id}\n`);
    } else {
      process.stdout.write(
        `${style.yellow(staleWord === 'stale' ? 'stale' : 'run  ')}  ${run.id.padEnd(width)}  ${run.reasons.join('; ')}\n`,
      );
    }
  }
  const stale = runs.filter((run) => run.state === 'stale').length;
  process.stdout.write(
    `\n${stale} of ${runs.length} runs ${staleWord === 'stale' ? 'stale' : 'would run'}\n`,
  );
}
