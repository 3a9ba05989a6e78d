import { OPENAI_API_URL } from '../config/normalize-connection.js';
import { compact } from '../config/normalize-settings.js';
import type { ConnectionConfig, JsonValue } from '../config/types.js';
import type { RunDefinition } from '../plan/run-definition.js';
import type { RunId } from '../plan/run-id.js';
import { CACHE_FORMAT_VERSION } from './cache-format.js';
import type { ContentHash } from './hash.js';

/**
 * What a connection contributes to fingerprints and call-cache keys: never a secret, and
 * nothing about how calls are spread or paced (keys, limits, retries, endpoint names), so every
 * endpoint of a pool shares one cache and adding an endpoint leaves the cache valid. What can
 * change an answer stays in: the server an `openai` connection talks to (a local Llama and
 * OpenAI may both serve a "llama3"), the deployment an Azure call reaches, and model aliases.
 */
export type ConnectionIdentity =
  | { readonly kind: 'module'; readonly module: string; readonly moduleHash: ContentHash }
  | {
      readonly kind: 'openai';
      /**
       * Distinct base URLs of the endpoints, sorted. NOTE: an endpoint added on a new URL
       * therefore starts a new cache for the connection.
       */
      readonly servers: readonly string[];
      readonly modelAliases?: Readonly<Record<string, string>>;
    }
  | {
      readonly kind: 'azure_openai';
      /** Distinct deployment names of the endpoints, sorted; `*` where the model names it. */
      readonly deployments: readonly string[];
      readonly modelAliases?: Readonly<Record<string, string>>;
    };

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
      return compact({
        kind: 'openai',
        servers: distinct(
          connection.endpoints.map((endpoint) => serverOf(endpoint.base_url ?? OPENAI_API_URL)),
        ),
        modelAliases: connection.modelAliases,
      });
    case 'azure_openai':
      return compact({
        kind: 'azure_openai',
        deployments: distinct(connection.endpoints.map((endpoint) => endpoint.deployment ?? '*')),
        modelAliases: connection.modelAliases,
      });
  }
}

/**
 * A base URL without what may carry a credential (user, password, query): fingerprints are
 * stored in manifests.
 */
function serverOf(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    parsed.search = '';
    parsed.hash = '';
    return parsed.toString().replace(/\/+$/, '');
  } catch {
    return url;
  }
}

function distinct(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}

/** Settings and resolved llm-node parameters, as fingerprinted. */
export function fingerprintSettings(definition: RunDefinition): Record<string, JsonValue> {
  const settings: Record<string, JsonValue> = {};
  for (const [key, value] of Object.entries(definition.settings)) {
    // Concurrency changes how fast a run goes, never what it computes. The connection a run
    // uses is recorded per llm node below (after `--connection`), and only there: the setting
    // itself is moot when overridden, and would make the same calls look like a change.
    if (key === 'concurrency' || key === 'connection' || value === undefined) continue;
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
