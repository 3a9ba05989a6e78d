import { spawn } from 'node:child_process';
import path from 'node:path';

import { renderGraph } from '../../plan/render-graph.js';
import { collectReportData } from '../../report/report-data.js';
import { renderReport } from '../../report/render-report.js';
import type { UnbuiltRun } from '../../results/built-runs.js';
import { compareRuns } from '../../results/compare-runs.js';
import { selectStage } from '../../results/lineage.js';
import { writeFileAtomic } from '../../runs/run-folder.js';
import { EXIT_OK, EXIT_USAGE, reportDiagnostics, useColor, type GlobalOptions } from '../load.js';
import { plural, styles } from '../render/format.js';
import { loadResults } from './load-results.js';

export interface ReportCommandOptions extends GlobalOptions {
  readonly output?: string;
  readonly open: boolean;
}

/** `kwgraph report`: one self-contained HTML file with the graph, the ranking and the rows. */
export async function reportCommand(options: ReportCommandOptions): Promise<number> {
  const loaded = await loadResults(options);
  if (loaded === undefined) return EXIT_USAGE;
  const experiment = loaded.project.experiment;
  const stage = selectStage(experiment, undefined);
  if (!stage.ok) {
    reportDiagnostics(experiment.root, stage.error);
    return EXIT_USAGE;
  }
  const compare = await compareRuns(loaded.context, loaded.built, { stage: stage.value });
  if (!compare.ok) {
    reportDiagnostics(experiment.root, compare.error);
    return EXIT_USAGE;
  }

  const data = await collectReportData(loaded.context, loaded.built, compare.value);
  const html = renderReport(data, {
    mermaid: renderGraph(loaded.context.graph, 'mermaid'),
    dot: renderGraph(loaded.context.graph, 'dot'),
  });
  const file = path.resolve(options.output ?? path.join(experiment.root, 'report.html'));
  await writeFileAtomic(file, html);
  process.stdout.write(`wrote ${path.relative(process.cwd(), file) || file}\n`);
  noteUnbuilt(loaded.built.unbuilt);
  if (options.open) openInBrowser(file);
  return EXIT_OK;
}

/** The runs the report leaves out, on stderr: a report that silently shows less misleads. */
function noteUnbuilt(unbuilt: readonly UnbuiltRun[]): void {
  if (unbuilt.length === 0) return;
  const style = styles(useColor(process.stderr));
  process.stderr.write(
    `${style.yellow('note:')} ${plural(unbuilt.length, 'run')} not in the report ` +
      '(`kwgraph build` builds them):\n',
  );
  for (const entry of unbuilt) {
    process.stderr.write(
      `  ${style.yellow(entry.state.padEnd(7))}  ${entry.run.id}  ${style.dim(entry.reasons.join('; '))}\n`,
    );
  }
}

/** Opens a file with the desktop's default application; says where it is if that fails. */
function openInBrowser(file: string): void {
  const [command, args] =
    process.platform === 'darwin'
      ? ['open', [file]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '""', file]]
        : ['xdg-open', [file]];
  const child = spawn(command, args as string[], { detached: true, stdio: 'ignore' });
  child.on('error', () => {
    process.stderr.write(`could not start ${command}; open ${file} in a browser\n`);
  });
  child.unref();
}
