import { isSeq } from 'yaml';

import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { closestMatch, didYouMean } from './did-you-mean.js';
import { findCycles } from './find-cycles.js';
import type { LoadedFlow } from './normalize-flow.js';
import {
  fileKind,
  isModulePath,
  MODULE_EXTENSIONS,
  resolveProjectPath,
  suggestSibling,
} from './project-paths.js';
import { findReferences, type Reference } from './references.js';
import type { ExperimentConfig, FlowConfig, FlowNode, StageConfig } from './types.js';
import type { YamlPath, YamlSource } from './yaml-source.js';

/** What the experiment-wide checks look at. */
export interface ExperimentCheckInput {
  readonly root: string;
  readonly experiment: ExperimentConfig;
  readonly source: YamlSource;
  /** Loaded flows by folder; a stage whose flow is missing here is skipped by flow checks. */
  readonly flows: ReadonlyMap<string, LoadedFlow>;
}

/**
 * Checks across the experiment and its flows: what `rows` names and whether stages feed each
 * other in a cycle, which upstream outputs a stage may read, that stage inputs match the flow's
 * inputs, that connections exist, and that the files the experiment names are in the project.
 */
export async function checkExperiment(input: ExperimentCheckInput): Promise<Diagnostic[]> {
  const upstream = lineageOf(input.experiment);
  return [
    ...checkStageNames(input),
    ...checkRows(input),
    ...checkStageCycles(input),
    ...input.experiment.stages.flatMap((stage) => [
      ...checkStageReferences(input, stage, upstream.get(stage.name)),
      ...checkStageInputs(input, stage),
    ]),
    ...checkConnections(input),
    ...(await checkFiles(input)),
  ];
}

/**
 * For each stage, every stage its rows come from, directly or further up; undefined when some
 * name on the way resolves to nothing (already reported), so lineage errors would be guesses.
 */
function lineageOf(experiment: ExperimentConfig): Map<string, Set<string> | undefined> {
  const direct = new Map(
    experiment.stages.map((stage) => [
      stage.name,
      stage.source.kind === 'stages' ? stage.source.stages : [],
    ]),
  );
  const lineage = new Map<string, Set<string> | undefined>();
  for (const stage of experiment.stages) {
    const seen = new Set<string>();
    let complete = true;
    const pending = [...(direct.get(stage.name) ?? [])];
    for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
      if (seen.has(next)) continue; // also ends a walk round a cycle
      seen.add(next);
      const upstream = direct.get(next);
      if (upstream === undefined) complete = false;
      pending.push(...(upstream ?? []));
    }
    lineage.set(stage.name, complete ? seen : undefined);
  }
  return lineage;
}

function checkStageNames({ experiment, source }: ExperimentCheckInput): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  for (const stage of experiment.stages) {
    const at = ['stages', stage.name];
    if (stage.name === 'data') {
      diagnostics.push(
        source.diagnostic(
          at,
          '`data` cannot name a stage: `${data.column}` reads the dataset row',
          {
            key: true,
            hint: 'rename the stage',
          },
        ),
      );
    }
    if (experiment.datasets[stage.name] !== undefined) {
      diagnostics.push(
        source.diagnostic(at, `\`${stage.name}\` names both a dataset and a stage`, {
          key: true,
          hint: `rename one, so that \`rows: ${stage.name}\` means one thing`,
        }),
      );
    }
  }
  return diagnostics;
}

function checkRows({ experiment, source }: ExperimentCheckInput): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const stageNames = experiment.stages.map((stage) => stage.name);
  const datasetNames = Object.keys(experiment.datasets);

  for (const stage of experiment.stages) {
    if (stage.source.kind !== 'stages') continue;
    const rowsPath: YamlPath = ['stages', stage.name, 'rows'];
    // `rows: validate` is one scalar; `rows: [a, b]` points at the item.
    const single = !isSeq(source.nodeAt(rowsPath));
    const seen = new Set<string>();

    stage.source.stages.forEach((name, index) => {
      const at = single ? rowsPath : [...rowsPath, index];
      if (seen.has(name)) {
        diagnostics.push(source.diagnostic(at, `\`rows\` lists stage \`${name}\` twice`));
        return;
      }
      seen.add(name);
      if (stageNames.includes(name)) return;
      if (datasetNames.includes(name)) {
        diagnostics.push(
          source.diagnostic(
            at,
            `\`${name}\` is a dataset; a list under \`rows\` names stages only`,
            {
              hint: `write \`rows: ${name}\` to read the dataset`,
            },
          ),
        );
        return;
      }
      const candidates = [...datasetNames, ...stageNames.filter((other) => other !== stage.name)];
      diagnostics.push(
        source.diagnostic(
          at,
          `\`rows\` names \`${name}\`, which is neither a dataset nor a stage` +
            didYouMean(name, candidates),
          { hint: describeCandidates(datasetNames, stageNames) },
        ),
      );
    });
  }
  return diagnostics;
}

