import { CheckedStore } from '../../cache/checked-store.js';
import { cacheUrlOf, openCacheStores } from '../../cache/open-store.js';
import type { CachedCall } from '../../cache/call-cache.js';
import { closestMatch } from '../../config/did-you-mean.js';
import type { JsonObject } from '../../config/types.js';
import type { RunId } from '../../plan/run-id.js';
import type { RunManifest } from '../../runs/run-manifest.js';
import { findRow, parseWhere, type RowRef, type RowSelector } from '../../results/find-row.js';
import { stageNamesInOrder } from '../../results/lineage.js';
import { readRunManifest, readRunOutputs } from '../../results/run-files.js';
import { runUsage } from '../../results/run-usage.js';
import { lineageIds, traceRow } from '../../results/trace-row.js';
import { EXIT_OK, EXIT_USAGE, reportDiagnostics, useColor, type GlobalOptions } from '../load.js';
import { rowTraceLines } from '../render/show-row.js';
import { runSummaryLines, type RunCurrency } from '../render/show-run.js';
import { loadResults, type LoadedResults } from './load-results.js';

export interface ShowCommandOptions extends GlobalOptions {
  readonly row?: string;
  readonly where?: string;
  readonly json: boolean;
}

/** `kwgraph show <run>`: a run's manifest, or one of its rows traced through its lineage. */
export async function showCommand(runId: string, options: ShowCommandOptions): Promise<number> {
  const loaded = await loadResults(options);
  if (loaded === undefined) return EXIT_USAGE;
  const root = loaded.project.experiment.root;
  const color = useColor(process.stdout);

  let selector: RowSelector | undefined;
  if (options.row !== undefined && options.where !== undefined) {
    reportDiagnostics(root, [{ message: '--row and --where cannot be used together' }]);
    return EXIT_USAGE;
  }
  if (options.row !== undefined) selector = { kind: 'row', value: options.row };
  if (options.where !== undefined) {
    selector = parseWhere(options.where);
    if (selector === undefined) {
      reportDiagnostics(root, [
        {
          message: `--where ${options.where}: expected column=value`,
          hint: 'for example --where fsn=KWG0001',
        },
      ]);
      return EXIT_USAGE;
    }
  }

  const found = await findRun(loaded, runId);
  if (found === undefined) {
    const planned = loaded.context.graph.runs.map((run) => run.id);
    const suggestion = closestMatch(runId, planned);
    const inPlan = loaded.context.graph.has(runId);
    reportDiagnostics(root, [
      inPlan
        ? {
            message: `run ${runId} has not been built`,
            hint: `\`kwgraph build ${runId}\` builds it`,
          }
        : {
            message: `"${runId}" is not a run of this experiment${suggestion ? `; did you mean \`${suggestion}\`?` : ''}`,
            hint: '`kwgraph graph` lists the runs',
          },
    ]);
    return EXIT_USAGE;
  }
  const { manifest, currency } = found;
  const stageOrder = stageNamesInOrder(loaded.project.experiment);

  if (selector === undefined) {
    const usage = await runUsage(root, manifest);
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ ...currency, usage, manifest }, null, 2)}\n`);
    } else {
      const lineage = lineageIds(manifest, stageOrder);
      process.stdout.write(
        `${runSummaryLines(manifest, currency, usage, lineage, color).join('\n')}\n`,
      );
    }
    return EXIT_OK;
  }

  const rows = await rowsOf(loaded, manifest);
  const row = findRow(selector, rows);
  if (!row.ok) {
    reportDiagnostics(root, row.error);
    return EXIT_USAGE;
  }

  // A run built from a teammate's rows has its calls in the shared store only.
  const stores = await openCacheStores(cacheUrlOf(loaded.project.experiment), root, {
    shared: { onUnreachable: (message) => process.stderr.write(`warning: ${message}\n`) },
  });
  const shared = stores.shared;
  const calls = new CheckedStore<CachedCall>(
    stores.calls,
    undefined,
    shared && { keyv: shared.calls, status: shared.status },
  );
  let trace;
  try {
    trace = await traceRow(root, manifest, row.value.row, stageOrder, (key) => calls.get(key));
  } finally {
    await stores.close();
  }
  const note =
    row.value.matches > 1
      ? `${row.value.matches} rows match ${options.where}; showing the first (pick one with --row <key>)`
      : currency.state === 'current'
        ? undefined
        : currency.state === 'stale'
          ? `this run is stale (${currency.reasons.join('; ')})`
          : 'this run is not in the current plan';
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ ...trace, ...(note ? { note } : {}) }, null, 2)}\n`);
  } else {
    process.stdout.write(`${rowTraceLines(trace, color, note).join('\n')}\n`);
  }
  return EXIT_OK;
}

/**
 * The run's manifest and whether it is current. A run folder left by an earlier plan (a variant
 * since removed) can still be shown.
 */
async function findRun(
  loaded: LoadedResults,
  id: string,
): Promise<{ manifest: RunManifest; currency: RunCurrency } | undefined> {
  const root = loaded.project.experiment.root;
  const built = loaded.built.built.get(id as RunId);
  if (built !== undefined) return { manifest: built.manifest, currency: { state: 'current' } };
  if (id.includes('/') || id.includes('\\') || id === '.' || id === '..') return undefined;
  const manifest = await readRunManifest(root, id as RunId);
  if (manifest === undefined) return undefined;
  const unbuilt = loaded.built.unbuilt.find((entry) => entry.run.id === id);
  return {
    manifest,
    currency:
      unbuilt !== undefined
        ? { state: 'stale', reasons: unbuilt.reasons }
        : { state: 'not-in-plan' },
  };
}

/** The run's rows with their dataset values (when the dataset can still be read). */
async function rowsOf(loaded: LoadedResults, manifest: RunManifest): Promise<RowRef[]> {
  const lines = await readRunOutputs(loaded.project.experiment.root, manifest.id);
  const name = manifest.fingerprint.data.dataset;
  const data = new Map<string, JsonObject>();
  if (loaded.project.experiment.datasets[name] !== undefined) {
    const dataset = await loaded.context.dataset(name);
    if (dataset.ok) for (const row of dataset.value.rows) data.set(row.key, row.data);
  }
  return lines.map((line) => ({
    key: line.key,
    index: line.index,
    data: data.get(line.key) ?? null,
  }));
}
