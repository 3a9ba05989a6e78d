import path from 'node:path';

import { cacheUrlProblem } from '../cache/open-store.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { RawExperiment, RawStage } from './experiment-schema.js';
import { normalizeConnection } from './normalize-connection.js';
import type { LoadedFlow } from './normalize-flow.js';
import { compact, normalizeSettings } from './normalize-settings.js';
import { resolveProjectPath } from './project-paths.js';
import { resolveVariants } from './resolve-variants.js';
import type {
  ConnectionConfig,
  DatasetConfig,
  ExperimentConfig,
  JsonValue,
  SourcePosition,
  StageConfig,
  StageSource,
} from './types.js';
import type { YamlPath, YamlSource } from './yaml-source.js';

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

  const cacheProblem = raw.cache === undefined ? undefined : cacheUrlProblem(raw.cache);
  if (cacheProblem !== undefined) {
    diagnostics.push(
      source.diagnostic(['cache'], cacheProblem, {
        hint: 'leave `cache` out for the local SQLite file, or set KWGRAPH_CACHE per checkout',
      }),
    );
  }

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
    const normalized = normalizeConnection(name, connection, source, projectPath);
    connections[name] = normalized.connection;
    diagnostics.push(...normalized.diagnostics);
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

    const mappingKey =
      stage.inputs === undefined && stage.column_mapping ? 'column_mapping' : 'inputs';
    if (stage.inputs !== undefined && stage.column_mapping !== undefined) {
      diagnostics.push(
        source.diagnostic(
          ['stages', name, 'column_mapping'],
          'a stage has `inputs` or `column_mapping`, not both',
          {
            key: true,
            hint: 'merge the two mappings into `inputs`',
          },
        ),
      );
    }
    const inputs = readRunReferences(name, stage, raw, source, diagnostics);
    const inputPositions = Object.fromEntries(
      Object.keys(inputs).map((input) => [input, keyPosition('stages', name, mappingKey, input)]),
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
    python: raw.python,
    primaryMetric: raw.compare?.metric,
    higherIsBetter: raw.compare?.higher_is_better,
  });
  return { experiment, diagnostics };
}

/**
 * A stage's input mapping, with promptflow's `${run.outputs.x}` read as the one upstream
 * stage's outputs (`${describe.outputs.x}`), as a promptflow evaluation run reads the run it
 * evaluates. A stage actually named `run` keeps its own meaning.
 */
function readRunReferences(
  name: string,
  stage: RawStage,
  raw: RawExperiment,
  source: YamlSource,
  diagnostics: Diagnostic[],
): { [input: string]: JsonValue } {
  const mapping = stage.inputs ?? stage.column_mapping ?? {};
  const key = stage.inputs === undefined && stage.column_mapping ? 'column_mapping' : 'inputs';
  if (raw.stages['run'] !== undefined) return mapping;

  const origin = sourceOf(stage, raw);
  const upstream =
    origin.kind === 'stages' && origin.stages.length === 1 ? origin.stages[0] : undefined;
  const rewrite = (value: JsonValue, at: YamlPath): JsonValue => {
    if (typeof value === 'string') {
      return value.replace(RUN_REFERENCE, (text: string, rest: string) => {
        if (upstream !== undefined) return `\${${upstream}.${rest}}`;
        diagnostics.push(
          source.diagnostic(
            at,
            `\`${text}\` reads the upstream run, but stage \`${name}\` has ${origin.kind === 'dataset' ? 'none' : 'several'}`,
            {
              within: text,
              hint:
                origin.kind === 'dataset'
                  ? 'read the dataset with `${data.column}`'
                  : 'name the stage: `${<stage>.outputs.field}`',
            },
          ),
        );
        return text;
      });
    }
    if (Array.isArray(value)) return value.map((item, index) => rewrite(item, [...at, index]));
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value).map(([entry, item]) => [entry, rewrite(item, [...at, entry])]),
      );
    }
    return value;
  };
  return Object.fromEntries(
    Object.entries(mapping).map(([input, value]) => [
      input,
      rewrite(value, ['stages', name, key, input]),
    ]),
  );
}

/** `${run.outputs.x}` (and any other `${run....}`), capturing what follows `run.`. */
const RUN_REFERENCE = /\$\{\s*run\.([^}]*)\}/g;

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