function describeCandidates(datasets: readonly string[], stages: readonly string[]): string {
  const parts = [
    datasets.length > 0 ? `datasets: ${datasets.join(', ')}` : 'no datasets',
    stages.length > 0 ? `stages: ${stages.join(', ')}` : 'no stages',
  ];
  return parts.join('; ');
}

function checkStageCycles({ experiment, source }: ExperimentCheckInput): Diagnostic[] {
  const names = experiment.stages.map((stage) => stage.name);
  const edges = experiment.stages.flatMap((stage) =>
    stage.source.kind === 'stages'
      ? stage.source.stages
          .filter((from) => names.includes(from))
          .map((from) => [from, stage.name] as const)
      : [],
  );
  return findCycles(names, edges).map((cycle) =>
    source.diagnostic(
      ['stages', cycle[0] ?? '', 'rows'],
      `stages feed each other in a cycle: ${cycle.join(' → ')}`,
      { hint: "a stage's rows must come from a dataset or from stages it does not feed" },
    ),
  );
}

/**
 * References in a stage's inputs: `${data.col...}`, or `${stage.outputs.field...}` where the
 * stage is upstream of this one (so each row has exactly one such output) and its flow has
 * that output. Upper-case `${NAME}`s are environment variables, reported when interpolated.
 */
function checkStageReferences(
  { experiment, source, flows }: ExperimentCheckInput,
  stage: StageConfig,
  lineage: ReadonlySet<string> | undefined,
): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const stageNames = experiment.stages.map((candidate) => candidate.name);

  for (const [input, value] of Object.entries(stage.inputs)) {
    const at = ['stages', stage.name, mappingKey(source, stage.name), input];
    for (const reference of findReferences(value, at)) {
      const report = (message: string, hint: string) =>
        diagnostics.push(
          source.diagnostic(reference.path, message, { within: reference.text, hint }),
        );
      const [head = '', second] = reference.parts;

      if (/^[A-Z_][A-Z0-9_]*$/.test(head) && reference.parts.length === 1) continue;
      // `${run.outputs.x}` left as written could not be read as the upstream stage: said already.
      if (head === 'run' && !stageNames.includes('run')) continue;
      // NOTE: columns are not checked against the dataset here; the loader does not read data.
      if (head === 'data') {
        if (second === undefined || second === '') {
          report(`\`${reference.text}\` must name a column`, 'write `${data.column}`');
        }
        continue;
      }
      if (!stageNames.includes(head)) {
        report(
          `unknown reference \`${reference.text}\`: \`${head}\` is neither \`data\` nor a stage` +
            didYouMean(head, ['data', ...stageNames]),
          head === 'inputs'
            ? '`${inputs.x}` belongs in flow.yaml; a stage reads `${data.column}` or ' +
                '`${stage.outputs.field}`'
            : 'a stage reads `${data.column}` or `${stage.outputs.field}`',
        );
        continue;
      }
      const otherStage = experiment.stages.find((candidate) => candidate.name === head);
      const otherFlow = otherStage === undefined ? undefined : flows.get(otherStage.flow)?.config;
      checkOutputReference({ stage, reference, lineage, otherFlow, report });
    }
  }
  return diagnostics;
}

interface OutputReference {
  readonly stage: StageConfig;
  readonly reference: Reference;
  /** Undefined when the stage's rows name something unknown: lineage is then not checked. */
  readonly lineage: ReadonlySet<string> | undefined;
  /** The flow of the stage the reference names, when it loaded. */
  readonly otherFlow: FlowConfig | undefined;
  readonly report: (message: string, hint: string) => void;
}

