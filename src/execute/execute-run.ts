import path from 'node:path';

import { mkdir } from 'node:fs/promises';

import pLimit from 'p-limit';

import { rowKey, type CallKey, type RowKey } from '../cache/cache-keys.js';
import type { CheckedStore } from '../cache/checked-store.js';
import type { JsonObject } from '../config/types.js';
import type { BuildEventListener, RunSummary, TokenCounts } from '../events/build-events.js';
import { hashBytes, hashValue, type ContentHash } from '../fingerprint/hash.js';
import { rowDefinitionOf, type RunFingerprint } from '../fingerprint/run-fingerprint.js';
import { describeReason, type StaleReason } from '../fingerprint/stale-reason.js';
import { executeAggregation, type AggregationRow } from '../flow/execute-aggregation.js';
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
import { invalidateRun, runFolder, writeFileAtomic } from '../runs/run-folder.js';
import {
  journalRow,
  newRunIndex,
  removeJournal,
  rowDataHash,
  writeRunIndex,
} from '../runs/run-index.js';
import type { AggregatedRows, OutputLine, RowError, RunManifest } from '../runs/run-manifest.js';
import { Interrupted } from '../util/interrupt.js';

/** A dataset row as runs see it. */
export interface SourceRow {
  readonly key: string;
  readonly index: number;
  readonly data: JsonObject;
}

/** The outputs of an upstream run, by row key. */
export type UpstreamOutputs = ReadonlyMap<string, OutputLine>;

