import type { CachedCall } from '../cache/call-cache.js';
import type { CallKey } from '../cache/cache-keys.js';
import type { ChatUsage } from '../models/chat.js';
import type { RunId } from '../plan/run-id.js';
import type { RunManifest } from '../runs/run-manifest.js';
import type { RowRef } from './find-row.js';
import { readRunManifest, readRunOutputs, readRunTrace, type TraceLine } from './run-files.js';

/** One LLM call a node made for the row, with what the call cache kept of it. */
export interface TracedCall {
  readonly key: CallKey;
  /** Whether the build that produced the row was served this call from the call cache. */
  readonly cached: boolean;
  readonly usage?: ChatUsage;
  /** The request (image data summarised) and the response; absent when no longer stored. */
  readonly stored?: CachedCall;
}

export interface TracedNode {
  readonly name: string;
  /** Absent when the row failed before or at this node. */
  readonly output?: unknown;
  readonly calls: readonly TracedCall[];
}

/** The row as one run of its lineage saw it. */
export interface TracedStep {
  readonly run: RunId;
  readonly stage: string;
  readonly variant: string | null;
  /** `missing`: the run folder has no line for this row (or no manifest). */
  readonly status: 'ok' | 'failed' | 'skipped' | 'missing';
  readonly error?: string;
  /** The node the row failed in, when it failed in one. */
  readonly failedNode?: string;
  readonly inputs: Record<string, unknown> | null;
  readonly nodes: readonly TracedNode[];
  readonly outputs: Record<string, unknown> | null;
}

/** One row followed through every run of a lineage, upstream first. */
export interface RowTrace {
  readonly run: RunId;
  readonly row: RowRef;
  readonly steps: readonly TracedStep[];
}

/** Looks a call up in the call cache. */
export type CallLookup = (key: CallKey) => Promise<CachedCall | undefined>;

/** The runs of a manifest's lineage and the run itself, in `stageOrder`. */
export function lineageIds(manifest: RunManifest, stageOrder: readonly string[]): RunId[] {
  const known = new Set(stageOrder);
  const stages = [...Object.keys(manifest.lineage).filter((stage) => !known.has(stage))];
  stages.push(...stageOrder);
  const ids: RunId[] = [];
  for (const stage of stages) {
    const id = stage === manifest.stage ? manifest.id : manifest.lineage[stage];
    if (id !== undefined && !ids.includes(id)) ids.push(id);
  }
  if (!ids.includes(manifest.id)) ids.push(manifest.id);
  return ids;
}

/**
 * Follows one row through a run's lineage: for each run, the row's inputs, every node's
 * output, the exact messages of each LLM call and the model's answer, and the row's outputs.
 */
export async function traceRow(
  root: string,
  manifest: RunManifest,
  row: RowRef,
  stageOrder: readonly string[],
  lookupCall: CallLookup,
): Promise<RowTrace> {
  const steps: TracedStep[] = [];
  for (const id of lineageIds(manifest, stageOrder)) {
    const member = id === manifest.id ? manifest : await readRunManifest(root, id);
    steps.push(await traceStep(root, id, member, row.key, lookupCall));
  }
  return { run: manifest.id, row, steps };
}

async function traceStep(
  root: string,
  id: RunId,
  manifest: RunManifest | undefined,
  key: string,
  lookupCall: CallLookup,
): Promise<TracedStep> {
  const base = {
    run: id,
    stage: manifest?.stage ?? id.split('~')[0]?.split('@')[0] ?? id,
    variant: manifest?.variant ?? null,
  };
  // NOTE: reads the run's whole outputs and trace to find one row; an index by row key would
  // make this constant-time on very large runs.
  const output = (await readRunOutputs(root, id)).find((line) => line.key === key);
  const trace = (await readRunTrace(root, id)).find((line) => line.key === key);
  if (manifest === undefined || output === undefined) {
    return { ...base, status: 'missing', inputs: null, nodes: [], outputs: null };
  }

  const nodes = await tracedNodes(trace, lookupCall);
  if (output.status === 'ok') {
    return { ...base, status: 'ok', inputs: trace?.inputs ?? null, nodes, outputs: output.outputs };
  }
  return {
    ...base,
    status: output.status,
    error: output.error,
    ...(output.node ? { failedNode: output.node } : {}),
    inputs: trace?.inputs ?? null,
    nodes,
    outputs: null,
  };
}

/** Nodes in execution order; a node that failed appears with its calls and no output. */
async function tracedNodes(
  trace: TraceLine | undefined,
  lookupCall: CallLookup,
): Promise<TracedNode[]> {
  if (trace === undefined) return [];
  const names = Object.keys(trace.nodes ?? {});
  for (const call of trace.calls) if (!names.includes(call.node)) names.push(call.node);

  const nodes: TracedNode[] = [];
  for (const name of names) {
    const calls: TracedCall[] = [];
    for (const call of trace.calls.filter((candidate) => candidate.node === name)) {
      const stored = await lookupCall(call.key);
      calls.push({
        key: call.key,
        cached: call.cached,
        ...(call.usage ? { usage: call.usage } : {}),
        ...(stored ? { stored } : {}),
      });
    }
    const hasOutput = trace.nodes !== null && Object.hasOwn(trace.nodes, name);
    nodes.push({ name, ...(hasOutput ? { output: trace.nodes?.[name] } : {}), calls });
  }
  return nodes;
}
