import { BuildContext } from '../../execute/build-context.js';
import { runBuild } from '../../execute/build.js';
import type { RunSummary } from '../../events/build-events.js';
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
import { cacheUrlUsable } from '../check-cache-url.js';
import { chooseBuildRenderer } from '../render/choose-build-renderer.js';
import { buildSummaryLines } from '../render/plain-build-renderer.js';
import { expectedWork } from './expected-work.js';
import { plural } from '../render/format.js';
import { stopOnSignals } from '../stop-on-signals.js';
import { printStatus } from './status-command.js';
import type { QueueBuild } from '../../queue/queue-build.js';
import type { QueueAddress } from '../../queue/queue-url.js';

/** Longest side of local images sent to models (a queue build tells its workers). */
const IMAGE_MAX_SIDE = 1024;

interface QueueSetup {
  readonly address: QueueAddress;
  readonly cacheUrl: string;
}

/** The queue `--queue` names and the cache its build uses; a string says why it cannot be used. */
async function checkQueue(
  url: string,
  experiment: { readonly name: string; readonly cache?: string },
): Promise<QueueSetup | string> {
  const { parseQueueUrl, QueueUrlError } = await import('../../queue/queue-url.js');
  const { queueCacheUrl, queueUnreachable } = await import('../../queue/queue-cache.js');
  let address: QueueAddress;
  try {
    address = parseQueueUrl(url, experiment.name);
  } catch (error) {
    if (error instanceof QueueUrlError) return error.message;
    throw error;
  }
  const unreachable = await queueUnreachable(address);
  if (unreachable !== undefined) return `--queue ${address.shown}: unreachable (${unreachable})`;
  return { address, cacheUrl: queueCacheUrl(experiment, address) };
}

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
  /** `--queue redis://…`: rows are computed by `kwgraph worker` processes taking them from it. */
  readonly queue?: string;
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
  if (!cacheUrlUsable(project)) return EXIT_USAGE;

  // The queue is checked before anything runs: a bad URL or a server that does not answer is a
  // usage error, not a build waiting forever.
  let queued: QueueSetup | undefined;
  if (options.queue !== undefined && !options.dryRun) {
    const setup = await checkQueue(options.queue, project.experiment);
    if (typeof setup === 'string') {
      reportDiagnostics(root, [{ message: setup, hint: 'start Redis, or fix the URL' }]);
      return EXIT_USAGE;
    }
    queued = setup;
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
  let queue: QueueBuild | undefined;
  try {
    if (queued !== undefined) {
      const { openQueueBuild } = await import('../../queue/queue-build.js');
      queue = await openQueueBuild(queued.address, {
        cacheUrl: queued.cacheUrl,
        connection: context.value.connectionOverride,
        concurrency: options.concurrency,
        imageMaxSide: IMAGE_MAX_SIDE,
        fresh: noCache,
        signal: stop.signal,
        emit: renderer.render,
      });
    }
    report = await runBuild(
      context.value,
      {
        force: options.force,
        ...(options.concurrency ? { concurrency: options.concurrency } : {}),
        noCache,
        retryFailed,
        signal: stop.signal,
        imageMaxSide: IMAGE_MAX_SIDE,
        ...queue?.options,
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
    await queue?.close();
    renderer.stop();
    stop.dispose();
  }
  if (!report.ok) {
    reportDiagnostics(root, report.error);
    return EXIT_USAGE;
  }

  const { interrupted } = report.value;
  if (options.json) {
    const { ok, durationMs, runs } = report.value;
    const totals = totalsOf(runs);
    process.stdout.write(
      `${JSON.stringify({ ok, durationMs, totals, runs, ...(interrupted ? { interrupted } : {}) }, null, 2)}\n`,
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

/** What the whole build did, as `--json` gives it next to the runs. */
function totalsOf(runs: readonly RunSummary[]) {
  const totals = {
    runs: runs.length,
    executed: 0,
    cached: 0,
    failed: 0,
    calls: 0,
    cachedCalls: 0,
    tokens: { prompt: 0, completion: 0, total: 0 },
    cost: undefined as number | undefined,
  };
  for (const run of runs) {
    totals[run.status]++;
    totals.calls += run.calls;
    totals.cachedCalls += run.cachedCalls;
    totals.tokens.prompt += run.tokens.prompt;
    totals.tokens.completion += run.tokens.completion;
    totals.tokens.total += run.tokens.total;
    if (run.cost !== undefined) totals.cost = (totals.cost ?? 0) + run.cost;
  }
  return totals;
}