/** `${other.outputs.field}`: `other` upstream of `stage`, and `field` an output of its flow. */
function checkOutputReference(check: OutputReference): void {
  const { stage, reference, lineage, otherFlow, report } = check;
  const [other = '', second, field] = reference.parts;
  if (other === stage.name) {
    report(
      `stage \`${stage.name}\` cannot read its own outputs`,
      'read the outputs of an upstream stage',
    );
    return;
  }
  if (second !== 'outputs' || field === undefined || field === '') {
    report(
      `\`${reference.text}\` must name an output: \`\${${other}.outputs.field}\``,
      `write \`\${${other}.outputs.<output>}\``,
    );
    return;
  }
  if (lineage === undefined) return;
  if (!lineage.has(other)) {
    report(
      `stage \`${stage.name}\` reads \`${reference.text}\`, but \`${other}\` is not upstream of it`,
      `a row sees only the outputs of its lineage: add \`${other}\` to the rows of ` +
        `\`${stage.name}\` (or of a stage it reads)`,
    );
    return;
  }
  if (otherFlow === undefined) return;
  const outputs = Object.keys(otherFlow.outputs);
  if (!outputs.includes(field)) {
    report(
      `stage \`${other}\` has no output \`${field}\`${didYouMean(field, outputs)}`,
      outputs.length > 0
        ? `outputs of ${otherFlow.file}: ${outputs.join(', ')}`
        : `${otherFlow.file} declares no outputs`,
    );
  }
}

/** Where a stage's input mapping is written: `inputs`, or promptflow's `column_mapping`. */
function mappingKey(source: YamlSource, stage: string): 'inputs' | 'column_mapping' {
  return source.nodeAt(['stages', stage, 'inputs']) === undefined &&
    source.nodeAt(['stages', stage, 'column_mapping']) !== undefined
    ? 'column_mapping'
    : 'inputs';
}

/** Every flow input must be mapped (or have a default), and every mapping must be an input. */
function checkStageInputs(
  { source, flows }: ExperimentCheckInput,
  stage: StageConfig,
): Diagnostic[] {
  const flow = flows.get(stage.flow)?.config;
  if (flow === undefined) return [];
  const diagnostics: Diagnostic[] = [];
  const declared = Object.keys(flow.inputs);

  for (const input of Object.keys(stage.inputs)) {
    if (declared.includes(input)) continue;
    diagnostics.push(
      source.diagnostic(
        ['stages', stage.name, mappingKey(source, stage.name), input],
        `flow \`${flow.dir}\` has no input \`${input}\`${didYouMean(input, declared)}`,
        {
          key: true,
          hint:
            declared.length > 0
              ? `inputs of ${flow.file}: ${declared.join(', ')}`
              : `${flow.file} declares no inputs`,
        },
      ),
    );
  }

  // A mapping `titel:` already gets "did you mean `title`?"; `title` unmapped is the same typo.
  const typos = Object.keys(stage.inputs)
    .filter((input) => !declared.includes(input))
    .map((input) => closestMatch(input, declared));
  const mapping = mappingKey(source, stage.name);
  const hasInputs = source.nodeAt(['stages', stage.name, mapping]) !== undefined;
  for (const input of Object.values(flow.inputs)) {
    if (input.default !== undefined || input.name in stage.inputs) continue;
    if (typos.includes(input.name)) continue;
    diagnostics.push(
      source.diagnostic(
        hasInputs ? ['stages', stage.name, mapping] : ['stages', stage.name],
        `stage \`${stage.name}\` does not map flow input \`${input.name}\``,
        {
          key: true,
          hint:
            `add \`${input.name}: \${data.<column>}\` under the stage's inputs, ` +
            `or give the input a default in ${flow.file}`,
        },
      ),
    );
  }
  return diagnostics;
}

/**
 * Connection names must exist wherever they are written, and every llm node a stage runs must
 * end up with one: from the variant's, the stage's or the default settings, or the node itself.
 */
