import path from 'node:path';

import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { CACHE_FORMAT_VERSION } from '../fingerprint/cache-format.js';
import { fileHashCacheFor } from '../fingerprint/file-hash-cache.js';
import { hashValue, type ContentHash } from '../fingerprint/hash.js';
import {
  fingerprintSettings,
  type ConnectionIdentity,
  type RunFingerprint,
} from '../fingerprint/run-fingerprint.js';
import { inputsForCacheKey } from '../flow/flow-inputs.js';
import { referencesIn, resolveExpression, followPath } from '../flow/references.js';
import { isImageRef } from '../models/chat.js';
import type { PlannedRun } from '../plan/planned-run.js';
import { resolveRunDefinition, type RunDefinition } from '../plan/run-definition.js';
import type { RunId } from '../plan/run-id.js';
import { ok, type Result } from '../util/result.js';
import type { BuildContext } from './build-context.js';

export interface FingerprintedRun {
  readonly definition: RunDefinition;
  readonly fingerprint: RunFingerprint;
  readonly hash: ContentHash;
}

/**
 * Computes a run's fingerprint. `lineage` must hold the fingerprint hash of every run in the
 * run's lineage: a run is as fresh as the runs it reads, so any change upstream reaches it.
 */
export async function fingerprintRun(
  context: BuildContext,
  run: PlannedRun,
  lineage: ReadonlyMap<RunId, ContentHash>,
): Promise<Result<FingerprintedRun, Diagnostic[]>> {
  const experiment = context.project.experiment;
  const definition = resolveRunDefinition(experiment, run, context.connectionOverride);

  const datasetHash = await context.datasetHash(run.dataset);
  if (!datasetHash.ok) return datasetHash;
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
  }

  const upstream: Record<string, { run: RunId; fingerprint: ContentHash }> = {};
  for (const [stage, id] of Object.entries(run.lineage)) {
    const fingerprint = lineage.get(id);
    if (fingerprint === undefined) throw new Error(`internal error: ${id} has no fingerprint`);
    upstream[stage] = { run: id, fingerprint };
  }

  const imageFiles = await referencedImagesHash(context, run, datasetHash.value);
  if (!imageFiles.ok) return imageFiles;
  const fingerprint: RunFingerprint = {
    version: CACHE_FORMAT_VERSION,
    stage: run.stage.name,
    variant: run.variant?.id ?? null,
    nodeVariants: definition.nodeVariants,
    files,
    inputs: run.stage.inputs,
    settings: fingerprintSettings(definition),
    connections,
    data: {
      dataset: run.dataset,
      path: datasetConfig.path,
      hash: datasetHash.value,
      ...(imageFiles.value ? { images: imageFiles.value } : {}),
    },
    upstream,
  };
  return ok({ definition, fingerprint, hash: hashValue(fingerprint) });
}

/**
 * Local image files that the rows' `image` inputs point at are data too: replacing one must
 * make the run stale even though the dataset file did not change.
 *
 * Which files the rows point at follows from the dataset's bytes and the expressions, so the
 * result is kept (in the stat cache) under those and reused while every file it covers still
 * hashes the same: a build with nothing changed stats the images and reads no row.
 */
async function referencedImagesHash(
  context: BuildContext,
  run: PlannedRun,
  datasetHash: ContentHash,
): Promise<Result<ContentHash | undefined, Diagnostic[]>> {
  const expressions = Object.values(run.flow.inputs)
    .filter((input) => input.type === 'image')
    .map((input) => run.stage.inputs[input.name])
    .filter((expression) => expression !== undefined)
    .filter((expression) =>
      referencesIn(expression).every((reference) => reference.scope === 'data'),
    );
  if (expressions.length === 0) return ok(undefined);

  const key = `images:${hashValue({
    version: CACHE_FORMAT_VERSION,
    dataset: datasetHash,
    expressions,
  })}`;
  return context.once(key, async () => {
    const files = await fileHashCacheFor(context.root);
    const known = await files.derived(key);
    if (known !== undefined) return ok(known as ContentHash);

    const rows = await context.datasetRows(run.dataset, datasetHash);
    if (!rows.ok) return rows;
    const images: unknown[] = [];
    for (const row of rows.value) {
      for (const expression of expressions) {
        try {
          const value = resolveExpression(expression, (reference) =>
            followPath(row.data, reference.path),
          );
          images.push(toImageRefs(value));
        } catch {
          images.push(null);
        }
      }
    }
    const hash = hashValue(await inputsForCacheKey(context.root, images));
    await files.remember(key, { value: hash, files: localImageFiles(context.root, images) });
    return ok(hash);
  });
}

/** The distinct local files among image references, sorted. */
function localImageFiles(root: string, values: readonly unknown[]): string[] {
  const files = new Set<string>();
  const visit = (value: unknown): void => {
    if (isImageRef(value)) {
      if (!/^(https?|data):/.test(value.source)) files.add(path.resolve(root, value.source));
    } else if (Array.isArray(value)) value.forEach(visit);
  };
  values.forEach(visit);
  return [...files].sort();
}

function toImageRefs(value: unknown): unknown {
  if (typeof value === 'string') return { kind: 'image', source: value };
  if (Array.isArray(value)) return value.map(toImageRefs);
  return value;
}
