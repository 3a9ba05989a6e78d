import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { RawConnection } from './experiment-schema.js';
import { compact } from './normalize-settings.js';
import type {
  AzureEndpointConfig,
  ConnectionConfig,
  EndpointLimits,
  OpenAiEndpointConfig,
  Pricing,
  RemoteConnectionOptions,
  SourcePosition,
  TokenPrice,
} from './types.js';
import type { YamlPath, YamlSource } from './yaml-source.js';

/** The environment variable an `openai` connection reads its key from when none is named. */
export const DEFAULT_API_KEY_ENV = 'OPENAI_API_KEY';
/** The same for `azure_openai`, as the Azure tools name it. */
export const DEFAULT_AZURE_API_KEY_ENV = 'AZURE_OPENAI_API_KEY';
/** Where an `openai` connection without `base_url` sends its requests. */
export const OPENAI_API_URL = 'https://api.openai.com/v1';

/** Defaults of remote connections; generous, because a row that gives up costs a re-build. */
export const REMOTE_DEFAULTS = {
  timeoutMs: 120_000,
  maxRetries: 6,
  backoffMs: 1_000,
  balance: 'least_busy',
} as const;

type RawModule = Extract<RawConnection, { kind: 'module' }>;
type RawOpenAi = Extract<RawConnection, { kind: 'openai' }>;
type RawAzure = Extract<RawConnection, { kind: 'azure_openai' }>;

/**
 * A connection as written → its resolved form. A remote connection always has at least one
 * endpoint: the values written on the connection itself, or each entry of `endpoints` with the
 * connection's values filling what the entry leaves out.
 */
export function normalizeConnection(
  name: string,
  raw: RawConnection,
  source: YamlSource,
  moduleRelative: (written: string) => string,
): { connection: ConnectionConfig; diagnostics: Diagnostic[] } {
  const at: YamlPath = ['connections', name];
  const position = source.locate(at, { key: true }).position;
  if (raw.kind === 'module') {
    return { connection: moduleConnection(name, raw, position, moduleRelative), diagnostics: [] };
  }

  const diagnostics: Diagnostic[] = [];
  const options: RemoteConnectionOptions = compact({
    name,
    model: raw.model,
    modelAliases: raw.model_aliases,
    balance: raw.balance ?? REMOTE_DEFAULTS.balance,
    timeoutMs: Math.round((raw.timeout_seconds ?? REMOTE_DEFAULTS.timeoutMs / 1000) * 1000),
    maxRetries: raw.max_retries ?? REMOTE_DEFAULTS.maxRetries,
    backoffMs: Math.round((raw.backoff_seconds ?? REMOTE_DEFAULTS.backoffMs / 1000) * 1000),
    pricing: raw.pricing === undefined ? undefined : normalizePricing(raw.pricing),
    position,
  });

  const entryPath = (index: number): YamlPath =>
    raw.endpoints === undefined ? at : [...at, 'endpoints', index];

  // Values written on the connection are checked once, however many endpoints inherit them.
  if (raw.kind === 'openai' && raw.base_url !== undefined) checkUrl(raw.base_url, at, 'base_url');
  if (raw.kind === 'azure_openai' && raw.endpoint !== undefined) {
    checkUrl(raw.endpoint, at, 'endpoint');
  }

  if (raw.kind === 'openai') {
    const entries: NonNullable<RawOpenAi['endpoints']> = raw.endpoints ?? [{}];
    const endpoints = entries.map((entry, index): OpenAiEndpointConfig => {
      const path = entryPath(index);
      const baseUrl = entry.base_url ?? raw.base_url;
      const host = hostOf(baseUrl ?? OPENAI_API_URL);
      if (entry.base_url !== undefined) checkUrl(entry.base_url, path, 'base_url');
      return compact({
        name: entry.name ?? host ?? name,
        base_url: baseUrl,
        api_key_env: keyVariable(entry.api_key_env ?? raw.api_key_env, DEFAULT_API_KEY_ENV),
        limits: mergeLimits(raw.limits, entry.limits),
        position: source.locate(path, { key: true }).position,
      });
    });
    return {
      connection: { kind: 'openai', ...options, endpoints: uniqueNames(endpoints) },
      diagnostics,
    };
  }

  const entries: NonNullable<RawAzure['endpoints']> = raw.endpoints ?? [{}];
  const endpoints = entries.flatMap((entry, index): AzureEndpointConfig[] => {
    const path = entryPath(index);
    const endpoint = entry.endpoint ?? raw.endpoint;
    const apiVersion = entry.api_version ?? raw.api_version;
    const missing = [
      endpoint === undefined ? '`endpoint` (the resource URL)' : undefined,
      apiVersion === undefined ? '`api_version` (e.g. 2024-10-21)' : undefined,
    ].filter((item) => item !== undefined);
    if (endpoint === undefined || apiVersion === undefined) {
      diagnostics.push(
        source.diagnostic(
          path,
          `azure_openai ${raw.endpoints === undefined ? `connection \`${name}\`` : 'endpoint'} needs ${missing.join(' and ')}`,
          {
            key: raw.endpoints === undefined,
            hint: 'write it on the connection (it then applies to every endpoint) or on the endpoint',
          },
        ),
      );
      return [];
    }
    const host = hostOf(endpoint);
    if (entry.endpoint !== undefined) checkUrl(entry.endpoint, path, 'endpoint');
    const deployment = entry.deployment ?? raw.deployment;
    return [
      compact({
        name:
          entry.name ??
          (host === undefined ? name : `${host}${deployment ? `/${deployment}` : ''}`),
        endpoint,
        deployment,
        api_version: apiVersion,
        api_key_env: keyVariable(entry.api_key_env ?? raw.api_key_env, DEFAULT_AZURE_API_KEY_ENV),
        limits: mergeLimits(raw.limits, entry.limits),
        position: source.locate(path, { key: true }).position,
      }),
    ];
  });
  return {
    connection: { kind: 'azure_openai', ...options, endpoints: uniqueNames(endpoints) },
    diagnostics,
  };

  /** Reports a value of `key` that is not an http(s) URL. */
  function checkUrl(written: string, path: YamlPath, key: string): void {
    if (hostOf(written) === undefined) {
      diagnostics.push(
        source.diagnostic([...path, key], `\`${key}\` must be an http(s) URL, not "${written}"`, {
          hint:
            key === 'base_url'
              ? `e.g. ${OPENAI_API_URL} or http://localhost:11434/v1`
              : 'e.g. https://my-resource.openai.azure.com',
        }),
      );
    }
  }
}

