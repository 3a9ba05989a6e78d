import path from 'node:path';

import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { RawExperiment, RawStage } from './experiment-schema.js';
import type { LoadedFlow } from './normalize-flow.js';
import { compact, normalizeSettings } from './normalize-settings.js';
import { resolveProjectPath } from './project-paths.js';
import { resolveVariants } from './resolve-variants.js';
import type {
  ConnectionConfig,
  DatasetConfig,
  ExperimentConfig,
  SourcePosition,
  StageConfig,
  StageSource,
} from './types.js';
import type { YamlSource } from './yaml-source.js';

/** The environment variable an openai connection reads its key from when none is named. */
export const DEFAULT_API_KEY_ENV = 'OPENAI_API_KEY';

/**
 * Turns a schema-valid experiment.yaml into an ExperimentConfig. `flows` (keyed by folder) is
 * needed to resolve variant shorthands; a stage whose flow failed to load keeps its variant
 * ids but nothing is checked against the flow.
 */
export function normalizeExperiment(
  raw: RawExperiment,
  source: YamlSource,
  root: string,
  flows: ReadonlyMap<string, LoadedFlow>,
): { experiment: ExperimentConfig; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const keyPosition = (...at: (string | number)[]): SourcePosition =>
    source.locate(at, { key: true }).position;

  const datasets: Record<string, DatasetConfig> = {};
  for (const [name, dataset] of Object.entries(raw.datasets ?? {})) {
    const format = formatOf(dataset.path);
    if (format === undefined) {
      diagnostics.push(
        source.diagnostic(
          ['datasets', name, 'path'],
          `dataset \`${name}\` must be a .jsonl or .csv file`,
          {
            hint: 'the format is taken from the extension: .jsonl (one JSON object a line) or .csv',
          },
        ),
      );
    }
    datasets[name] = compact({
      name,
      path: projectPath(dataset.path),
      format: format ?? 'jsonl',
      key: dataset.key,
      position: keyPosition('datasets', name),
    });
  }

  const connections: Record<string, ConnectionConfig> = {};
  for (const [name, connection] of Object.entries(raw.connections ?? {})) {
    const position = keyPosition('connections', name);
    connections[name] =
      connection.kind === 'module'
        ? compact({
            kind: 'module' as const,
            name,
            module: projectPath(connection.module),
            model: connection.model,
            position,
          })
        : compact({
            kind: 'openai' as const,
            name,
            base_url: connection.base_url,
            api_key_env: connection.api_key_env ?? DEFAULT_API_KEY_ENV,
            model: connection.model,
            position,
          });
  }

  const stageEntries = Object.entries(raw.stages);
  if (stageEntries.length === 0) {
    diagnostics.push(
      source.diagnostic(['stages'], 'the experiment has no stages', {
        key: true,
        hint: 'add a stage: `stages: { name: { flow: flows/x, rows: dataset } }`',
      }),
    );
  }

  const stages = stageEntries.map(([name, stage]): StageConfig => {
    const flow = projectPath(stage.flow);
    const resolved = resolveVariants(name, stage.variants ?? [], flows.get(flow)?.config, source, [
      'stages',
      name,
      'variants',
    ]);
    diagnostics.push(...resolved.diagnostics);

    const inputs = stage.inputs ?? {};
    const inputPositions = Object.fromEntries(
      Object.keys(inputs).map((input) => [input, keyPosition('stages', name, 'inputs', input)]),
    );
    return compact({
      name,
      flow,
      source: sourceOf(stage, raw),
      inputs,
      variants: resolved.variants,
      settings: normalizeSettings(stage.settings),
      repeat: stage.repeat !== undefined && stage.repeat > 1 ? stage.repeat : undefined,
      onFailedRows: stage.on_failed_rows,
      position: keyPosition('stages', name),
      inputPositions,
    });
  });

  const experiment: ExperimentConfig = compact({
    name: raw.name,
    root,
    file: source.file,
    datasets,
    connections,
    defaults: normalizeSettings(raw.defaults),
    cache: raw.cache,
    stages,
    primaryMetric: raw.compare?.metric,
  });
  return { experiment, diagnostics };
}

/**
 * `rows: products` reads a dataset when one has that name, else the stage of that name; a list
 * always names stages. Names that resolve to nothing are reported by the cross-checks.
 */
function sourceOf(stage: RawStage, raw: RawExperiment): StageSource {
  if (typeof stage.rows === 'string') {
    return raw.datasets?.[stage.rows] !== undefined
      ? { kind: 'dataset', dataset: stage.rows }
      : { kind: 'stages', stages: [stage.rows] };
  }
  return { kind: 'stages', stages: stage.rows };
}

function formatOf(file: string): DatasetConfig['format'] | undefined {
  switch (path.posix.extname(file).toLowerCase()) {
    case '.jsonl':
      return 'jsonl';
    case '.csv':
      return 'csv';
    default:
      return undefined;
  }
}

/**
 * The tidy form of a root-relative path (`./flows/a/` → `flows/a`). A path that leaves the
 * project is kept as written here; the cross-checks report it.
 */
function projectPath(written: string): string {
  const resolved = resolveProjectPath(written, '');
  return resolved.ok ? resolved.path : written;
}
