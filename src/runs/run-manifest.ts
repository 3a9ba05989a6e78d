import type { ContentHash } from '../fingerprint/hash.js';
import type { RunFingerprint } from '../fingerprint/run-fingerprint.js';
import type { TokenCounts } from '../events/build-events.js';
import type { RunId } from '../plan/run-id.js';

/** One line of a run's `outputs.jsonl`: a row's flow outputs, or why it has none. */
export type OutputLine =
  | {
      readonly key: string;
      readonly index: number;
      readonly status: 'ok';
      readonly outputs: Record<string, unknown>;
    }
  | {
      readonly key: string;
      readonly index: number;
      readonly status: 'failed' | 'skipped';
      readonly error: string;
      readonly node?: string;
    };

/** What one endpoint did for a run. */
export interface EndpointUse {
  readonly calls: number;
  readonly tokens: number;
  readonly retries: number;
  /** Mean latency of the requests that answered. */
  readonly meanLatencyMs: number;
}

/** A row error as the manifest lists it. */
export interface RowError {
  readonly row: string;
  readonly status: 'failed' | 'skipped';
  readonly node?: string;
  readonly error: string;
}

/**
 * `manifest.json` of a materialised run: what it was built from (the fingerprint, whole, so a
 * later build can say which part changed), what it produced and what it cost. Written last and
 * atomically: a run folder without a manifest is not a built run.
 */
export interface RunManifest {
  readonly id: RunId;
  readonly stage: string;
  readonly variant: string | null;
  /** The sample of a stage with `repeat: N`, from 2 on. */
  readonly sample?: number;
  readonly lineage: Readonly<Record<string, RunId>>;
  readonly status: 'succeeded' | 'failed';
  readonly fingerprint: RunFingerprint;
  readonly fingerprintHash: ContentHash;
  /** Hash of outputs.jsonl: what downstream fingerprints depend on. */
  readonly outputsHash: ContentHash;
  readonly rows: {
    readonly total: number;
    readonly ok: number;
    readonly failed: number;
    readonly skipped: number;
    readonly cached: number;
  };
  /** Calls sent and served from the call cache by this build; `retries`: requests re-sent. */
  readonly calls: { readonly sent: number; readonly cached: number; readonly retries: number };
  /** Tokens of the calls sent by this build of the run. */
  readonly tokens: TokenCounts;
  /** Tokens of every call the run's rows used, sent or cached: what the run costs from scratch. */
  readonly tokensUsed: TokenCounts;
  /**
   * Estimated cost in USD from the connections' `pricing`: of the calls sent by this build, and
   * of every call the run used. Absent when none of its calls has a price.
   */
  readonly cost?: { readonly sent: number; readonly used: number };
  /** The calls this build sent, by the endpoint that answered them. */
  readonly endpoints: Readonly<Record<string, EndpointUse>>;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationMs: number;
  readonly metrics: Readonly<Record<string, number>>;
  /**
   * How many rows the aggregation saw, of how many the run has: fewer when rows failed and the
   * stage's `on_failed_rows` is `skip`. Absent for a flow without aggregation nodes.
   */
  readonly aggregated?: AggregatedRows;
  readonly rowErrors: readonly RowError[];
}

/** The denominator of a run's metrics. */
export interface AggregatedRows {
  /** Rows aggregated over (0 when aggregation did not run). */
  readonly rows: number;
  /** Rows of the run. */
  readonly of: number;
}
