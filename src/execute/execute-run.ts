import { mkdir } from 'node:fs/promises';

import pLimit from 'p-limit';

import { rowKey, type RowKey } from '../cache/cache-keys.js';
import type { CheckedStore } from '../cache/checked-store.js';
import type { BuildEventListener, RunSummary, TokenCounts } from '../events/build-events.js';
import { hashValue, type ContentHash } from '../fingerprint/hash.js';
import { rowDefinitionOf, type RunFingerprint } from '../fingerprint/run-fingerprint.js';
import { describeReason, type StaleReason } from '../fingerprint/stale-reason.js';
import { AggregationInputs, executeAggregation } from '../flow/execute-aggregation.js';
import {
  executeFlowRow,
  messageOf,
  type CallRecord,
  type RowOutcome,
} from '../flow/execute-flow-row.js';
import type { NodeRuntime } from '../flow/execute-node.js';
import { inputsForCacheKey, prepareFlowInputs } from '../flow/flow-inputs.js';
import { followPath, resolveExpression, type ReferenceLookup } from '../flow/references.js';
import type { PlannedRun } from '../plan/planned-run.js';
import type { RunDefinition } from '../plan/run-definition.js';
import { invalidateRun, runFolder } from '../runs/run-folder.js';
import { journalRow } from '../runs/run-index.js';
import type { AggregatedRows, RunManifest } from '../runs/run-manifest.js';
import { Interrupted } from '../util/interrupt.js';
import type { SourceRow } from './run-rows.js';
import { RunWriter } from './run-writer.js';

export type { SourceRow };

export interface RunJob {
  readonly run: PlannedRun;
  readonly definition: RunDefinition;
  readonly fingerprint: RunFingerprint;
  readonly fingerprintHash: ContentHash;
  readonly reasons: readonly StaleReason[];
  /**
   * The run's rows in input order, each with the upstream output lines it reads: read once,
   * as the run goes, so that only the rows in flight are in memory.
   */
  readonly rows: AsyncIterable<SourceRow>;
  /** How many rows `rows` yields. */
  readonly rowCount: number;
  readonly concurrency: number;
  /** Estimated cost in USD of a call, from the connections' prices; undefined when unpriced. */
  readonly priceCall?: (call: CallRecord) => number | undefined;
  /**
   * Rows that failed in the previous build and are kept failed rather than retried
   * (`--retry-failed=false`), by row-cache key: only the very same computation is kept.
   */
  readonly keepFailed?: ReadonlyMap<RowKey, { readonly error: string; readonly node?: string }>;
}

/** How a run executes within the build around it. */
export interface RunControl {
  /** Once aborted, no new row starts; rows in flight finish without starting new calls. */
  readonly signal?: AbortSignal;
  /** Serve rows stored by earlier builds (false under `--no-cache`). */
  readonly reuseRows: boolean;
  /** What this build stored, counted across runs for the summary of an interrupted build. */
  readonly saved: { rows: number };
  /**
   * Computes a row the caches do not hold. By default the flow runs here, in this process; a
   * build that hands rows to workers elsewhere passes its own.
   */
  readonly computeRow?: RowComputer;
}

/** Runs a row's flow on its resolved inputs, wherever that happens. */
export type RowComputer = (
  job: RunJob,
  key: RowKey,
  inputs: Record<string, unknown>,
  runtime: NodeRuntime,
) => Promise<RowOutcome>;

/** The default: the row's flow runs in this process. */
export const computeRowHere: RowComputer = (job, _key, inputs, runtime) =>
  executeFlowRow(job.run.flow, job.definition.nodes, inputs, runtime);

/** A run's end: built (succeeded or failed), or stopped before every row was done. */
export type RunOutcome =
  | { readonly status: 'built'; readonly summary: RunSummary; readonly manifest: RunManifest }
  | { readonly status: 'interrupted'; readonly rowsDone: number; readonly rows: number };

/** What a row keeps in the row cache: enough to rebuild its output line and its trace. */
export interface CachedRow {
  readonly outputs: Record<string, unknown>;
  readonly nodes: Record<string, unknown>;
  readonly calls: readonly CallRecord[];
  /** Nodes `activate` bypassed; absent when none was. */
  readonly bypassed?: readonly string[];
}

