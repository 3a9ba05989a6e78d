import { CallCache, type CachedCall } from '../cache/call-cache.js';
import { CheckedStore } from '../cache/checked-store.js';
import type { CacheStores } from '../cache/open-store.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { sortDiagnostics } from '../diagnostics/sort-diagnostics.js';
import type { BuildEventListener, RunSummary } from '../events/build-events.js';
import { referencesIn } from '../flow/references.js';
import { CallClaims } from '../locks/call-claims.js';
import { lockRun } from '../locks/run-lock.js';
import type { ChatModel } from '../models/chat-model.js';
import type { LimiterFactory } from '../models/rate-limiter.js';
import { ConnectionSetupError, createChatModel } from '../models/create-chat-model.js';
import type { PlannedRun } from '../plan/planned-run.js';
import { flowEnvironment } from '../python/python-connections.js';
import { pythonInterpreter } from '../python/python-interpreter.js';
import { PythonWorkers } from '../python/python-workers.js';
import type { RunId } from '../plan/run-id.js';
import type { RowKey } from '../cache/cache-keys.js';
import { outputsPath } from '../runs/run-folder.js';
import { readJsonlLines } from '../runs/read-jsonl-lines.js';
import { journalRow, readRunIndex } from '../runs/run-index.js';
import type { OutputLine, RunManifest } from '../runs/run-manifest.js';
import { Interrupted } from '../util/interrupt.js';
import { fail, ok, type Result } from '../util/result.js';
import { assessRun, type AssessOptions, type RunState } from './assess-run.js';
import type { BuildContext } from './build-context.js';
import { DatasetChanged } from '../data/stream-dataset.js';
import { changedWhileReading } from './build-context.js';
import {
  executeRun,
  summaryOf,
  type CachedRow,
  type RowComputer,
  type RunControl,
} from './execute-run.js';
import { rowsWithUpstream } from './run-rows.js';
import type { UpstreamState } from './fingerprint-run.js';
import { openConnections } from './open-connections.js';
import { callPricer } from './price-calls.js';

export interface BuildOptions {
  /** Re-execute every selected run (rows and calls still come from the caches). */
  readonly force: boolean;
  /** Overrides every stage's row concurrency. */
  readonly concurrency?: number;
  /** Longest side of local images sent to models. */
  readonly imageMaxSide?: number;
  /**
   * `--no-cache`: re-execute every selected run, serving no stored row or call: every request
   * is sent again (fresh samples). The answers are stored, replacing the old ones.
   */
  readonly noCache?: boolean;
  /** Retry the rows that failed last time (default true); false keeps them failed. */
  readonly retryFailed?: boolean;
  /**
   * Stops the build: no run, row or call starts after it aborts; those in flight finish and
   * are stored. Runs not finished are left unbuilt, for the next build to resume.
   */
  readonly signal?: AbortSignal;
  /** Where rows the caches do not hold are computed; in this process by default. */
  readonly computeRow?: RowComputer;
  /** Limiters of the endpoints this build calls; each process has its own by default. */
  readonly limiters?: LimiterFactory;
  /** The cache store to use instead of the one the project and KWGRAPH_CACHE name. */
  readonly cacheUrl?: string;
}

export interface BuildReport {
  readonly runs: readonly RunSummary[];
  /** False when any run failed or the build was stopped. */
  readonly ok: boolean;
  readonly durationMs: number;
  /** Set when the signal stopped the build before every run was done. */
  readonly interrupted?: InterruptedBuild;
}

/** What a stopped build saved: everything here is served from the caches by the next build. */
export interface InterruptedBuild {
  /** Row results stored by this build. */
  readonly rowsSaved: number;
  /** LLM calls sent and stored by this build. */
  readonly callsSaved: number;
  /** Runs built or found fresh, of the runs selected. */
  readonly runsDone: number;
  readonly runs: number;
}

const DEFAULT_CONCURRENCY = 4;

/**
 * Builds the selected runs. Each run starts as soon as the runs in its lineage are done, so
 * independent runs (the variants of one stage) proceed side by side. A run whose fingerprint
 * matches its manifest is served as it is; any other run executes, row by row, through the
 * caches. Configuration problems found on the way are returned as diagnostics.
 *
 * Several builds of one project may run at once: a stale run is executed under its lock, and
 * a build that had to wait for the lock looks at the run again, since the other build has
 * usually just built it.
 */
