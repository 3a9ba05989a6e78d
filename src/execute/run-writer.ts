import path from 'node:path';

import type { CallKey, RowKey } from '../cache/cache-keys.js';
import type { CallRecord } from '../flow/execute-flow-row.js';
import { OrderedJsonlWriter } from '../runs/ordered-jsonl-writer.js';
import { runFolder, writeFileAtomic } from '../runs/run-folder.js';
import { newRunIndex, removeJournal, rowDataHash, writeRunIndex } from '../runs/run-index.js';
import type { AggregatedRows, OutputLine, RowError, RunManifest } from '../runs/run-manifest.js';
import type { DoneRow, RunJob } from './execute-run.js';
import type { SourceRow } from './run-rows.js';

/** What the aggregation nodes produced, or why they did not. */
export interface AggregationResult {
  readonly metrics: unknown;
  readonly calls: readonly CallRecord[];
  readonly error: string | undefined;
  readonly aggregated: AggregatedRows | undefined;
}

/** Per endpoint: the calls sent to it and what they took. */
interface EndpointUse {
  calls: number;
  tokens: number;
  retries: number;
  latency: number;
  /** The first call to it, as (row position, call within the row): the order to list it in. */
  first: readonly [number, number];
}

/**
 * Writes a run's folder as its rows finish: each row's output and trace line goes to disk (in
 * row order, whatever order rows finish in) and only counts, row errors and cache keys stay in
 * memory. `finish` then writes metrics and index, and the manifest last, so that a folder with a
 * manifest always holds the files that manifest describes; every file is written beside its
 * name and renamed into place.
 */
export class RunWriter {
  private readonly rowErrors: { position: number; error: RowError }[] = [];
  private readonly counts = { ok: 0, failed: 0, skipped: 0, cached: 0 };
  private readonly calls = { sent: 0, cached: 0, retries: 0 };
  private readonly tokens = { prompt: 0, completion: 0, total: 0 };
  private readonly tokensUsed = { prompt: 0, completion: 0, total: 0 };
  private readonly cost = { sent: 0, used: 0, priced: false };
  private readonly endpoints = new Map<string, EndpointUse>();
  private readonly indexRows: [string, string, RowKey | null][] = [];
  private readonly callKeys = new Set<CallKey>();
  private rows = 0;

  private constructor(
    private readonly job: RunJob,
    private readonly root: string,
    private readonly outputs: OrderedJsonlWriter,
    private readonly traces: OrderedJsonlWriter,
  ) {}

  static async open(job: RunJob, root: string): Promise<RunWriter> {
    const folder = runFolder(root, job.run.id);
    const outputs = await OrderedJsonlWriter.open(path.join(folder, 'outputs.jsonl'));
    const traces = await OrderedJsonlWriter.open(path.join(folder, 'trace.jsonl'));
    return new RunWriter(job, root, outputs, traces);
  }

  /**
   * Resolves once the row `window` rows before `position` is written: a run that waits for
   * this before starting a row holds at most `window` finished rows back behind a slow one.
   */
  waitForRoom(position: number, window: number): Promise<void> {
    return this.outputs.waitForRoom(position, window);
  }

  /** A row will never be added (the build is stopping): nothing waits for room behind it. */
  stopWaiting(): void {
    this.outputs.stopWaiting();
  }

  /** Adds the row at `position` (0-based, each once) once it is done. */
  async add(position: number, row: SourceRow, result: DoneRow): Promise<void> {
    this.rows++;
    this.indexRows[position] = [row.key, rowDataHash(row.data), result.key];
    let line: OutputLine;
    if (result.status === 'ok') {
      this.counts.ok++;
      if (result.fromRowCache) this.counts.cached++;
      this.countCalls(result.calls, result.fromRowCache, position);
      line = { key: row.key, index: row.index, status: 'ok', outputs: result.outputs };
    } else {
      this.counts[result.status]++;
      this.countCalls(result.calls, false, position);
      const node = result.node ? { node: result.node } : {};
      line = {
        key: row.key,
        index: row.index,
        status: result.status,
        error: result.error,
        ...node,
      };
      this.rowErrors.push({
        position,
        error: { row: row.key, status: result.status, error: result.error, ...node },
      });
    }
    const trace = {
      key: row.key,
      index: row.index,
      inputs: result.inputs ?? null,
      nodes: result.status === 'ok' ? result.nodes : null,
      ...(result.status === 'ok' && result.bypassed ? { bypassed: result.bypassed } : {}),
      calls: result.calls,
    };
    await Promise.all([this.outputs.write(position, line), this.traces.write(position, trace)]);
  }

