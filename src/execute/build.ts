import { CallCache } from '../cache/call-cache.js';
import type { CacheStores } from '../cache/open-store.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { sortDiagnostics } from '../diagnostics/sort-diagnostics.js';
import type { ContentHash } from '../fingerprint/hash.js';
import type { BuildEventListener, RunSummary } from '../events/build-events.js';
import { referencesIn } from '../flow/references.js';
import type { ChatModel } from '../models/chat-model.js';
import type { PlannedRun } from '../plan/planned-run.js';
import type { RunId } from '../plan/run-id.js';
import { readOutputs } from '../runs/run-folder.js';
import type { OutputLine, RunManifest } from '../runs/run-manifest.js';
import { fail, ok, type Result } from '../util/result.js';
import { assessRun } from './assess-run.js';
import type { BuildContext } from './build-context.js';
import { executeRun, summaryOf, type UpstreamOutputs } from './execute-run.js';

export interface BuildOptions {
  /** Re-execute every selected run (rows and calls still come from the caches). */
  readonly force: boolean;
  /** Overrides every stage's row concurrency. */
  readonly concurrency?: number;
  /** Longest side of local images sent to models. */
  readonly imageMaxSide?: number;
}

export interface BuildReport {
  readonly runs: readonly RunSummary[];
  /** False when any run failed. */
  readonly ok: boolean;
  readonly durationMs: number;
}

const DEFAULT_CONCURRENCY = 4;

/**
 * Builds the selected runs. Each run starts as soon as the runs in its lineage are done, so
 * independent runs (the variants of one stage) proceed side by side. A run whose fingerprint
 * matches its manifest is served as it is; any other run executes, row by row, through the
 * caches. Configuration problems found on the way are returned as diagnostics.
 */
export async function runBuild(
  context: BuildContext,
  options: BuildOptions,
  emit: BuildEventListener,
): Promise<Result<BuildReport, Diagnostic[]>> {
  const started = performance.now();
  const experiment = context.project.experiment;
  // The caches (and the SQLite driver) are opened when the first run executes: a build with
  // every run fresh never loads them.
  let opened: Promise<{ stores: CacheStores; calls: CallCache }> | undefined;
  const caches = () =>
    (opened ??= import('../cache/open-store.js').then(async (store) => {
      const stores = await store.openCacheStores(
        experiment.cache ?? store.DEFAULT_CACHE_URL,
        context.root,
      );
      return { stores, calls: new CallCache(stores.calls) };
    }));
  const models = new Map<string, ChatModel>();
  const outputs = new Map<RunId, Promise<UpstreamOutputs>>();
  const diagnostics: Diagnostic[] = [];
  const summaries = new Map<RunId, RunSummary>();

  const modelsFor = async (run: PlannedRun, connections: readonly string[]) => {
    for (const name of connections) {
      if (models.has(name)) continue;
      const config = experiment.connections[name];
      if (config === undefined) throw new Error(`internal error: connection ${name} of ${run.id}`);
      // Loaded on first use: the model clients are the heaviest modules kwgraph has.
      const { createChatModel } = await import('../models/create-chat-model.js');
      models.set(name, await createChatModel(context.root, config, context));
    }
  };

  const outputsOf = (id: RunId): Promise<UpstreamOutputs> => {
    let loaded = outputs.get(id);
    if (loaded === undefined) {
      loaded = readOutputs(context.root, id).then(
        (lines) => new Map(lines.map((line): [string, OutputLine] => [line.key, line])),
      );
      outputs.set(id, loaded);
    }
    return loaded;
  };

  // Each run's manifest once it is built (or found fresh); undefined when it could not be.
  const results = new Map<RunId, Promise<RunManifest | undefined>>();
  const buildOne = async (run: PlannedRun): Promise<RunManifest | undefined> => {
    const lineage = new Map<RunId, ContentHash>();
    for (const id of Object.values(run.lineage)) {
      const manifest = await results.get(id);
      if (manifest === undefined) {
        emit({ type: 'run-skip', run: run.id, reason: `upstream ${id} did not finish` });
        return undefined;
      }
      lineage.set(id, manifest.fingerprintHash);
    }

    const assessed = await assessRun(context, run, lineage, options.force);
    if (!assessed.ok) {
      diagnostics.push(...assessed.error);
      return undefined;
    }
    const state = assessed.value;
    if (state.state === 'fresh') {
      const summary = summaryOf(state.manifest, 'cached', []);
      summaries.set(run.id, summary);
      emit({ type: 'run-finish', summary });
      return state.manifest;
    }

    const connections = state.run.definition.nodes.flatMap((node) =>
      node.type === 'llm' ? [node.connection] : [],
    );
    await modelsFor(run, connections);

    const rows = await context.datasetRows(run.dataset, state.run.fingerprint.data.hash);
    if (!rows.ok) {
      diagnostics.push(...rows.error);
      return undefined;
    }

    const upstream = new Map<string, UpstreamOutputs>();
    for (const stage of stagesRead(run)) {
      const id = run.lineage[stage];
      if (id !== undefined) upstream.set(stage, await outputsOf(id));
    }

    const { stores, calls } = await caches();
    const { summary, manifest } = await executeRun(
      {
        run,
        definition: state.run.definition,
        fingerprint: state.run.fingerprint,
        fingerprintHash: state.run.hash,
        reasons: state.reasons,
        rows: rows.value,
        upstream,
        concurrency:
          options.concurrency ?? state.run.definition.settings.concurrency ?? DEFAULT_CONCURRENCY,
      },
      {
        root: context.root,
        flowDir: run.flow.dir,
        models,
        calls,
        imageMaxSide: options.imageMaxSide ?? 1024,
      },
      stores.rows,
      emit,
    );
    // A rebuilt run's outputs replace whatever an earlier read of them cached.
    outputs.delete(run.id);
    summaries.set(run.id, summary);
    emit({ type: 'run-finish', summary });
    return manifest;
  };

  try {
    for (const run of context.selected) results.set(run.id, buildOne(run));
    await Promise.all(results.values());
  } finally {
    if (opened !== undefined) await (await opened).stores.close();
    await context.saveFileHashes();
  }

  if (diagnostics.length > 0) return fail(sortDiagnostics(diagnostics));
  const runs = context.selected.flatMap((run) => summaries.get(run.id) ?? []);
  return ok({
    runs,
    ok: runs.length === context.selected.length && runs.every((run) => run.status !== 'failed'),
    durationMs: Math.round(performance.now() - started),
  });
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