function checkConnections({ experiment, source, flows }: ExperimentCheckInput): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const names = Object.keys(experiment.connections);
  const check = (target: YamlSource, at: YamlPath, name: string | undefined) => {
    if (name === undefined || names.includes(name)) return;
    diagnostics.push(
      target.diagnostic(at, `unknown connection \`${name}\`${didYouMean(name, names)}`, {
        hint:
          names.length > 0
            ? `connections in ${experiment.file}: ${names.join(', ')}`
            : `define it under \`connections:\` in ${experiment.file}`,
      }),
    );
  };

  check(source, ['defaults', 'connection'], experiment.defaults.connection);
  for (const stage of experiment.stages) {
    check(source, ['stages', stage.name, 'settings', 'connection'], stage.settings.connection);
    stage.variants.forEach((variant, index) =>
      check(
        source,
        ['stages', stage.name, 'variants', index, 'settings', 'connection'],
        variant.settings.connection,
      ),
    );
  }
  // A node's own connection matters only where no stage or variant setting replaces it: a
  // promptflow flow naming a workspace connection runs unchanged on the stage's connection.
  const nodesOwnConnection = new Set<FlowNode>();
  for (const stage of experiment.stages) {
    const flow = flows.get(stage.flow)?.config;
    if (flow === undefined) continue;
    for (const variant of stage.variants.length > 0 ? stage.variants : [undefined]) {
      if ((variant?.settings.connection ?? stage.settings.connection) !== undefined) continue;
      for (const node of nodesRun(flow, variant?.nodeVariants ?? {})) nodesOwnConnection.add(node);
    }
  }
  for (const flow of flows.values()) {
    for (const [node, at] of flow.nodePaths) {
      if (node.type === 'llm' && nodesOwnConnection.has(node)) {
        check(flow.source, [...at, 'connection'], node.connection);
      }
    }
    for (const [name, value] of Object.entries(flow.config.environmentVariables ?? {})) {
      for (const reference of findReferences(value, ['environment_variables', name])) {
        const [connection = '', field, ...rest] = reference.parts;
        if (!names.includes(connection)) {
          check(flow.source, reference.path, connection);
        } else if (field === undefined || rest.length > 0 || !CONNECTION_FIELDS.includes(field)) {
          diagnostics.push(
            flow.source.diagnostic(
              reference.path,
              `\`${reference.text}\` must read a field of connection \`${connection}\``,
              { within: reference.text, hint: `fields: ${CONNECTION_FIELDS.join(', ')}` },
            ),
          );
        }
      }
    }
  }

  for (const stage of experiment.stages) {
    const flow = flows.get(stage.flow)?.config;
    if (flow === undefined) continue;
    const reported = new Set<string>();
    const choices = stage.variants.length > 0 ? stage.variants : [undefined];
    for (const variant of choices) {
      for (const node of nodesRun(flow, variant?.nodeVariants ?? {})) {
        if (node.type !== 'llm' || reported.has(node.name)) continue;
        const connection =
          variant?.settings.connection ??
          stage.settings.connection ??
          experiment.defaults.connection ??
          node.connection;
        if (connection !== undefined) continue;
        reported.add(node.name);
        diagnostics.push(
          source.diagnostic(
            ['stages', stage.name],
            `stage \`${stage.name}\` runs llm node \`${node.name}\` without a connection`,
            {
              key: true,
              hint:
                "set `connection` under defaults or the stage's settings, " +
                `or on the node in ${flow.file}`,
            },
          ),
        );
      }
    }
  }
  return diagnostics;
}

/** What `${connection.field}` may read in a flow's environment_variables. */
export const CONNECTION_FIELDS = ['api_key', 'api_base', 'base_url', 'model'];

/** The node definitions a run of the flow executes, given the variant's choices. */
function nodesRun(flow: FlowConfig, choices: { readonly [node: string]: string }): FlowNode[] {
  return flow.nodes.map((node) => {
    const chosen = choices[node.name];
    return chosen === undefined ? node : (flow.nodeVariants[node.name]?.variants[chosen] ?? node);
  });
}

/** Dataset files and module connections: inside the project, present, of a usable kind. */
async function checkFiles({
  root,
  experiment,
  source,
}: ExperimentCheckInput): Promise<Diagnostic[]> {
  const diagnostics: Diagnostic[] = [];
  const checkFile = async (at: YamlPath, written: string, what: string) => {
    const resolved = resolveProjectPath(written, '');
    if (!resolved.ok) {
      diagnostics.push(source.diagnostic(at, resolved.message, { hint: resolved.hint }));
      return;
    }
    const kind = await fileKind(root, resolved.path);
    if (kind === 'file') return;
    diagnostics.push(
      source.diagnostic(
        at,
        `${what} \`${resolved.path}\` ${kind === 'missing' ? 'does not exist' : 'is a folder'}` +
          (await suggestSibling(root, resolved.path)),
        { hint: 'paths in experiment.yaml are relative to the project root' },
      ),
    );
  };

  for (const dataset of Object.values(experiment.datasets)) {
    await checkFile(['datasets', dataset.name, 'path'], dataset.path, 'dataset file');
  }
  for (const connection of Object.values(experiment.connections)) {
    if (connection.kind !== 'module') continue;
    const at = ['connections', connection.name, 'module'];
    if (!isModulePath(connection.module)) {
      diagnostics.push(
        source.diagnostic(
          at,
          `connection module \`${connection.module}\` is not a .ts or .js module`,
          {
            hint: `a module connection is one of: ${MODULE_EXTENSIONS.join(', ')}`,
          },
        ),
      );
      continue;
    }
    await checkFile(at, connection.module, 'connection module');
  }
  return diagnostics;
}