function moduleConnection(
  name: string,
  raw: RawModule,
  position: SourcePosition,
  moduleRelative: (written: string) => string,
): ConnectionConfig {
  return compact({
    kind: 'module' as const,
    name,
    module: moduleRelative(raw.module),
    model: raw.model,
    position,
  });
}

function keyVariable(written: string | undefined, fallback: string): string | null {
  if (written === 'none') return null;
  return written ?? fallback;
}

function mergeLimits(
  connection: RawOpenAi['limits'] | RawAzure['limits'],
  endpoint: RawOpenAi['limits'] | RawAzure['limits'],
): EndpointLimits {
  return compact({ ...connection, ...endpoint });
}

function normalizePricing(raw: NonNullable<RawOpenAi['pricing']>): Pricing {
  if (isPrice(raw)) return { all: raw, models: {} };
  return { models: raw as Record<string, TokenPrice> };
}

function isPrice(value: unknown): value is TokenPrice {
  const price = value as Partial<TokenPrice>;
  return typeof price.input === 'number' && typeof price.output === 'number';
}

/** The host (and port) of an http(s) URL; never its user or password. */
export function hostOf(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return /^https?:$/.test(parsed.protocol) ? parsed.host : undefined;
  } catch {
    return undefined;
  }
}

/** `host`, `host#2`, …: endpoints on one host (several keys) stay apart in accounting. */
function uniqueNames<T extends { readonly name: string }>(endpoints: readonly T[]): T[] {
  const seen = new Map<string, number>();
  return endpoints.map((endpoint) => {
    const count = (seen.get(endpoint.name) ?? 0) + 1;
    seen.set(endpoint.name, count);
    return count === 1 ? endpoint : { ...endpoint, name: `${endpoint.name}#${count}` };
  });
}