export async function runBuild(
  context: BuildContext,
  options: BuildOptions,
  emit: BuildEventListener,
): Promise<Result<BuildReport, Diagnostic[]>> {
  const started = performance.now();
  const experiment = context.project.experiment;
  const { signal } = options;

  // Every dataset is read before anything is written: a bad line fails the build having
  // created nothing. (The cache URL was checked when the project loaded, and KWGRAPH_CACHE by
  // the command.)
  const unreadable = await readDatasets(context);
  if (unreadable.length > 0) return fail(sortDiagnostics(unreadable));

  const models = new Map<string, ChatModel>();
  const opened = await openConnections(context, options.force, models, options.limiters);
  if (!opened.ok) return opened;
  const python = new PythonWorkers({
    root: context.root,
    interpreter: pythonInterpreter(context.root, experiment.python),
    environment: (dir) =>
      flowEnvironment(context.project.flows[dir], experiment.connections, process.env),
    includes: (dir) => context.project.flows[dir]?.includes,
  });

  const warn = (message: string) => emit({ type: 'warning', message });
  // Said once per dataset, not once per run that reads it.
  const emptyDatasets = new Set<string>();
  const onCorrupt = (key: string, reason: string) =>
    warn(`cache entry ${key.slice(0, 20)}… was discarded (${reason}); computing it again`);

  // The stores are opened when the first run executes: a build that finds every run fresh,
  // or fails before executing one, writes nothing.
  let stores: Promise<CacheStores> | undefined;
  let caches: Promise<{ rows: CheckedStore<CachedRow>; calls: CallCache }> | undefined;
  const openCaches = () => {
    caches ??= (async () => {
      // Loaded here, not at start-up: a build with every run fresh never loads the driver.
      const store = await import('../cache/open-store.js');
      stores = store.openCacheStores(
        options.cacheUrl ?? store.cacheUrlOf(experiment),
        context.root,
        {
          shared: { onUnreachable: warn },
        },
      );
      const opened = await stores;
      const { shared } = opened;
      return {
        rows: new CheckedStore<CachedRow>(
          opened.rows,
          onCorrupt,
          shared && { keyv: shared.rows, status: shared.status },
        ),
        calls: new CallCache(
          new CheckedStore<CachedCall>(
            opened.calls,
            onCorrupt,
            shared && { keyv: shared.calls, status: shared.status },
          ),
          {
            reuse: !options.noCache,
            claims: new CallClaims(context.root, warn),
            ...(signal ? { signal } : {}),
          },
        ),
      };
    })();
    return caches;
  };

  const control: RunControl = {
    ...(signal ? { signal } : {}),
    // `--force` exists to re-run code the fingerprints cannot see (a module imported from
    // outside the flow folder): its rows are computed again, their LLM calls still cached.
    reuseRows: !options.noCache && !options.force,
    saved: { rows: 0 },
    ...(options.computeRow ? { computeRow: options.computeRow } : {}),
  };
  const assessOptions: AssessOptions = {
    force: options.force,
    noCache: options.noCache ?? false,
    retryFailed: options.retryFailed ?? true,
  };

  const diagnostics: Diagnostic[] = [];
  const summaries = new Map<RunId, RunSummary>();
  let stopped = false;

  const modelsFor = async (run: PlannedRun, connections: readonly string[]) => {
    for (const name of connections) {
      if (models.has(name)) continue;
      const config = experiment.connections[name];
      if (config === undefined) throw new Error(`internal error: connection ${name} of ${run.id}`);
      // Loaded on first use: the model clients are the heaviest modules kwgraph has.
      const { createChatModel } = await import('../models/create-chat-model.js');
      models.set(
        name,
        await createChatModel(context.root, config, context, process.env, options.limiters),
      );
    }
  };

  const served = (state: Extract<RunState, { state: 'fresh' }>): RunManifest => {
    const summary = summaryOf(state.manifest, 'cached', []);
    summaries.set(state.manifest.id, summary);
    emit({ type: 'run-finish', summary });
    return state.manifest;
  };

  // Each run's manifest once it is built (or found fresh); undefined when it could not be.
  const results = new Map<RunId, Promise<RunManifest | undefined>>();
  const buildOne = async (run: PlannedRun): Promise<RunManifest | undefined> => {
    const lineage = new Map<RunId, UpstreamState>();
    for (const id of Object.values(run.lineage)) {
      const manifest = await results.get(id);
      if (manifest === undefined) {
        if (!stopped)
          emit({ type: 'run-skip', run: run.id, reason: `upstream ${id} did not finish` });
        return undefined;
      }
      lineage.set(id, { fingerprint: manifest.fingerprintHash, outputs: manifest.outputsHash });
    }
    if (signal?.aborted) {
      stopped = true;
      return undefined;
    }

    const first = await assessRun(context, run, lineage, assessOptions);
    if (!first.ok) {
      diagnostics.push(...first.error);
      return undefined;
    }
    if (first.value.state === 'fresh') return served(first.value);

    try {
      await modelsFor(run, connectionsOf(first.value));
    } catch (error) {
      if (!(error instanceof ConnectionSetupError)) throw error;
      diagnostics.push({
        message: error.message,
        position: error.connection.position,
        hint: error.hint,
      });
      return undefined;
    }

    let lock;
    try {
      lock = await lockRun(context.root, run.id, {
        ...(signal ? { signal } : {}),
        onWait: (holder) =>
          emit({ type: 'run-wait', run: run.id, ...(holder ? { pid: holder.pid } : {}) }),
        onCompromised: warn,
      });
    } catch (error) {
      if (!(error instanceof Interrupted)) throw error;
      stopped = true;
      return undefined;
    }

    try {
      // Look again under the lock: another build may have built the run since.
      const assessed = await assessRun(context, run, lineage, assessOptions);
      if (!assessed.ok) {
        diagnostics.push(...assessed.error);
        return undefined;
      }
      const state = assessed.value;
      if (state.state === 'fresh') return served(state);

      // Upstream outputs are read side by side with the dataset, row by row.
      const upstream = new Map<string, string>();
      for (const stage of stagesRead(run)) {
        const id = run.lineage[stage];
        if (id !== undefined) upstream.set(stage, outputsPath(context.root, id));
      }
      const keepFailed =
        assessOptions.retryFailed === false ? await failedRowsOf(context.root, state) : undefined;

      const datasetHash = state.run.fingerprint.data.hash;
      const rowCount = await context.datasetRowCount(run.dataset, datasetHash);
      const rows = await context.streamRows(run.dataset, datasetHash);
      if (!rowCount.ok || !rows.ok) {
        diagnostics.push(...(rowCount.ok ? [] : rowCount.error), ...(rows.ok ? [] : rows.error));
        return undefined;
      }
      if (rowCount.value === 0 && !emptyDatasets.has(run.dataset)) {
        emptyDatasets.add(run.dataset);
        const file = experiment.datasets[run.dataset]?.path ?? run.dataset;
        warn(`dataset ${run.dataset} (${file}) has no rows: the runs that read it build empty`);
      }
      const { rows: rowCache, calls } = await openCaches();
      const concurrency =
        options.concurrency ?? state.run.definition.settings.concurrency ?? DEFAULT_CONCURRENCY;
      const outcome = await executeRun(
        {
          run,
          definition: state.run.definition,
          fingerprint: state.run.fingerprint,
          fingerprintHash: state.run.hash,
          reasons: state.reasons,
          rows: rowsWithUpstream(rows.value, upstream),
          rowCount: rowCount.value,
          concurrency,
          priceCall: callPricer(experiment.connections, state.run.definition.nodes),
          ...(keepFailed ? { keepFailed } : {}),
        },
        {
          root: context.root,
          flowDir: run.flow.dir,
          models,
          calls: calls.forRun({
            ...(run.sample !== undefined ? { sample: run.sample } : {}),
            // Recorded at once, so that `cache gc` after a crash keeps what was paid for.
            onStoring: (key) => journalRow(context.root, run.id, null, [key]),
          }),
          imageMaxSide: options.imageMaxSide ?? 1024,
          python,
          pythonConcurrency: concurrency,
          connections: experiment.connections,
        },
        rowCache,
        control,
        emit,
      ).catch((error: unknown) => {
        if (!(error instanceof DatasetChanged)) throw error;
        diagnostics.push(changedWhileReading(error.config));
        return undefined;
      });
      if (outcome === undefined) return undefined;
      if (outcome.status === 'interrupted') {
        stopped = true;
        emit({
          type: 'run-skip',
          run: run.id,
          reason: `stopped after ${outcome.rowsDone} of ${outcome.rows} rows; the next build resumes it`,
        });
        return undefined;
      }
      summaries.set(run.id, outcome.summary);
      emit({ type: 'run-finish', summary: outcome.summary });
      return outcome.manifest;
    } finally {
      await lock.release();
    }
  };

  try {
    for (const run of context.selected) results.set(run.id, buildOne(run));
    // allSettled: a run that throws (a bug) must not close the stores under the others.
    const settled = await Promise.allSettled(results.values());
    const failure = settled.find((result) => result.status === 'rejected');
    if (failure !== undefined) throw failure.reason;
  } finally {
    await python.close();
    if (stores !== undefined) await (await stores).close();
    await context.saveFileHashes();
  }

  if (diagnostics.length > 0) return fail(sortDiagnostics(diagnostics));
  const runs = context.selected.flatMap((run) => summaries.get(run.id) ?? []);
  const cache = caches === undefined ? undefined : await caches;
  return ok({
    runs,
    ok:
      !stopped &&
      runs.length === context.selected.length &&
      runs.every((run) => run.status !== 'failed'),
    durationMs: Math.round(performance.now() - started),
    ...(stopped
      ? {
          interrupted: {
            rowsSaved: control.saved.rows,
            callsSaved: cache?.calls.sent ?? 0,
            runsDone: runs.length,
            runs: context.selected.length,
          },
        }
      : {}),
  });
}