export interface RunJob {
  readonly run: PlannedRun;
  readonly definition: RunDefinition;
  readonly fingerprint: RunFingerprint;
  readonly fingerprintHash: ContentHash;
  readonly reasons: readonly StaleReason[];
  readonly rows: readonly SourceRow[];
  /** Outputs of every run in the lineage that the stage reads, by stage name. */
  readonly upstream: ReadonlyMap<string, UpstreamOutputs>;
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

type DoneRow = Exclude<RowResult, { readonly status: 'interrupted' }>;

/**
 * Executes one run: every row through the flow (rows served from the row cache when their
 * definition and inputs are unchanged), then the aggregation nodes, then materialises it.
 * A failing row does not stop the run; the run ends `failed` and lists its row errors.
 *
 * Every row result is stored as soon as the row is done (after the calls it made, which the
 * call cache stored as they answered), so a build stopped or killed at any point loses only
 * work in flight. A stopped run is not materialised: it has no manifest and the next build
 * executes it again, from the caches.
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
    rows: job.rows.length,
  });
  await invalidateRun(runtime.root, run.id);
  await mkdir(runFolder(runtime.root, run.id), { recursive: true });

  const rowDefinition = hashValue(rowDefinitionOf(job.fingerprint));
  const limit = pLimit(Math.max(1, job.concurrency));
  const progress = { done: 0, failed: 0, calls: 0, cachedCalls: 0 };
  let lastProgress = 0;

  const results = await Promise.all(
    job.rows.map((row) =>
      limit(async () => {
        const result = await executeRow(job, row, rowDefinition, runtime, rowCache, control);
        await journalRow(
          runtime.root,
          run.id,
          result.status === 'interrupted' ? null : result.key,
          result.calls.map((call) => call.key),
        );
        if (result.status === 'interrupted') return result;
        progress.done++;
        if (result.status !== 'ok') progress.failed++;
        if (result.status !== 'ok' || !result.fromRowCache) {
          for (const call of result.calls) {
            if (call.cached) progress.cachedCalls++;
            else progress.calls++;
          }
        }
        const now = performance.now();
        if (now - lastProgress > 250 || progress.done === job.rows.length) {
          lastProgress = now;
          emit({ type: 'run-progress', run: run.id, total: job.rows.length, ...progress });
        }
        return result;
      }),
    ),
  );

  const stopped = {
    status: 'interrupted',
    rowsDone: progress.done,
    rows: job.rows.length,
  } as const;
  const done = results.filter((result): result is DoneRow => result.status !== 'interrupted');
  if (done.length < results.length) return stopped;

  const okRows: AggregationRow[] = [];
  for (const result of done) {
    if (result.status === 'ok') {
      okRows.push({ inputs: result.inputs, nodes: result.nodes, bypassed: result.bypassed ?? [] });
    }
  }
  const aggregates = job.definition.nodes.some((node) => node.aggregation);
  const failedRows = done.length - okRows.length;
  let metrics: unknown;
  let aggregationCalls: readonly CallRecord[] = [];
  let aggregationError: string | undefined;
  let aggregated: AggregatedRows | undefined;
  if (aggregates && failedRows > 0 && job.run.stage.onFailedRows === 'fail') {
    aggregationError = `not aggregated: ${failedRows} of ${results.length} rows failed (on_failed_rows: fail)`;
    aggregated = { rows: 0, of: results.length };
  } else {
    try {
      const aggregation = await executeAggregation(job.definition.nodes, okRows, runtime);
      metrics = aggregation.metrics;
      aggregationCalls = aggregation.calls;
    } catch (error) {
      if (control.signal?.aborted && error instanceof Interrupted) return stopped;
      aggregationError = messageOf(error);
    }
    if (aggregates) aggregated = { rows: okRows.length, of: results.length };
  }

  const built = await materialise(
    job,
    runtime.root,
    done,
    { metrics, calls: aggregationCalls, error: aggregationError, aggregated },
    { startedAt },
  );
  return { status: 'built', ...built };
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
    const line = job.upstream.get(stages[position] ?? '')?.get(row.key);
    if (line === undefined) return `no output for this row in upstream run ${upstreamId}`;
    if (line.status !== 'ok') return `upstream run ${upstreamId} ${line.status} on this row`;
  }
  return undefined;
}

/** `${data.col}` and `${<stage>.outputs.field}` for one row. */
function stageLookup(job: RunJob, row: SourceRow): ReferenceLookup {
  return (reference) => {
    if (reference.scope === 'data') return followPath(row.data, reference.path);
    const outputs = job.upstream.get(reference.scope);
    if (outputs === undefined) return undefined;
    const line = outputs.get(row.key);
    if (line === undefined || line.status !== 'ok') return undefined;
    const [first, ...rest] = reference.path;
    return first === 'outputs' ? followPath(line.outputs, rest) : undefined;
  };
}

/** What the aggregation nodes produced, or why they did not. */
interface AggregationResult {
  readonly metrics: unknown;
  readonly calls: readonly CallRecord[];
  readonly error: string | undefined;
  readonly aggregated: AggregatedRows | undefined;
}

/**
 * Writes the run folder: outputs, trace, metrics and index, each atomically, then the manifest
 * last, so that a folder with a manifest always holds the files that manifest describes.
 */
async function materialise(
  job: RunJob,
  root: string,
  results: readonly DoneRow[],
  aggregation: AggregationResult,
  timing: { startedAt: Date },
): Promise<{ summary: RunSummary; manifest: RunManifest }> {
  const { run } = job;
  const { metrics, calls: aggregationCalls, error: aggregationError } = aggregation;
  const folder = runFolder(root, run.id);

  const outputLines: string[] = [];
  const traceLines: string[] = [];
  const rowErrors: RowError[] = [];
  const counts = { ok: 0, failed: 0, skipped: 0, cached: 0 };
  const calls = { sent: 0, cached: 0, retries: 0 };
  const tokens = { prompt: 0, completion: 0, total: 0 };
  const tokensUsed = { prompt: 0, completion: 0, total: 0 };
  const cost = { sent: 0, used: 0, priced: false };
  const endpoints = new Map<
    string,
    { calls: number; tokens: number; retries: number; latency: number }
  >();
  const indexRows: [string, string, RowKey | null][] = [];
  const callKeys: CallKey[] = [];

  const countCalls = (records: readonly CallRecord[], fromRowCache: boolean): void => {
    for (const call of records) {
      callKeys.push(call.key);
      addTokens(tokensUsed, call);
      const price = job.priceCall?.(call);
      if (price !== undefined) {
        cost.priced = true;
        cost.used += price;
      }
      if (fromRowCache) continue;
      if (call.cached) {
        calls.cached++;
        continue;
      }
      calls.sent++;
      calls.retries += call.retries ?? 0;
      addTokens(tokens, call);
      if (price !== undefined) cost.sent += price;
      const endpoint = endpoints.get(call.endpoint ?? '') ?? {
        calls: 0,
        tokens: 0,
        retries: 0,
        latency: 0,
      };
      endpoint.calls++;
      endpoint.tokens += call.usage?.total_tokens ?? 0;
      endpoint.retries += call.retries ?? 0;
      endpoint.latency += call.latencyMs ?? 0;
      endpoints.set(call.endpoint ?? '', endpoint);
    }
  };

  results.forEach((result, position) => {
    const row = job.rows[position];
    if (row === undefined) return;
    indexRows.push([row.key, rowDataHash(row.data), result.key]);
    let line: OutputLine;
    if (result.status === 'ok') {
      counts.ok++;
      if (result.fromRowCache) counts.cached++;
      countCalls(result.calls, result.fromRowCache);
      line = { key: row.key, index: row.index, status: 'ok', outputs: result.outputs };
    } else {
      counts[result.status]++;
      countCalls(result.calls, false);
      line = {
        key: row.key,
        index: row.index,
        status: result.status,
        error: result.error,
        ...(result.node ? { node: result.node } : {}),
      };
      rowErrors.push({
        row: row.key,
        status: result.status,
        error: result.error,
        ...(result.node ? { node: result.node } : {}),
      });
    }
    outputLines.push(JSON.stringify(line));
    traceLines.push(
      JSON.stringify({
        key: row.key,
        index: row.index,
        inputs: result.inputs ?? null,
        nodes: result.status === 'ok' ? result.nodes : null,
        ...(result.status === 'ok' && result.bypassed ? { bypassed: result.bypassed } : {}),
        calls: result.calls,
      }),
    );
  });
  countCalls(aggregationCalls, false);
  if (aggregationError !== undefined) {
    rowErrors.push({ row: '(aggregation)', status: 'failed', error: aggregationError });
  }

  const outputsText = outputLines.map((line) => `${line}\n`).join('');
  await writeFileAtomic(path.join(folder, 'outputs.jsonl'), outputsText);
  await writeFileAtomic(path.join(folder, 'trace.jsonl'), traceLines.map((l) => `${l}\n`).join(''));
  if (metrics !== undefined) {
    await writeFileAtomic(
      path.join(folder, 'metrics.json'),
      `${JSON.stringify(metrics, null, 2)}\n`,
    );
  }
  await writeRunIndex(root, run.id, newRunIndex(indexRows, callKeys));

  const finishedAt = new Date();
  const failed = counts.failed > 0 || counts.skipped > 0 || aggregationError !== undefined;
  const manifest: RunManifest = {
    id: run.id,
    stage: run.stage.name,
    variant: run.variant?.id ?? null,
    ...(run.sample !== undefined ? { sample: run.sample } : {}),
    lineage: run.lineage,
    status: failed ? 'failed' : 'succeeded',
    fingerprint: job.fingerprint,
    fingerprintHash: job.fingerprintHash,
    outputsHash: hashBytes(outputsText),
    rows: { total: results.length, ...counts },
    calls,
    tokens,
    tokensUsed,
    ...(cost.priced ? { cost: { sent: roundCost(cost.sent), used: roundCost(cost.used) } } : {}),
    endpoints: Object.fromEntries(
      [...endpoints].map(([name, use]) => [
        name,
        {
          calls: use.calls,
          tokens: use.tokens,
          retries: use.retries,
          meanLatencyMs: Math.round(use.latency / use.calls),
        },
      ]),
    ),
    startedAt: timing.startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationMs: finishedAt.getTime() - timing.startedAt.getTime(),
    metrics: headlineMetrics(metrics),
    ...(aggregation.aggregated ? { aggregated: aggregation.aggregated } : {}),
    rowErrors,
  };
  await writeFileAtomic(
    path.join(folder, 'manifest.json'),
    `${JSON.stringify(manifest, null, 2)}\n`,
  );
  // The index now names every key the journal did.
  await removeJournal(root, run.id);

  return { manifest, summary: summaryOf(manifest, 'executed', job.reasons) };
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

/** The numbers at the top level of a run's metrics: what a build prints and compare ranks by. */
function headlineMetrics(metrics: unknown): Record<string, number> {
  const headline: Record<string, number> = {};
  if (metrics === null || typeof metrics !== 'object' || Array.isArray(metrics)) return headline;
  for (const [name, value] of Object.entries(metrics)) {
    if (typeof value === 'number' && Number.isFinite(value)) headline[name] = value;
  }
  return headline;
}

/** Costs are estimates: a millionth of a dollar is plenty. */
function roundCost(usd: number): number {
  return Math.round(usd * 1_000_000) / 1_000_000;
}

function addTokens(total: { prompt: number; completion: number; total: number }, call: CallRecord) {
  if (call.usage === undefined) return;
  total.prompt += call.usage.prompt_tokens;
  total.completion += call.usage.completion_tokens;
  total.total += call.usage.total_tokens;
}

export type { TokenCounts };
