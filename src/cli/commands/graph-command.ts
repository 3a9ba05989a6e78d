import { BuildContext } from '../../execute/build-context.js';
import { renderGraph, type GraphFormat } from '../../plan/render-graph.js';
import {
  EXIT_OK,
  EXIT_USAGE,
  loadOrReport,
  reportDiagnostics,
  type GlobalOptions,
} from '../load.js';

export interface GraphCommandOptions extends GlobalOptions {
  readonly format: GraphFormat;
}

/** `kwgraph graph`: the lineage of every run. */
export async function graphCommand(options: GraphCommandOptions): Promise<number> {
  const project = await loadOrReport(options);
  if (project === undefined) return EXIT_USAGE;
  const context = BuildContext.create(project, []);
  if (!context.ok) {
    reportDiagnostics(project.experiment.root, context.error);
    return EXIT_USAGE;
  }
  process.stdout.write(renderGraph(context.value.graph, options.format));
  return EXIT_OK;
}
