import type {
  ExperimentConfig,
  FlowNode,
  ModelParameters,
  StageSettings,
} from '../config/types.js';
import type { PlannedRun } from './planned-run.js';

/** An llm node as one run executes it: its variant chosen, its parameters and connection fixed. */
export type ResolvedNode =
  | Exclude<FlowNode, { type: 'llm' }>
  | (Extract<FlowNode, { type: 'llm' }> & { readonly connection: string });

/**
 * Everything that decides what a run computes for a row, apart from the row itself: the nodes
 * with their chosen variants, and the settings after precedence. It is fingerprinted as a whole,
 * so a change of a temperature in a stage's settings is as visible as an edited template.
 */
export interface RunDefinition {
  /** Varianted node → the variant this run uses. */
  readonly nodeVariants: Readonly<Record<string, string>>;
  readonly nodes: readonly ResolvedNode[];
  /** `defaults` < stage `settings` < variant `settings`. */
  readonly settings: StageSettings;
  /** Template files that only unchosen variants use: not part of this run's fingerprint. */
  readonly unusedTemplates: readonly string[];
}

const MODEL_PARAMETER_KEYS = [
  'model',
  'temperature',
  'top_p',
  'max_tokens',
  'seed',
  'stop',
  'response_format',
  'detail',
  'presence_penalty',
  'frequency_penalty',
] as const satisfies readonly (keyof ModelParameters)[];

/**
 * Resolves a run's nodes. Precedence for model parameters and the connection: `defaults` < the node's own values <
 * stage `settings` < variant `settings` < `connectionOverride`: the flow's author knows better
 * than a global default, and the experiment's stage and variant settings are the knobs a user
 * turns on purpose.
 */
export function resolveRunDefinition(
  experiment: ExperimentConfig,
  run: PlannedRun,
  connectionOverride?: string,
): RunDefinition {
  const stageSettings = run.stage.settings;
  const variantSettings = run.variant?.settings ?? {};
  const settings: StageSettings = stripUndefined({
    ...experiment.defaults,
    ...stageSettings,
    ...variantSettings,
  });

  const chosen: Record<string, string> = {};
  for (const [node, variants] of Object.entries(run.flow.nodeVariants)) {
    chosen[node] = run.variant?.nodeVariants[node] ?? variants.defaultVariant;
  }

  const nodes = run.flow.nodes.map((node): ResolvedNode => {
    const variantId = chosen[node.name];
    const definition =
      variantId === undefined
        ? node
        : (run.flow.nodeVariants[node.name]?.variants[variantId] ?? node);
    if (definition.type !== 'llm') return definition;

    const parameters: Record<string, unknown> = {};
    for (const key of MODEL_PARAMETER_KEYS) {
      const value =
        variantSettings[key] ??
        stageSettings[key] ??
        definition.parameters[key] ??
        experiment.defaults[key];
      if (value !== undefined) parameters[key] = value;
    }
    const connection =
      connectionOverride ??
      variantSettings.connection ??
      stageSettings.connection ??
      definition.connection ??
      experiment.defaults.connection ??
      '';
    return { ...definition, parameters: parameters as ModelParameters, connection };
  });

  const usedTemplates = new Set(
    nodes.flatMap((node) => ('template' in node ? [node.template] : [])),
  );
  const unusedTemplates = new Set<string>();
  for (const variants of Object.values(run.flow.nodeVariants)) {
    for (const definition of Object.values(variants.variants)) {
      if ('template' in definition && !usedTemplates.has(definition.template)) {
        unusedTemplates.add(definition.template);
      }
    }
  }

  return { nodeVariants: chosen, nodes, settings, unusedTemplates: [...unusedTemplates].sort() };
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as T;
}
