import { createInterface } from 'node:readline/promises';

import { cacheContents, clearCache } from '../../cache/clear-cache.js';
import { collectGarbage } from '../../cache/collect-garbage.js';
import { cacheUrlOf, cacheUrlProblem } from '../../cache/open-store.js';
import { BuildContext } from '../../execute/build-context.js';
import type { CacheInUse } from '../../locks/hold-runs.js';
import {
  EXIT_OK,
  EXIT_RUN_FAILED,
  EXIT_USAGE,
  loadOrReport,
  reportDiagnostics,
  type GlobalOptions,
} from '../load.js';
import { plural } from '../render/format.js';

export interface CacheGcOptions extends GlobalOptions {
  readonly dryRun: boolean;
}

export interface CacheClearOptions extends GlobalOptions {
  readonly yes: boolean;
}

/** `kwgraph cache gc`: removes cache entries and run folders no current run uses. */
export async function cacheGcCommand(options: CacheGcOptions): Promise<number> {
  const context = await planOrReport(options);
  if (context === undefined) return EXIT_USAGE;

  const report = await collectGarbage(context, { dryRun: options.dryRun });
  if (!report.ok) return inUse(report.error);

  const { rowEntries, callEntries, keptEntries, runFolders } = report.value;
  const verb = options.dryRun ? 'would remove' : 'removed';
  process.stdout.write(
    `${verb} ${plural(rowEntries, 'row result')} and ${plural(callEntries, 'call')} no run ` +
      `of the experiment uses (${keptEntries.toLocaleString('en-US')} kept)\n`,
  );
  if (runFolders.length > 0) {
    process.stdout.write(
      `${verb} ${plural(runFolders.length, 'run folder')} of runs no longer in the experiment: ` +
        `${runFolders.join(', ')}\n`,
    );
  }
  return EXIT_OK;
}

/**
 * `kwgraph cache clear`: deletes every cached result, after asking. Without a terminal to ask
 * and without `--yes` it refuses: a script must say so explicitly.
 */
export async function cacheClearCommand(options: CacheClearOptions): Promise<number> {
  const context = await planOrReport(options);
  if (context === undefined) return EXIT_USAGE;

  const contents = await cacheContents(context);
  const what =
    `every cached row result and LLM call (${contents.store}) and ` +
    `${plural(contents.runFolders, 'run folder')} under cache/runs`;
  if (!options.yes) {
    if (process.stdin.isTTY !== true) {
      process.stderr.write(
        `kwgraph cache clear would delete ${what}; there is no terminal to confirm it: ` +
          'pass --yes to delete\n',
      );
      return EXIT_USAGE;
    }
    const prompt = createInterface({ input: process.stdin, output: process.stderr });
    const answer = await prompt.question(`Delete ${what}? Calls would be paid again. [y/N] `);
    prompt.close();
    if (!/^y(es)?$/i.test(answer.trim())) {
      process.stderr.write('nothing deleted\n');
      return EXIT_OK;
    }
  }

  const cleared = await clearCache(context);
  if (!cleared.ok) return inUse(cleared.error);
  process.stdout.write(`deleted ${what}\n`);
  return EXIT_OK;
}

async function planOrReport(options: GlobalOptions): Promise<BuildContext | undefined> {
  const project = await loadOrReport(options);
  if (project === undefined) return undefined;
  const context = BuildContext.create(project, []);
  if (!context.ok) {
    reportDiagnostics(project.experiment.root, context.error);
    return undefined;
  }
  // A shared store's URL is checked too, though `cache` commands work on the local file only.
  const badUrl = cacheUrlProblem(cacheUrlOf(project.experiment));
  if (badUrl !== undefined) {
    reportDiagnostics(project.experiment.root, [{ message: badUrl }]);
    return undefined;
  }
  return context.value;
}

function inUse(busy: CacheInUse): number {
  const who = busy.holder === undefined ? 'another build' : `a build (pid ${busy.holder.pid})`;
  process.stderr.write(
    `kwgraph: the cache is in use: ${who} is working on ${busy.what}; try again when it ends\n`,
  );
  return EXIT_RUN_FAILED;
}