/** A row's result within this build. */
type RowResult =
  | {
      readonly status: 'ok';
      readonly key: RowKey;
      readonly inputs: Record<string, unknown>;
      readonly outputs: Record<string, unknown>;
      readonly nodes: Record<string, unknown>;
      readonly calls: readonly CallRecord[];
      readonly bypassed?: readonly string[];
      readonly fromRowCache: boolean;
    }
  | {
      readonly status: 'failed' | 'skipped';
      /** The row's cache key, when its inputs could be resolved. */
      readonly key: RowKey | null;
      readonly inputs: Record<string, unknown> | undefined;
      readonly error: string;
      readonly node: string | undefined;
      readonly calls: readonly CallRecord[];
    }
  /** Not done: the build was stopped first. Calls it completed are in the call cache. */
  | { readonly status: 'interrupted'; readonly calls: readonly CallRecord[] };

export type DoneRow = Exclude<RowResult, { readonly status: 'interrupted' }>;

/**
 * Executes one run: every row through the flow (rows served from the row cache when their
 * definition and inputs are unchanged), then the aggregation nodes, then materialises it.
 * A failing row does not stop the run; the run ends `failed` and lists its row errors.
 *
 * Rows are pulled from `job.rows` as room frees up (at most `concurrency` in flight) and each
 * finished row goes straight to the run's files, so memory follows the rows in flight, not the
 * rows of the run. Every row result is stored as soon as the row is done (after the calls it
 * made, which the call cache stored as they answered), so a build stopped or killed at any
 * point loses only work in flight. A stopped run is not materialised: it has no manifest and
 * the next build executes it again, from the caches.
 */
export async function executeRun(
  job: RunJob,
  runtime: NodeRuntime,
  rowCache: CheckedStore<CachedRow>,
  control: RunControl,
  emit: BuildEventListener,
): Promise<RunOutcome> {
  const { run } = job;
  const startedAt = new Date();
  emit({
    type: 'run-start',
    run: run.id,
    reasons: job.reasons.map(describeReason),
    causes: job.reasons,
    rows: job.rowCount,
  });
  await invalidateRun(runtime.root, run.id);
  await mkdir(runFolder(runtime.root, run.id), { recursive: true });

  const rowDefinition = hashValue(rowDefinitionOf(job.fingerprint));
  const concurrency = Math.max(1, job.concurrency);
  const progress = { done: 0, failed: 0, calls: 0, cachedCalls: 0 };
  let lastProgress = 0;
  let interrupted = false;
  const writer = await RunWriter.open(job, runtime.root);
  const aggregationRows = new AggregationInputs(job.definition.nodes);

  const finishRow = async (position: number, row: SourceRow): Promise<void> => {
    const result = await executeRow(job, row, rowDefinition, runtime, rowCache, control);
    await journalRow(
      runtime.root,
      run.id,
      result.status === 'interrupted' ? null : result.key,
      result.calls.map((call) => call.key),
    );
    if (result.status === 'interrupted') {
      interrupted = true;
      writer.stopWaiting();
      return;
    }
    await writer.add(position, row, result);
    if (result.status === 'ok') {
      aggregationRows.add(position, {
        inputs: result.inputs,
        nodes: result.nodes,
        bypassed: result.bypassed ?? [],
      });
    }
    progress.done++;
    if (result.status !== 'ok') progress.failed++;
    if (result.status !== 'ok' || !result.fromRowCache) {
      for (const call of result.calls) {
        if (call.cached) progress.cachedCalls++;
        else progress.calls++;
      }
    }
    const now = performance.now();
    if (now - lastProgress > 250 || progress.done === job.rowCount) {
      lastProgress = now;
      emit({ type: 'run-progress', run: run.id, total: job.rowCount, ...progress });
    }
  };

  let pulled: { readonly started: number; readonly complete: boolean };
  try {
    pulled = await forEachInFlight(job.rows, concurrency, {
      // A slow row holds back the lines of the rows after it; this bounds how many.
      beforeStart: (position) => writer.waitForRoom(position, concurrency * ROWS_HELD_PER_SLOT),
      stop: () => control.signal?.aborted === true,
      run: finishRow,
    });
  } catch (error) {
    await writer.abort();
    throw error;
  }

  const stopped = { status: 'interrupted', rowsDone: progress.done, rows: job.rowCount } as const;
  if (interrupted || !pulled.complete) {
    await writer.abort();
    return stopped;
  }
  const rows = pulled.started;

  const aggregates = job.definition.nodes.some((node) => node.aggregation);
  const failedRows = rows - aggregationRows.count;
  let metrics: unknown;
  let aggregationCalls: readonly CallRecord[] = [];
  let aggregationError: string | undefined;
  let aggregated: AggregatedRows | undefined;
  if (aggregates && failedRows > 0 && job.run.stage.onFailedRows === 'fail') {
    aggregationError = `not aggregated: ${failedRows} of ${rows} rows failed (on_failed_rows: fail)`;
    aggregated = { rows: 0, of: rows };
  } else {
    try {
      const aggregation = await executeAggregation(job.definition.nodes, aggregationRows, runtime);
      metrics = aggregation.metrics;
      aggregationCalls = aggregation.calls;
    } catch (error) {
      if (control.signal?.aborted && error instanceof Interrupted) {
        await writer.abort();
        return stopped;
      }
      aggregationError = messageOf(error);
    }
    if (aggregates) aggregated = { rows: aggregationRows.count, of: rows };
  }

  const manifest = await writer.finish(
    { metrics, calls: aggregationCalls, error: aggregationError, aggregated },
    startedAt,
  );
  return { status: 'built', manifest, summary: summaryOf(manifest, 'executed', job.reasons) };
}

