import type { TokenCounts } from '../events/build-events.js';
import type { RunId } from '../plan/run-id.js';
import type { RunManifest } from '../runs/run-manifest.js';
import { readRunTrace } from './run-files.js';

/** What a run's results took to produce from scratch: every call its rows used, sent or cached. */
export interface RunUsage {
  readonly calls: number;
  readonly tokens: TokenCounts;
  /** Estimated cost, when the manifest carries one. */
  readonly cost?: Cost;
}

export interface Cost {
  readonly amount: number;
  /** ISO currency code; USD unless the manifest says otherwise. */
  readonly currency: string;
}

const NO_TOKENS: TokenCounts = { prompt: 0, completion: 0, total: 0 };

/**
 * A run's usage. Tokens come from the manifest's `tokensUsed`; calls are counted from the trace,
 * because the manifest counts only the calls of the build that wrote it (rows served from the
 * row cache add none there).
 */
export async function runUsage(root: string, manifest: RunManifest): Promise<RunUsage> {
  const calls = (await readRunTrace(root, manifest.id)).reduce(
    (total, line) => total + line.calls.length,
    0,
  );
  const cost = costOf(manifest);
  return {
    calls,
    tokens: manifest.tokensUsed ?? manifest.tokens ?? NO_TOKENS,
    ...(cost ? { cost } : {}),
  };
}

/**
 * The estimated cost a manifest records, read leniently: a number (USD) or an object with a
 * numeric `total`, `usd` or `amount` and an optional `currency`. Manifests written before
 * connections had prices have none, and cost is then left out rather than shown as zero.
 */
export function costOf(manifest: RunManifest): Cost | undefined {
  const value = (manifest as unknown as { cost?: unknown }).cost;
  if (typeof value === 'number' && Number.isFinite(value))
    return { amount: value, currency: 'USD' };
  if (value === null || typeof value !== 'object') return undefined;
  const record = value as Record<string, unknown>;
  const amount = [record['total'], record['usd'], record['amount']].find(
    (candidate): candidate is number => typeof candidate === 'number' && Number.isFinite(candidate),
  );
  if (amount === undefined) return undefined;
  const currency = typeof record['currency'] === 'string' ? record['currency'] : 'USD';
  return { amount, currency };
}

/**
 * The sum of several runs' usage (a run and its lineage). Cost is summed only when every run
 * that made calls has one, in one currency: a partial sum would read as the whole.
 */
export function sumUsage(usages: readonly RunUsage[]): RunUsage {
  const tokens = { prompt: 0, completion: 0, total: 0 };
  let calls = 0;
  for (const usage of usages) {
    calls += usage.calls;
    tokens.prompt += usage.tokens.prompt;
    tokens.completion += usage.tokens.completion;
    tokens.total += usage.tokens.total;
  }
  // A run that made no calls costs nothing, whether or not its manifest says so.
  const costs = usages.filter((usage) => usage.calls > 0 || usage.cost !== undefined);
  const first = costs[0]?.cost;
  const complete =
    first !== undefined && costs.every((usage) => usage.cost?.currency === first.currency);
  if (!complete) return { calls, tokens };
  const amount = costs.reduce((total, usage) => total + (usage.cost?.amount ?? 0), 0);
  return { calls, tokens, cost: { amount, currency: first.currency } };
}

/** Memoises `runUsage` per run: a describe run shared by six lineages is read once. */
export class UsageReader {
  private readonly usages = new Map<RunId, Promise<RunUsage>>();

  constructor(private readonly root: string) {}

  of(manifest: RunManifest): Promise<RunUsage> {
    let usage = this.usages.get(manifest.id);
    if (usage === undefined) {
      usage = runUsage(this.root, manifest);
      this.usages.set(manifest.id, usage);
    }
    return usage;
  }
}
