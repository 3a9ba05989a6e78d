import { readFile } from 'node:fs/promises';
import path from 'node:path';

import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { sortDiagnostics } from '../diagnostics/sort-diagnostics.js';
import { fail, ok, type Result } from '../util/result.js';
import { checkExperiment } from './check-experiment.js';
import { interpolateEnvironment, type Environment } from './env-interpolation.js';
import { experimentSchema } from './experiment-schema.js';
import { loadFlow, type FlowLoad } from './load-flow.js';
import type { LoadedFlow } from './normalize-flow.js';
import { normalizeExperiment } from './normalize-experiment.js';
import { resolveProjectPath } from './project-paths.js';
import { validateSource } from './schema-diagnostics.js';
import type { FlowConfig, LoadedProject } from './types.js';
import { YamlSource } from './yaml-source.js';

export const DEFAULT_EXPERIMENT_FILE = 'experiment.yaml';

export interface LoadProjectOptions {
  /** The experiment file, relative to the root; default `experiment.yaml`. */
  readonly experimentFile?: string;
  /** Variables for `${NAME}` interpolation; default `process.env`. */
  readonly env?: Environment;
}

/**
 * Loads and validates a project: experiment.yaml, every flow its stages use, and the checks
 * between them. On failure, returns every problem it could find (not just the first), sorted
 * by file and line, each located where the user can fix it.
 *
 * A broken experiment does not stop the flows from being checked: the flows named by any stage
 * are still loaded, so one run reports the problems of every file.
 */
export async function loadProject(
  root: string,
  options: LoadProjectOptions = {},
): Promise<Result<LoadedProject, Diagnostic[]>> {
  const projectRoot = path.resolve(root);
  const experimentPath = path.resolve(
    projectRoot,
    options.experimentFile ?? DEFAULT_EXPERIMENT_FILE,
  );
  const file = path.relative(projectRoot, experimentPath).split(path.sep).join('/');

  let text: string;
  try {
    text = await readFile(experimentPath, 'utf8');
  } catch {
    return fail([
      {
        message: `cannot read ${file} in ${projectRoot}`,
        hint: 'run kwgraph in a project folder, or point at one with -C <dir>',
      },
    ]);
  }

  const parsed = YamlSource.parse(file, text);
  if (!parsed.ok) return fail(sortDiagnostics(parsed.error));
  const source = parsed.value;

  const unset = interpolateEnvironment(source, options.env ?? process.env);
  const diagnostics: Diagnostic[] = [];
  const data = source.toData();
  const validated = validateSource(source, experimentSchema, data);
  diagnostics.push(...validated.diagnostics);

  const flows = await loadFlows(
    projectRoot,
    source,
    flowsNamed(data),
    diagnostics,
    options.env ?? process.env,
  );

  if (validated.value !== undefined) {
    const normalized = normalizeExperiment(validated.value, source, projectRoot, flows);
    diagnostics.push(...normalized.diagnostics);
    diagnostics.push(
      ...(await checkExperiment({
        root: projectRoot,
        experiment: normalized.experiment,
        source,
        flows,
      })),
    );
    if (diagnostics.length === 0 && unset.length === 0) {
      const flowConfigs: Record<string, FlowConfig> = {};
      for (const [dir, flow] of flows) flowConfigs[dir] = flow.config;
      return ok({ experiment: normalized.experiment, flows: flowConfigs });
    }
  }

  return fail(sortDiagnostics([...unset, ...withoutFollowOns(diagnostics, unset)]));
}

/**
 * The diagnostics that are not about a value an unset variable left as written: there, the
 * variable is the problem, and what the checks say of `${NAME}` as a value would mislead.
 */
function withoutFollowOns(
  diagnostics: readonly Diagnostic[],
  unset: readonly Diagnostic[],
): Diagnostic[] {
  if (unset.length === 0) return [...diagnostics];
  const lineOf = (diagnostic: Diagnostic) =>
    diagnostic.position && `${diagnostic.position.file}:${diagnostic.position.line}`;
  const lines = new Set(unset.map(lineOf));
  return diagnostics.filter((diagnostic) => !lines.has(lineOf(diagnostic)));
}

/**
 * `stage name → flow` as written, read from the plain data so it works even when the
 * experiment failed validation elsewhere.
 */
function flowsNamed(data: unknown): [stage: string, flow: string][] {
  const stages = isRecord(data) ? data['stages'] : undefined;
  if (!isRecord(stages)) return [];
  return Object.entries(stages).flatMap(([stage, value]) => {
    const flow = isRecord(value) ? value['flow'] : undefined;
    return typeof flow === 'string' && flow !== '' ? [[stage, flow] as [string, string]] : [];
  });
}

/**
 * Loads each flow folder once, however many stages share it. A folder that cannot be found is
 * reported at every stage that names it; problems inside a flow file are reported once.
 */
async function loadFlows(
  root: string,
  source: YamlSource,
  named: readonly [stage: string, flow: string][],
  diagnostics: Diagnostic[],
  env: Environment,
): Promise<Map<string, LoadedFlow>> {
  const dirs = new Map<string, string[]>();
  for (const [stage, written] of named) {
    const resolved = resolveProjectPath(written, '');
    if (!resolved.ok) {
      diagnostics.push(
        source.diagnostic(['stages', stage, 'flow'], resolved.message, { hint: resolved.hint }),
      );
      continue;
    }
    dirs.set(resolved.path, [...(dirs.get(resolved.path) ?? []), stage]);
  }

  const loads = await Promise.all(
    [...dirs.keys()].map(async (dir): Promise<[string, FlowLoad]> => [
      dir,
      await loadFlow(root, dir, env),
    ]),
  );

  const flows = new Map<string, LoadedFlow>();
  for (const [dir, load] of loads) {
    if (load.kind === 'not-found') {
      for (const stage of dirs.get(dir) ?? []) {
        diagnostics.push(
          source.diagnostic(['stages', stage, 'flow'], load.message, { hint: load.hint }),
        );
      }
      continue;
    }
    diagnostics.push(...load.diagnostics);
    if (load.flow !== undefined) flows.set(dir, load.flow);
  }
  return flows;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