/** Finished rows held back behind a slow one, per row in flight, before no new row starts. */
const ROWS_HELD_PER_SLOT = 8;

/**
 * Runs `run` on each item of `items` in turn, at most `limit` at once, pulling the next item
 * only when one finishes; stops pulling once `stop()` says so or a run throws (its error is
 * thrown once the runs in flight end). Says how many items were started and whether that was
 * all of them.
 */
async function forEachInFlight<T>(
  items: AsyncIterable<T>,
  limit: number,
  options: {
    readonly beforeStart: (position: number) => Promise<void>;
    readonly stop: () => boolean;
    readonly run: (position: number, item: T) => Promise<void>;
  },
): Promise<{ started: number; complete: boolean }> {
  const inFlight = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  let wake: () => void = () => {};
  const failed = new Promise<void>((resolve) => (wake = resolve));
  let started = 0;
  let complete = true;
  try {
    for await (const item of items) {
      while (inFlight.size >= limit) await Promise.race(inFlight);
      // A row that threw is never written either: do not wait for room behind it.
      await Promise.race([options.beforeStart(started), failed]);
      if (failure !== undefined || options.stop()) {
        complete = false;
        break;
      }
      const position = started++;
      const task = options.run(position, item).then(
        () => void inFlight.delete(task),
        (error: unknown) => {
          inFlight.delete(task);
          failure ??= { error };
          wake();
        },
      );
      inFlight.add(task);
    }
  } finally {
    await Promise.all(inFlight);
  }
  if (failure !== undefined) throw failure.error;
  return { started, complete };
}

