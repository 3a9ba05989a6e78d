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
  readonly presence_penalty?: number;
  readonly frequency_penalty?: number;
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
  | RemoteConnectionConfig;

/** An `openai` or `azure_openai` connection: one or more endpoints of one service. */
export type RemoteConnectionConfig =
  | (RemoteConnectionOptions & {
      readonly kind: 'openai';
      readonly endpoints: readonly OpenAiEndpointConfig[];
    })
  | (RemoteConnectionOptions & {
      readonly kind: 'azure_openai';
      readonly endpoints: readonly AzureEndpointConfig[];
    });

export interface RemoteConnectionOptions {
  readonly name: string;
  readonly model?: string;
  /** Model a node names → model sent to this connection. */
  readonly modelAliases?: Readonly<Record<string, string>>;
  readonly balance: 'least_busy' | 'round_robin';
  /** Per request. */
  readonly timeoutMs: number;
  /** Retries of one call after a 429, a 5xx, a timeout or a dropped connection. */
  readonly maxRetries: number;
  /** The first wait before a retry; doubled each time, with jitter. */
  readonly backoffMs: number;
  readonly pricing?: Pricing;
  readonly position: SourcePosition;
}

/** Limits of one endpoint; absent ones do not apply. */
export interface EndpointLimits {
  readonly concurrency?: number;
  readonly requests_per_minute?: number;
  readonly tokens_per_minute?: number;
}

interface EndpointBase {
  /** Shown in accounting and errors: the `name` written, else the host. */
  readonly name: string;
  /** Environment variable holding the key; null for a server that takes none. */
  readonly api_key_env: string | null;
  readonly limits: EndpointLimits;
  readonly position: SourcePosition;
}

export interface OpenAiEndpointConfig extends EndpointBase {
  /** The OpenAI API (https://api.openai.com/v1) when absent. */
  readonly base_url?: string;
}

export interface AzureEndpointConfig extends EndpointBase {
  readonly endpoint: string;
  /** Absent: the request's model names the deployment. */
  readonly deployment?: string;
  readonly api_version: string;
}

/** USD per 1M tokens. */
export interface TokenPrice {
  readonly input: number;
  readonly output: number;
}

/** Prices of a connection: one for every model, and/or one per model name (which wins). */
export interface Pricing {
  readonly all?: TokenPrice;
  readonly models: Readonly<Record<string, TokenPrice>>;
}

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
  /** Cache store URL (sqlite://, redis://, postgres://); default `sqlite://cache/kwgraph.sqlite`. */
  readonly cache?: string;
  /** In file order. */
  readonly stages: readonly StageConfig[];
  /** False when a lower primary metric is better (a cost, an error rate); default true. */
  readonly higherIsBetter?: boolean;
  /** The metric `compare` ranks by, e.g. `recall_incorrect`. */
  readonly primaryMetric?: string;
  /** The Python interpreter for python nodes, as written (`KWGRAPH_PYTHON` overrides it). */
  readonly python?: string;
}

/**
 * A flow input declaration. `int`, `double` and `bool` are promptflow's names: values of those
 * inputs are converted from text (a CSV column, `"3"`) as promptflow converts them.
 */
export interface FlowInput {
  readonly name: string;
  readonly type:
    | 'string'
    | 'number'
    | 'boolean'
    | 'object'
    | 'list'
    | 'image'
    | 'any'
    | 'int'
    | 'double'
    | 'bool';
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
  /** When set, the node runs only if `when` resolves to `is`; otherwise it is bypassed. */
  readonly activate?: NodeActivation;
  readonly position: SourcePosition;
}

/**
 * promptflow's `activate`. A bypassed node has no output: a node that reads only bypassed
 * nodes is bypassed too, one that also reads live nodes gets null for the bypassed ones, and a
 * flow output that reads a bypassed node is null.
 */
export interface NodeActivation {
  /** One reference: `${inputs.x}` or `${node.output...}`. */
  readonly when: string;
  readonly is: JsonValue;
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
    })
  | (NodeBase & {
      readonly type: 'python';
      /** A .py file relative to the flow folder, run in a Python worker process. */
      readonly module: string;
      /** The tool function; the file's one `@tool` function when absent. */
      readonly function?: string;
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
  /**
   * Files and folders outside the flow folder that belong to the flow (promptflow's
   * `additional_includes`), relative to the project root: part of its fingerprint.
   */
  readonly includes?: readonly string[];
  /**
   * promptflow's `environment_variables`: set for the flow's Python tools. A value may read a
   * connection (`${openai.api_key}`), resolved only when the worker starts.
   */
  readonly environmentVariables?: { readonly [name: string]: string };
}

/** An experiment with every flow its stages use, keyed by flow folder. */
export interface LoadedProject {
  readonly experiment: ExperimentConfig;
  readonly flows: { readonly [dir: string]: FlowConfig };
}
