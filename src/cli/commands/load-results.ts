import type { LoadedProject } from '../../config/types.js';
import { BuildContext } from '../../execute/build-context.js';
import { findBuiltRuns, type BuiltRuns } from '../../results/built-runs.js';
import { loadOrReport, reportDiagnostics, type GlobalOptions } from '../load.js';

/** What the result commands (compare, show, export, report) start from. */
export interface LoadedResults {
  readonly project: LoadedProject;
  readonly context: BuildContext;
  readonly built: BuiltRuns;
}

/**
 * Loads the project, plans it and finds which runs are built and current. On a configuration
 * error, prints the diagnostics and returns undefined: the caller exits with EXIT_USAGE.
 */
export async function loadResults(options: GlobalOptions): Promise<LoadedResults | undefined> {
  const project = await loadOrReport(options);
  if (project === undefined) return undefined;
  const root = project.experiment.root;
  const context = BuildContext.create(project, []);
  if (!context.ok) {
    reportDiagnostics(root, context.error);
    return undefined;
  }
  const built = await findBuiltRuns(context.value);
  if (!built.ok) {
    reportDiagnostics(root, built.error);
    return undefined;
  }
  return { project, context: context.value, built: built.value };
}