async function executeRow(
  job: RunJob,
  row: SourceRow,
  rowDefinition: ContentHash,
  runtime: NodeRuntime,
  rowCache: CheckedStore<CachedRow>,
  control: RunControl,
): Promise<RowResult> {
  if (control.signal?.aborted) return { status: 'interrupted', calls: [] };

  const blocked = blockedByUpstream(job, row);
  if (blocked !== undefined) {
    return {
      status: 'skipped',
      key: null,
      inputs: undefined,
      error: blocked,
      node: undefined,
      calls: [],
    };
  }

  let inputs: Record<string, unknown>;
  try {
    const mapped: Record<string, unknown> = {};
    const lookup = stageLookup(job, row);
    for (const [name, expression] of Object.entries(job.run.stage.inputs)) {
      mapped[name] = resolveExpression(expression, lookup);
    }
    inputs = prepareFlowInputs(job.run.flow, mapped);
  } catch (error) {
    return {
      status: 'failed',
      key: null,
      inputs: undefined,
      error: messageOf(error),
      node: undefined,
      calls: [],
    };
  }

  const key = rowKey(rowDefinition, await inputsForCacheKey(runtime.root, inputs));
  const kept = job.keepFailed?.get(key);
  if (kept !== undefined) {
    return { status: 'failed', key, inputs, error: kept.error, node: kept.node, calls: [] };
  }
  if (control.reuseRows) {
    const cached = await rowCache.get(key);
    if (cached !== undefined) {
      return { status: 'ok', key, inputs, ...cached, fromRowCache: true };
    }
  }

  const outcome = await (control.computeRow ?? computeRowHere)(job, key, inputs, runtime);
  if (outcome.status === 'failed') {
    // A row cut short because the build is stopping has not failed: it runs next time.
    if (control.signal?.aborted) return { status: 'interrupted', calls: outcome.calls };
    return {
      status: 'failed',
      key,
      inputs,
      error: outcome.error,
      node: outcome.node,
      calls: outcome.calls,
    };
  }
  const entry: CachedRow = {
    outputs: outcome.outputs,
    nodes: outcome.nodes,
    calls: outcome.calls,
    ...(outcome.bypassed.length > 0 ? { bypassed: outcome.bypassed } : {}),
  };
  // Journaled before it is stored, so that `cache gc` never misses a stored row; and stored
  // only after every call of the row was: a row result never names a call the store lacks.
  await journalRow(runtime.root, job.run.id, key, []);
  await rowCache.set(key, entry);
  control.saved.rows++;
  return { status: 'ok', key, inputs, ...entry, fromRowCache: false };
}

/** Why a row cannot run because an upstream run has no output for it, if so. */
function blockedByUpstream(job: RunJob, row: SourceRow): string | undefined {
  const source = job.run.stage.source;
  const stages = source.kind === 'stages' ? source.stages : [];
  for (const [position, upstreamId] of job.run.upstream.entries()) {
    const line = row.upstream.get(stages[position] ?? '');
    if (line === undefined) return `no output for this row in upstream run ${upstreamId}`;
    if (line.status !== 'ok') return `upstream run ${upstreamId} ${line.status} on this row`;
  }
  return undefined;
}

/** `${data.col}` and `${<stage>.outputs.field}` for one row. */
function stageLookup(job: RunJob, row: SourceRow): ReferenceLookup {
  return (reference) => {
    if (reference.scope === 'data') return followPath(row.data, reference.path);
    const line = row.upstream.get(reference.scope);
    if (line === undefined || line.status !== 'ok') return undefined;
    const [first, ...rest] = reference.path;
    return first === 'outputs' ? followPath(line.outputs, rest) : undefined;
  };
}

/** A run summary from its manifest, for a run just executed or found cached. */
export function summaryOf(
  manifest: RunManifest,
  status: 'executed' | 'cached',
  reasons: readonly StaleReason[],
): RunSummary {
  return {
    id: manifest.id,
    stage: manifest.stage,
    variant: manifest.variant,
    status: manifest.status === 'failed' ? 'failed' : status,
    reasons: reasons.map(describeReason),
    causes: reasons,
    rows: manifest.rows.total,
    rowsFailed: manifest.rows.failed,
    rowsSkipped: manifest.rows.skipped,
    rowsCached: status === 'cached' ? manifest.rows.total : manifest.rows.cached,
    calls: status === 'cached' ? 0 : manifest.calls.sent,
    cachedCalls: status === 'cached' ? 0 : manifest.calls.cached,
    tokens: status === 'cached' ? { prompt: 0, completion: 0, total: 0 } : manifest.tokens,
    ...(manifest.cost && status !== 'cached' ? { cost: manifest.cost.sent } : {}),
    durationMs: status === 'cached' ? 0 : manifest.durationMs,
    metrics: manifest.metrics,
    ...(manifest.aggregated ? { aggregated: manifest.aggregated } : {}),
    errors: manifest.rowErrors.map((error) => ({
      row: error.row,
      error: error.error,
      ...(error.node ? { node: error.node } : {}),
    })),
  };
}

export type { TokenCounts };
