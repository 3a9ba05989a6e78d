import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';

import { CacheUrlError } from '../cache/open-store.js';
import { GRAPH_FORMATS, type GraphFormat } from '../plan/render-graph.js';
import { buildCommand } from './commands/build-command.js';
import { workerCommand } from './commands/worker-command.js';
import { flowTestCommand } from './commands/flow-test-command.js';
import { cacheClearCommand, cacheGcCommand } from './commands/cache-command.js';
import { graphCommand } from './commands/graph-command.js';
import { statusCommand } from './commands/status-command.js';
import { exitQuietlyOnClosedPipe } from './closed-pipe.js';
import { EXIT_USAGE, type GlobalOptions } from './load.js';
import { registerResultCommands } from './result-commands.js';

/**
 * The kwgraph command line. Returns the exit code: 0 success, 1 a run failed, 2 a usage or
 * configuration error. Unexpected errors are bugs: reported as such, with the stack only under
 * --verbose.
 */
export async function main(argv: readonly string[]): Promise<number> {
  exitQuietlyOnClosedPipe();
  let exitCode = 0;
  const program = new Command('kwgraph')
    .description('Incremental, content-hashed builds of multi-step LLM experiments')
    .option('-C, --project <dir>', 'project folder (holds experiment.yaml)', process.cwd())
    .option('--verbose', 'show stack traces of internal errors', false)
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) })
    .showHelpAfterError('(run with --help for usage)');

  const globals = (command: Command): GlobalOptions => command.optsWithGlobals() as GlobalOptions;

  program
    .command('build')
    .description('build every run, or the named runs or stages and what they need')
    .argument('[targets...]', 'run ids or stage names')
    .option(
      '--force',
      're-execute every row of the selected runs, even if fresh (LLM calls still cached)',
      false,
    )
    .option('--dry-run', 'say what would run and why, run nothing', false)
    .option('--concurrency <n>', 'rows of one run executed at once', positiveInteger)
    .option(
      '--connection <name>',
      'run every model node on this connection (or KWGRAPH_CONNECTION)',
    )
    .option('--quiet', 'no live display: plain lines, even on a terminal', false)
    .option('--json', 'print one JSON object with every run on stdout', false)
    .option('--no-cache', 'send every call again (fresh samples); results are still stored')
    .addOption(
      new Option('--retry-failed [bool]', 'retry the rows that failed last time')
        .argParser(booleanValue)
        .default(true),
    )
    .option('--no-retry-failed', 'keep rows that failed last time failed, without retrying')
    .option(
      '--queue <url>',
      'hand rows to `kwgraph worker` processes through this Redis queue (redis://host:port[?name=queue])',
    )
    .action(async (targets: string[], _options, command: Command) => {
      exitCode = await buildCommand(targets, globals(command) as never);
    });

  program
    .command('worker')
    .description('compute the rows of `build --queue` builds, on this machine, until stopped')
    .requiredOption(
      '--queue <url>',
      'the Redis queue the builds use (redis://host:port[?name=queue])',
    )
    .option('--concurrency <n>', 'rows computed at once', positiveInteger, 4)
    .option(
      '--stall-timeout <seconds>',
      'a row whose worker shows no sign of life for this long goes to another worker',
      positiveNumber,
      30,
    )
    .action(async (_options, command: Command) => {
      exitCode = await workerCommand(globals(command) as never);
    });

  program
    .command('status')
    .description('show which runs are stale and why, without running anything')
    .argument('[targets...]', 'run ids or stage names')
    .option('--connection <name>', 'as `build --connection` (or KWGRAPH_CONNECTION)')
    .option('--json', 'print JSON', false)
    .action(async (targets: string[], _options, command: Command) => {
      exitCode = await statusCommand(targets, globals(command) as never);
    });

  registerResultCommands(program, (code) => (exitCode = code));

  program
    .command('graph')
    .description('show the lineage of every run')
    .addOption(
      new Option('--format <format>', 'output format').choices(GRAPH_FORMATS).default('tree'),
    )
    .action(async (_options, command: Command) => {
      exitCode = await graphCommand({
        ...globals(command),
        format: command.opts()['format'] as GraphFormat,
      });
    });

  program
    .command('flow')
    .description('work with one flow folder')
    .command('test')
    .description("run a flow on one input and print every node's output")
    .argument('<folder>', 'the flow folder')
    .option('--inputs <file>', 'a JSON object of flow inputs (defaults from the flow)')
    .option(
      '--variant <node.variant>',
      'run this variant of a node (repeatable)',
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option('--connection <name>', 'run every llm node on this connection')
    .option('--json', 'print the report as JSON', false)
    .action(async (folder: string, _options, command: Command) => {
      exitCode = await flowTestCommand(folder, globals(command) as never);
    });

  const cache = program
    .command('cache')
    .description('manage the row and call caches and the run folders');
  cache
    .command('gc')
    .description('remove cached results and run folders no run of the experiment uses')
    .option('--dry-run', 'say what would be removed, remove nothing', false)
    .action(async (_options, command: Command) => {
      exitCode = await cacheGcCommand(globals(command) as never);
    });
  cache
    .command('clear')
    .description('delete every cached result (asks first)')
    .option('-y, --yes', 'delete without asking', false)
    .action(async (_options, command: Command) => {
      exitCode = await cacheClearCommand(globals(command) as never);
    });

  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with code 0; anything else is a usage error.
      return error.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    if (error instanceof CacheUrlError) {
      // KWGRAPH_CACHE names a store kwgraph cannot open (experiment.yaml's is checked on load).
      process.stderr.write(`error: KWGRAPH_CACHE: ${error.message}\n`);
      return EXIT_USAGE;
    }
    const verbose = argv.includes('--verbose');
    process.stderr.write(
      `kwgraph: internal error: ${error instanceof Error ? error.message : String(error)}\n` +
        (verbose && error instanceof Error && error.stack ? `${error.stack}\n` : '') +
        'This is a bug in kwgraph; please report it with the command you ran (and --verbose output).\n',
    );
    return 70;
  }
}

function booleanValue(value: string): boolean {
  if (/^(true|yes|1)$/i.test(value)) return true;
  if (/^(false|no|0)$/i.test(value)) return false;
  throw new InvalidArgumentError('expected true or false, e.g. --retry-failed=false');
}

function positiveNumber(value: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) {
    throw new InvalidArgumentError('expected a number above 0, e.g. 30 or 2.5');
  }
  return number;
}

function positiveInteger(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) {
    throw new InvalidArgumentError('expected a whole number of at least 1');
  }
  return number;
}
