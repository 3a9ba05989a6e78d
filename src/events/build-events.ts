import type { StaleReason } from '../fingerprint/stale-reason.js';
import type { RunId } from '../plan/run-id.js';
import type { AggregatedRows } from '../runs/run-manifest.js';

/** Tokens of the calls actually sent. */
export interface TokenCounts {
  readonly prompt: number;
  readonly completion: number;
  readonly total: number;
}

/** A finished run, as the summary and `--json` report it. */
export interface RunSummary {
  readonly id: RunId;
  readonly stage: string;
  readonly variant: string | null;
  readonly status: 'executed' | 'cached' | 'failed';
  /** Why it ran (empty when cached). */
  readonly reasons: readonly string[];
  /** The same reasons, as data. */
  readonly causes: readonly StaleReason[];
  readonly rows: number;
  /** Rows whose flow failed. */
  readonly rowsFailed: number;
  /** Rows not run because an upstream run has no output for them. */
  readonly rowsSkipped: number;
  /** Rows served from the row cache. */
  readonly rowsCached: number;
  /** LLM requests actually sent. */
  readonly calls: number;
  /** LLM requests answered from the call cache. */
  readonly cachedCalls: number;
  readonly tokens: TokenCounts;
  /** Estimated cost in USD of the calls sent, when the config gives prices. */
  readonly cost?: number;
  readonly durationMs: number;
  /** Top-level numeric metrics of the run's aggregation, if any. */
  readonly metrics: Readonly<Record<string, number>>;
  /** How many rows the metrics are over, when the run aggregates. */
  readonly aggregated?: AggregatedRows;
  readonly errors: readonly {
    readonly row: string;
    readonly node?: string;
    readonly error: string;
  }[];
}

/**
 * What the engine tells the world while it builds. The engine never prints: renderers turn
 * these into terminal lines or JSON.
 */
export type BuildEvent =
  | { readonly type: 'plan'; readonly runs: number; readonly stale: number }
  | {
      readonly type: 'run-start';
      readonly run: RunId;
      readonly reasons: readonly string[];
      readonly causes: readonly StaleReason[];
      readonly rows: number;
    }
  /** The run is stale and another build of the project is executing it: this one waits. */
  | {
      readonly type: 'run-wait';
      readonly run: RunId;
      /** The other build's process id, when known. */
      readonly pid?: number;
    }
  | {
      readonly type: 'run-progress';
      readonly run: RunId;
      readonly done: number;
      readonly total: number;
      readonly failed: number;
      readonly calls: number;
      readonly cachedCalls: number;
    }
  | { readonly type: 'run-finish'; readonly summary: RunSummary }
  | { readonly type: 'run-skip'; readonly run: RunId; readonly reason: string }
  | { readonly type: 'warning'; readonly message: string };

export type BuildEventListener = (event: BuildEvent) => void;
