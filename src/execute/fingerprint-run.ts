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
import type { JsonValue } from '../config/types.js';
import { inputsForCacheKey } from '../flow/flow-inputs.js';
import { isImageRef, type ImageRef } from '../models/chat.js';
import { withImageRefs } from '../models/image-values.js';
import { referencesIn, resolveExpression, followPath } from '../flow/references.js';
import type { PlannedRun } from '../plan/planned-run.js';
import { resolveRunDefinition, type RunDefinition } from '../plan/run-definition.js';
import type { RunId } from '../plan/run-id.js';
import { ok, type Result } from '../util/result.js';
import type { BuildContext } from './build-context.js';

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

  const datasetHash = await context.datasetHash(run.dataset);
  if (!datasetHash.ok) return datasetHash;
  const datasetConfig = experiment.datasets[run.dataset];
  if (datasetConfig === undefined) throw new Error(`internal error: dataset ${run.dataset}`);

  const allFiles = await context.flowFileHashes(run.flow);
  const unused = new Set(
    definition.unusedTemplates.map((file) => path.posix.join(run.flow.dir, file)),
  );
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

  const imageFiles = await referencedImagesHash(context, run, datasetHash.value);
  if (!imageFiles.ok) return imageFiles;
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
      hash: datasetHash.value,
      ...(imageFiles.value ? { images: imageFiles.value } : {}),
    },
    upstream,
    ...(run.stage.onFailedRows === 'fail' ? { onFailedRows: 'fail' as const } : {}),
  };
  return ok({ definition, fingerprint, hash: hashValue(fingerprint) });
}

/**
 * Local image files that the rows' inputs point at are data too: replacing one must make the
 * run stale even though the dataset file did not change. Those are the values of `image` inputs
 * and promptflow image values (`{"data:image/png;path": ...}`) in any other input.
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
  const fromData = Object.values(run.flow.inputs).flatMap((input) => {
    const expression = run.stage.inputs[input.name];
    if (expression === undefined) return [];
    const dataOnly = referencesIn(expression).every((reference) => reference.scope === 'data');
    return dataOnly ? [{ expression, typed: input.type === 'image' }] : [];
  });
  if (fromData.length === 0) return ok(undefined);
  const typed = fromData.filter((input) => input.typed);
  const others = fromData.filter((input) => !input.typed);

  const key = `images:${hashValue({
    version: CACHE_FORMAT_VERSION,
    dataset: datasetHash,
    expressions: fromData,
  })}`;
  return context.once(key, async () => {
    const files = await fileHashCacheFor(context.root);
    const known = await files.derived(key);
    if (known !== undefined) return ok(known === 'none' ? undefined : (known as ContentHash));

    const rows = await context.datasetRows(run.dataset, datasetHash);
    if (!rows.ok) return rows;
    const images: unknown[] = [];
    const found: unknown[] = [];
    for (const row of rows.value) {
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
    if (typed.length === 0 && found.length === 0) {
      await files.remember(key, { value: 'none', files: [] });
      return ok(undefined);
    }
    // Images found outside `image` inputs are added only when there are any, so that flows
    // without them keep the fingerprints they had.
    const hashed = found.length === 0 ? images : [...images, { promptflowImages: found }];
    const hash = hashValue(await inputsForCacheKey(context.root, hashed));
    await files.remember(key, {
      value: hash,
      files: localImageFiles(context.root, [...images, ...found]),
    });
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

function imageRefsIn(value: unknown): ImageRef[] {
  if (isImageRef(value)) return [value];
  if (Array.isArray(value)) return value.flatMap(imageRefsIn);
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(imageRefsIn);
  return [];
}