  /** Drops the files written so far: the run was not finished. */
  async abort(): Promise<void> {
    await Promise.all([this.outputs.abort(), this.traces.abort()]);
  }

  /** Writes the rest of the folder, the manifest last. */
  async finish(aggregation: AggregationResult, startedAt: Date): Promise<RunManifest> {
    const { job, root } = this;
    const { run } = job;
    const folder = runFolder(root, run.id);

    this.countCalls(aggregation.calls, false, Infinity);
    // Rows finish in any order; row errors and endpoints are listed in row order.
    const rowErrors = this.rowErrors
      .sort((a, b) => a.position - b.position)
      .map(({ error }) => error);
    const endpoints = [...this.endpoints].sort(
      ([, a], [, b]) => a.first[0] - b.first[0] || a.first[1] - b.first[1],
    );
    if (aggregation.error !== undefined) {
      rowErrors.push({ row: '(aggregation)', status: 'failed', error: aggregation.error });
    }

    const written = await this.outputs.finish();
    await this.traces.finish();
    if (aggregation.metrics !== undefined) {
      await writeFileAtomic(
        path.join(folder, 'metrics.json'),
        `${JSON.stringify(aggregation.metrics, null, 2)}\n`,
      );
    }
    await writeRunIndex(root, run.id, newRunIndex(this.indexRows, this.callKeys));

    const finishedAt = new Date();
    const { counts, cost } = this;
    const failed = counts.failed > 0 || counts.skipped > 0 || aggregation.error !== undefined;
    const manifest: RunManifest = {
      id: run.id,
      stage: run.stage.name,
      variant: run.variant?.id ?? null,
      ...(run.sample !== undefined ? { sample: run.sample } : {}),
      lineage: run.lineage,
      status: failed ? 'failed' : 'succeeded',
      fingerprint: job.fingerprint,
      fingerprintHash: job.fingerprintHash,
      outputsHash: written.hash,
      rows: { total: this.rows, ...counts },
      calls: this.calls,
      tokens: this.tokens,
      tokensUsed: this.tokensUsed,
      ...(cost.priced ? { cost: { sent: roundCost(cost.sent), used: roundCost(cost.used) } } : {}),
      endpoints: Object.fromEntries(
        endpoints.map(([name, use]) => [
          name,
          {
            calls: use.calls,
            tokens: use.tokens,
            retries: use.retries,
            meanLatencyMs: Math.round(use.latency / use.calls),
          },
        ]),
      ),
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      durationMs: finishedAt.getTime() - startedAt.getTime(),
      metrics: headlineMetrics(aggregation.metrics),
      ...(aggregation.aggregated ? { aggregated: aggregation.aggregated } : {}),
      rowErrors,
    };
    await writeFileAtomic(
      path.join(folder, 'manifest.json'),
      `${JSON.stringify(manifest, null, 2)}\n`,
    );
    // The index now names every key the journal did.
    await removeJournal(root, run.id);
    return manifest;
  }

  private countCalls(
    records: readonly CallRecord[],
    fromRowCache: boolean,
    position: number,
  ): void {
    for (const [at, call] of records.entries()) {
      this.callKeys.add(call.key);
      addTokens(this.tokensUsed, call);
      const price = this.job.priceCall?.(call);
      if (price !== undefined) {
        this.cost.priced = true;
        this.cost.used += price;
      }
      if (fromRowCache) continue;
      if (call.cached) {
        this.calls.cached++;
        continue;
      }
      this.calls.sent++;
      this.calls.retries += call.retries ?? 0;
      addTokens(this.tokens, call);
      if (price !== undefined) this.cost.sent += price;
      const endpoint = this.endpoints.get(call.endpoint ?? '') ?? {
        calls: 0,
        tokens: 0,
        retries: 0,
        latency: 0,
        first: [position, at],
      };
      const [row, within] = endpoint.first;
      if (position < row || (position === row && at < within)) endpoint.first = [position, at];
      endpoint.calls++;
      endpoint.tokens += call.usage?.total_tokens ?? 0;
      endpoint.retries += call.retries ?? 0;
      endpoint.latency += call.latencyMs ?? 0;
      this.endpoints.set(call.endpoint ?? '', endpoint);
    }
  }
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
