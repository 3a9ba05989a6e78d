/**
 * The validated, resolved shape of an experiment and its flows: what the loaders in this folder
 * produce and what planning, fingerprinting and execution consume. Everything here is plain data
 * (JSON-serialisable) so it can be fingerprinted as canonical JSON.
 */

/** A position in a source file, 1-based, as shown to the user (`file:line:col`). */
export interface SourcePosition {
  /** Path relative to the project root. */
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/** A JSON value as it appears in config, data rows and node outputs. */
export type JsonValue =
  string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

export type JsonObject = { readonly [key: string]: JsonValue };

/** A dataset: rows read from a JSONL or CSV file. */
export interface DatasetConfig {
  readonly name: string;
  /** Relative to the project root. */
  readonly path: string;
  readonly format: 'jsonl' | 'csv';
  /** Column whose value identifies a row across edits; rows are numbered by position if absent. */
  readonly key?: string;
  readonly position: SourcePosition;
}

/** Model parameters that can be set on an llm node, a stage or a variant. */
export interface ModelParameters {
  readonly model?: string;
  readonly temperature?: number;
  readonly top_p?: number;
  readonly max_tokens?: number;
  readonly seed?: number;
  readonly stop?: readonly string[];
  readonly response_format?: 'text' | 'json_object';
  /** Image detail for image parts: low | high | auto. */
  readonly detail?: 'low' | 'high' | 'auto';
}

/** A named model endpoint. */
export type ConnectionConfig =
  | {
      readonly kind: 'module';
      readonly name: string;
      /** A .ts/.js file (relative to the project root) exporting a chat-completion function. */
      readonly module: string;
      /** Model name reported to the module when a node names none. */
      readonly model?: string;
      readonly position: SourcePosition;
    }
  | {
      readonly kind: 'openai';
      readonly name: string;
      readonly base_url?: string;
      /** Name of the environment variable that holds the API key (never the key itself). */
      readonly api_key_env: string;
      readonly model?: string;
      readonly position: SourcePosition;
    };

/** One variant of a stage: which flow node variant to use and which settings to override. */
export interface VariantConfig {
  /** Appears in run ids: `validate@top5`. */
  readonly id: string;
  /** The flow node whose variant is chosen, and that variant's id. */
  readonly nodeVariants: { readonly [node: string]: string };
  /** Overrides applied on top of the stage settings. */
  readonly settings: StageSettings;
  readonly position: SourcePosition;
}

export interface StageSettings extends ModelParameters {
  readonly connection?: string;
  /** Rows of one run executed at once. */
  readonly concurrency?: number;
}

/** Where a stage's rows come from. */
export type StageSource =
  | { readonly kind: 'dataset'; readonly dataset: string }
  | { readonly kind: 'stages'; readonly stages: readonly string[] };

export interface StageConfig {
  readonly name: string;
  /** Flow folder, relative to the project root. */
  readonly flow: string;
  readonly source: StageSource;
  /**
   * Flow input name → expression. Expressions are strings that may contain references:
   * `${data.col}`, `${data.col.0}`, `${<stage>.outputs.field}`; a string that is exactly one
   * reference yields the referenced value unchanged (any JSON type).
   */
  readonly inputs: { readonly [input: string]: JsonValue };
  /** Empty when the stage runs the flow's defaults once. */
  readonly variants: readonly VariantConfig[];
  readonly settings: StageSettings;
  /** Samples per run (`repeat: N`); absent for one. */
  readonly repeat?: number;
  /** Whether aggregation runs over the rows that succeeded (`skip`, the default) or not at all. */
  readonly onFailedRows?: 'skip' | 'fail';
  readonly position: SourcePosition;
  /** Position of each input mapping entry, for errors found after loading. */
  readonly inputPositions: { readonly [input: string]: SourcePosition };
}

export interface ExperimentConfig {
  readonly name: string;
  /** Absolute path of the project root (the folder holding experiment.yaml). */
  readonly root: string;
  /** Path of the experiment file relative to the root. */
  readonly file: string;
  readonly datasets: { readonly [name: string]: DatasetConfig };
  readonly connections: { readonly [name: string]: ConnectionConfig };
  /** Defaults for every stage. */
  readonly defaults: StageSettings;
  /** Cache store URL; default `sqlite://cache/kwgraph.sqlite`. */
  readonly cache?: string;
  /** In file order. */
  readonly stages: readonly StageConfig[];
  /** The metric `compare` ranks by, e.g. `recall_incorrect`. */
  readonly primaryMetric?: string;
}

/** A flow input declaration. */
export interface FlowInput {
  readonly name: string;
  readonly type: 'string' | 'number' | 'boolean' | 'object' | 'list' | 'image' | 'any';
  readonly default?: JsonValue;
  readonly position: SourcePosition;
}

export interface FlowOutput {
  readonly name: string;
  /** A reference such as `${node.output}` or `${node.output.field}`. */
  readonly reference: string;
  readonly position: SourcePosition;
}

interface NodeBase {
  readonly name: string;
  /** Node input name → expression (`${inputs.x}`, `${other.output.field}` or a literal). */
  readonly inputs: { readonly [input: string]: JsonValue };
  /** Runs once over all rows of a run (metrics); its inputs become lists over rows. */
  readonly aggregation: boolean;
  readonly position: SourcePosition;
}

export type FlowNode =
  | (NodeBase & {
      readonly type: 'llm';
      /** Template file relative to the flow folder. */
      readonly template: string;
      /** Connection name; the stage's connection when absent. */
      readonly connection?: string;
      readonly parameters: ModelParameters;
    })
  | (NodeBase & {
      readonly type: 'prompt';
      readonly template: string;
    })
  | (NodeBase & {
      readonly type: 'code';
      /** Module relative to the flow folder. */
      readonly module: string;
      /** Exported function name; `default` when absent. */
      readonly function: string;
    });

export interface NodeVariants {
  readonly node: string;
  readonly defaultVariant: string;
  /** Variant id → the node definition used when that variant is chosen. */
  readonly variants: { readonly [id: string]: FlowNode };
}

export interface FlowConfig {
  /** Flow folder relative to the project root. */
  readonly dir: string;
  /** Flow file relative to the project root (`flows/x/flow.yaml`). */
  readonly file: string;
  readonly inputs: { readonly [name: string]: FlowInput };
  readonly outputs: { readonly [name: string]: FlowOutput };
  /**
   * Nodes in file order. A node that uses variants appears here with its default variant's
   * definition; `nodeVariants` holds the alternatives.
   */
  readonly nodes: readonly FlowNode[];
  readonly nodeVariants: { readonly [node: string]: NodeVariants };
}

/** An experiment with every flow its stages use, keyed by flow folder. */
export interface LoadedProject {
  readonly experiment: ExperimentConfig;
  readonly flows: { readonly [dir: string]: FlowConfig };
}
