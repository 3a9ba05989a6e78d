import { Command, Option } from 'commander';

import { compareCommand } from './commands/compare-command.js';
import { EXPORT_FORMATS, exportCommand } from './commands/export-command.js';
import { reportCommand } from './commands/report-command.js';
import { showCommand } from './commands/show-command.js';
import type { GlobalOptions } from './load.js';

/**
 * Registers the commands that read built results: compare, show, export and report. Kept apart
 * from main.ts so that the commands that build and the commands that read grow independently.
 */
export function registerResultCommands(
  program: Command,
  setExitCode: (code: number) => void,
): void {
  const globals = (command: Command): GlobalOptions => command.optsWithGlobals() as GlobalOptions;

  program
    .command('compare')
    .description('the built runs of a stage (default: the last) side by side, best first')
    .argument('[stage]', 'the stage whose runs are compared')
    .option(
      '--metric <name>',
      'a metric column, the first ranking the runs; repeat it or list names with commas ' +
        '(default: compare.metric and a few more)',
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option('--all-metrics', 'a column for every metric the runs report', false)
    .addOption(
      new Option('--better <direction>', 'which values of the ranking metric are better').choices([
        'higher',
        'lower',
      ]),
    )
    .addOption(new Option('--json', 'print JSON').default(false).conflicts('csv'))
    .option('--csv', 'print CSV', false)
    .action(async (stage: string | undefined, _options, command: Command) => {
      setExitCode(await compareCommand(stage, globals(command) as never));
    });

  program
    .command('show')
    .description("a run's manifest, or one of its rows traced through every upstream run")
    .argument('<run>', 'a run id (`kwgraph graph` lists them)')
    .option('--row <n>', 'the row with this key, or at this 0-based index')
    .option('--where <column=value>', 'the first row whose data column has this value')
    .option('--json', 'print JSON', false)
    .action(async (run: string, _options, command: Command) => {
      setExitCode(await showCommand(run, globals(command) as never));
    });

  program
    .command('export')
    .description('every row of every built run of a stage, merged with its upstream rows')
    .argument('<stage>', 'the stage whose runs are exported')
    .addOption(
      new Option('--format <format>', 'jsonl, or csv (default: from -o, else jsonl)').choices(
        EXPORT_FORMATS,
      ),
    )
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .action(async (stage: string, _options, command: Command) => {
      setExitCode(await exportCommand(stage, globals(command) as never));
    });

  program
    .command('report')
    .description('one self-contained HTML file: run graph, compare table, charts, cost, rows')
    .option('-o, --output <file>', 'where to write it (default: report.html in the project)')
    .option('--open', 'open it in the default browser', false)
    .action(async (_options, command: Command) => {
      setExitCode(await reportCommand(globals(command) as never));
    });
}
