import type { ConnectionConfig, JsonValue } from '../config/types.js';
import type { RunDefinition } from '../plan/run-definition.js';
import type { RunId } from '../plan/run-id.js';
import { CACHE_FORMAT_VERSION } from './cache-format.js';
import type { ContentHash } from './hash.js';

/** What a connection contributes to fingerprints and call-cache keys: never a secret. */
export type ConnectionIdentity =
  | { readonly kind: 'module'; readonly module: string; readonly moduleHash: ContentHash }
  | { readonly kind: 'openai'; readonly baseUrl: string | null };

/**
 * Every meaningful input of a run, as a plain object: stored in the run's manifest, compared
 * field by field to explain a re-run, and hashed (as canonical JSON) to decide freshness.
 */
export interface RunFingerprint {
  readonly version: number;
  readonly stage: string;
  readonly variant: string | null;
  /** The repeat index of a stage with `repeat: N`, from 2 on (the first sample has none). */
  readonly sample?: number;
  readonly nodeVariants: Readonly<Record<string, string>>;
  /** Flow folder files (project-relative path → content hash). */
  readonly files: Readonly<Record<string, ContentHash>>;
  /** The stage's input mapping. */
  readonly inputs: { readonly [input: string]: JsonValue };
  /** Settings after precedence, including every llm node's resolved parameters. */
  readonly settings: Readonly<Record<string, JsonValue>>;
  readonly connections: Readonly<Record<string, ConnectionIdentity>>;
  readonly data: {
    readonly dataset: string;
    readonly path: string;
    readonly hash: ContentHash;
    /** Local image files the rows point at, when the flow takes images. */
    readonly images?: ContentHash;
  };
  /**
   * Every ancestor stage → the run of it in the lineage, that run's fingerprint hash, and the
   * hash of the outputs it produced: a rebuilt upstream run that produced other outputs (fresh
   * samples under `--no-cache`, rows that failed and now succeed) makes this run stale too.
   */
  readonly upstream: Readonly<
    Record<
      string,
      { readonly run: RunId; readonly fingerprint: ContentHash; readonly outputs: ContentHash }
    >
  >;
  /** The stage's `on_failed_rows`, when not the default `skip`. */
  readonly onFailedRows?: 'fail';
}

/** The part of the fingerprint that decides a row's result besides the row's own inputs. */
export function rowDefinitionOf(fingerprint: RunFingerprint): unknown {
  const {
    data: _data,
    upstream: _upstream,
    onFailedRows: _onFailedRows,
    ...definition
  } = fingerprint;
  return definition;
}

export function connectionIdentity(
  connection: ConnectionConfig,
  moduleHash: ContentHash | undefined,
): ConnectionIdentity {
  switch (connection.kind) {
    case 'module':
      if (moduleHash === undefined) throw new Error('internal error: module connection unhashed');
      return { kind: 'module', module: connection.module, moduleHash };
    case 'openai':
      return { kind: 'openai', baseUrl: connection.base_url ?? null };
  }
}

/** Settings and resolved llm-node parameters, as fingerprinted. */
export function fingerprintSettings(definition: RunDefinition): Record<string, JsonValue> {
  const settings: Record<string, JsonValue> = {};
  for (const [key, value] of Object.entries(definition.settings)) {
    // Concurrency changes how fast a run goes, never what it computes.
    if (key === 'concurrency' || value === undefined) continue;
    settings[key] = value as JsonValue;
  }
  for (const node of definition.nodes) {
    if (node.type !== 'llm') continue;
    settings[`${node.name}.connection`] = node.connection;
    for (const [key, value] of Object.entries(node.parameters)) {
      if (value !== undefined) settings[`${node.name}.${key}`] = value as JsonValue;
    }
  }
  return settings;
}

export { CACHE_FORMAT_VERSION };
