import type { RowKey } from '../cache/cache-keys.js';
import { hashValue } from '../fingerprint/hash.js';
import type { ContentHash } from '../fingerprint/hash.js';
import type { RunFingerprint } from '../fingerprint/run-fingerprint.js';
import type { RowOutcome } from '../flow/execute-flow-row.js';
import type { RunId } from '../plan/run-id.js';

/** The BullMQ queue of a queue address (its keys: `<address name>:rows-to-compute:…`). */
export const ROW_QUEUE = 'rows-to-compute';

/** The name of every job on it. */
export const ROW_JOB = 'row';

/**
 * One row a build hands to a worker: enough for the worker to check that its checkout is the
 * build's (the run's whole fingerprint, not only its hash, so a refusal can say what differs)
 * and to run the row's flow on the very inputs the build resolved.
 */
export interface RowJobData {
  readonly run: RunId;
  readonly fingerprint: RunFingerprint;
  readonly fingerprintHash: ContentHash;
  /** The row's row-cache key: the worker stores the result under it. */
  readonly key: RowKey;
  readonly inputs: Record<string, unknown>;
  /** `--connection` of the build, which the fingerprint was computed under. */
  readonly connection: string | null;
  readonly imageMaxSide: number;
  /** `--no-cache`: send every call again. */
  readonly fresh: boolean;
  /** The build's shared cache, without password: the worker must write to the same one. */
  readonly cache: string;
}

/** What a worker returns for a row: the flow's outcome, as a local build computes it. */
export type RowJobResult = RowOutcome;

/**
 * A job's id: the same row of the same run is one job, however many builds ask for it at once.
 * Hashed because BullMQ ids may not hold every character a run id or key may.
 */
export function rowJobId(run: RunId, key: RowKey): string {
  return `row-${hashValue({ run, key }).slice(0, 40)}`;
}

/**
 * The prefix of the failure a worker reports when its checkout is not the build's: the build
 * recognises it and says, once per run, what to do.
 */
export const REFUSED = 'refused by worker';
