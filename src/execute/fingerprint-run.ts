import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { CACHE_FORMAT_VERSION } from '../fingerprint/cache-format.js';
import { hashValue, type ContentHash } from '../fingerprint/hash.js';
import {
  fingerprintSettings,
  type ConnectionIdentity,
  type RunFingerprint,
} from '../fingerprint/run-fingerprint.js';
import type { JsonValue } from '../config/types.js';
import { inputsForCacheKey } from '../flow/flow-inputs.js';
import { isImageRef, type ImageRef } from '../models/chat.js';
import { withImageRefs } from '../models/image-values.js';
import { referencesIn, resolveExpression, followPath } from '../flow/references.js';
import type { PlannedRun } from '../plan/planned-run.js';
import { resolveRunDefinition, type RunDefinition } from '../plan/run-definition.js';
import type { RunId } from '../plan/run-id.js';
import { ok, type Result } from '../util/result.js';
import type { BuildContext, LoadedDataset } from './build-context.js';

/** What a run's fingerprint takes from each run in its lineage. */
export interface UpstreamState {
  readonly fingerprint: ContentHash;
  /** Hash of the outputs.jsonl the run's last build wrote. */
  readonly outputs: ContentHash;
}

export interface FingerprintedRun {
  readonly definition: RunDefinition;
  readonly fingerprint: RunFingerprint;
  readonly hash: ContentHash;
  readonly dataset: LoadedDataset;
}

/**
 * Computes a run's fingerprint. `lineage` must hold the state of every run in the run's
 * lineage: a run is as fresh as the runs it reads, so any change upstream reaches it.
 */
export async function fingerprintRun(
  context: BuildContext,
  run: PlannedRun,
  lineage: ReadonlyMap<RunId, UpstreamState>,
): Promise<Result<FingerprintedRun, Diagnostic[]>> {
  const experiment = context.project.experiment;
  const definition = resolveRunDefinition(experiment, run, context.connectionOverride);

  const dataset = await context.dataset(run.dataset);
  if (!dataset.ok) return dataset;
  const datasetConfig = experiment.datasets[run.dataset];
  if (datasetConfig === undefined) throw new Error(`internal error: dataset ${run.dataset}`);

  const allFiles = await context.flowFileHashes(run.flow.dir);
  const unused = new Set(definition.unusedTemplates.map((file) => `${run.flow.dir}/${file}`));
  const files: Record<string, ContentHash> = {};
  for (const [file, hash] of Object.entries(allFiles)) {
    if (!unused.has(file)) files[file] = hash;
  }

  const connections: Record<string, ConnectionIdentity> = {};
  for (const node of definition.nodes) {
    if (node.type === 'llm' && node.connection in experiment.connections) {
      connections[node.connection] = await context.connectionIdentity(node.connection);
    }
    // A Python tool given a connection (`connection: openai` among its inputs) may call it.
    for (const value of node.type === 'python' ? Object.values(node.inputs) : []) {
      if (typeof value === 'string' && Object.hasOwn(experiment.connections, value)) {
        connections[value] = await context.connectionIdentity(value);
      }
    }
  }

  const upstream: Record<string, { run: RunId; fingerprint: ContentHash; outputs: ContentHash }> =
    {};
  for (const [stage, id] of Object.entries(run.lineage)) {
    const state = lineage.get(id);
    if (state === undefined) throw new Error(`internal error: ${id} has no fingerprint`);
    upstream[stage] = { run: id, fingerprint: state.fingerprint, outputs: state.outputs };
  }

  const imageFiles = await referencedImagesHash(context, run, dataset.value);
  const fingerprint: RunFingerprint = {
    version: CACHE_FORMAT_VERSION,
    stage: run.stage.name,
    variant: run.variant?.id ?? null,
    ...(run.sample !== undefined ? { sample: run.sample } : {}),
    nodeVariants: definition.nodeVariants,
    files,
    inputs: run.stage.inputs,
    settings: fingerprintSettings(definition),
    connections,
    data: {
      dataset: run.dataset,
      path: datasetConfig.path,
      hash: dataset.value.contentHash,
      ...(imageFiles ? { images: imageFiles } : {}),
    },
    upstream,
    ...(run.stage.onFailedRows === 'fail' ? { onFailedRows: 'fail' as const } : {}),
  };
  return ok({ definition, fingerprint, hash: hashValue(fingerprint), dataset: dataset.value });
}

/**
 * Local image files that the rows' inputs point at are data too: replacing one must make the
 * run stale even though the dataset file did not change. Those are the values of `image` inputs
 * and promptflow image values (`{"data:image/png;path": ...}`) in any other input.
 */
async function referencedImagesHash(
  context: BuildContext,
  run: PlannedRun,
  dataset: LoadedDataset,
): Promise<ContentHash | undefined> {
  const fromData = Object.values(run.flow.inputs).flatMap((input) => {
    const expression = run.stage.inputs[input.name];
    if (expression === undefined) return [];
    const dataOnly = referencesIn(expression).every((reference) => reference.scope === 'data');
    return dataOnly ? [{ expression, typed: input.type === 'image' }] : [];
  });
  const typed = fromData.filter((input) => input.typed);
  const others = fromData.filter((input) => !input.typed);

  const images: unknown[] = [];
  const found: unknown[] = [];
  for (const row of dataset.rows) {
    const valueOf = (expression: JsonValue): unknown => {
      try {
        return withImageRefs(
          resolveExpression(expression, (reference) => followPath(row.data, reference.path)),
        );
      } catch {
        return null;
      }
    };
    for (const { expression } of typed) images.push(toImageRefs(valueOf(expression)));
    for (const { expression } of others) found.push(...imageRefsIn(valueOf(expression)));
  }
  if (typed.length === 0 && found.length === 0) return undefined;
  // Images found outside `image` inputs are added only when there are any, so that flows
  // without them keep the fingerprints they had.
  const hashed = found.length === 0 ? images : [...images, { promptflowImages: found }];
  return hashValue(await inputsForCacheKey(context.root, hashed));
}

function toImageRefs(value: unknown): unknown {
  if (typeof value === 'string') return { kind: 'image', source: value };
  if (Array.isArray(value)) return value.map(toImageRefs);
  return value;
}

function imageRefsIn(value: unknown): ImageRef[] {
  if (isImageRef(value)) return [value];
  if (Array.isArray(value)) return value.flatMap(imageRefsIn);
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(imageRefsIn);
  return [];
}