/** Reads the dataset of every selected run; the problems of those that cannot be read. */
async function readDatasets(context: BuildContext): Promise<Diagnostic[]> {
  const names = new Set(context.selected.map((run) => run.dataset));
  const diagnostics: Diagnostic[] = [];
  for (const name of names) {
    // Hashing checks every row of content never seen before, and nothing more.
    const dataset = await context.datasetHash(name);
    if (!dataset.ok) diagnostics.push(...dataset.error);
  }
  return diagnostics;
}

function connectionsOf(state: RunState): string[] {
  return state.run.definition.nodes.flatMap((node) =>
    node.type === 'llm' ? [node.connection] : [],
  );
}

/**
 * The rows that failed in a run's previous build, by row-cache key, with their errors: under
 * `--retry-failed=false` the very same rows fail again without being executed.
 */
async function failedRowsOf(
  root: string,
  state: Extract<RunState, { state: 'stale' }>,
): Promise<Map<RowKey, { error: string; node?: string }> | undefined> {
  if (state.previous?.status !== 'failed') return undefined;
  const index = await readRunIndex(root, state.previous.id);
  if (index === undefined) return undefined;
  const keys = new Map(index.rows.map(([row, , key]) => [row, key]));
  const failed = new Map<RowKey, { error: string; node?: string }>();
  try {
    for await (const { value } of readJsonlLines(outputsPath(root, state.previous.id))) {
      const line = value as OutputLine;
      const key = keys.get(line.key);
      if (line.status !== 'failed' || key === undefined || key === null) continue;
      failed.set(key, { error: line.error, ...(line.node ? { node: line.node } : {}) });
    }
  } catch {
    return undefined;
  }
  return failed;
}

/** The lineage stages whose outputs a run reads: its direct sources and any it references. */
function stagesRead(run: PlannedRun): string[] {
  const stages = new Set(run.stage.source.kind === 'stages' ? run.stage.source.stages : []);
  for (const expression of Object.values(run.stage.inputs)) {
    for (const reference of referencesIn(expression)) {
      if (reference.scope in run.lineage) stages.add(reference.scope);
    }
  }
  return [...stages];
}
