import { readFile } from 'node:fs/promises';
import path from 'node:path';

import type { CallCache, CallOutcome } from '../cache/call-cache.js';
import type { ResolvedNode } from '../plan/run-definition.js';
import type { ConnectionConfig } from '../config/types.js';
import type { ChatRequest, ImageRef } from '../models/chat.js';
import type { ChatModel } from '../models/chat-model.js';
import { encodeImage } from '../models/encode-image.js';
import { withImageRefs } from '../models/image-values.js';
import type { PythonWorkers } from '../python/python-workers.js';
import { imagesIn, renderChatTemplate, renderPromptTemplate } from '../templates/chat-template.js';
import { templateSource } from '../templates/prompty-sections.js';
import { exportedFunction, importUserModule } from '../util/import-module.js';
import { assertNever } from '../util/result.js';
import { executePythonNode } from './execute-python-node.js';
import { NodeError } from './node-error.js';

/** What nodes need from the build around them. */
export interface NodeRuntime {
  readonly root: string;
  /** The flow folder, relative to the root. */
  readonly flowDir: string;
  readonly models: ReadonlyMap<string, ChatModel>;
  readonly calls: CallCache;
  /** Longest side of a local image sent to a model. */
  readonly imageMaxSide: number;
  /** The build's Python workers; python nodes fail without them. */
  readonly python?: PythonWorkers;
  /** Python workers the flow may use at once: the run's row concurrency. */
  readonly pythonConcurrency?: number;
  /** The experiment's connections, for Python tools that take one as an input. */
  readonly connections?: Readonly<Record<string, ConnectionConfig>>;
}

/** What one execution of a node reports besides its output. */
export interface NodeCallOptions {
  /** Inputs that read a bypassed node (a Python tool leaves out those with a default). */
  readonly bypassedInputs?: readonly string[];
  /** Metrics a Python tool logged with `log_metric`. */
  readonly onMetrics?: (metrics: Readonly<Record<string, number | null>>) => void;
  /** What a Python tool printed. */
  readonly onPrint?: (text: string) => void;
}

export { NodeError };

/** Runs one node on resolved inputs and returns its output; LLM calls are reported to `onCall`. */
export async function executeNode(
  node: ResolvedNode,
  inputs: Record<string, unknown>,
  runtime: NodeRuntime,
  onCall: (call: CallOutcome) => void,
  options: NodeCallOptions = {},
): Promise<unknown> {
  switch (node.type) {
    case 'code':
      return executeCodeNode(node, inputs, runtime);
    case 'python':
      return executePythonNode(node, inputs, runtime, options);
    case 'prompt': {
      const file = path.posix.join(runtime.flowDir, node.template);
      const variables = withImageRefs(inputs) as Record<string, unknown>;
      const rendered = renderPromptTemplate(
        await readTemplate(runtime.root, file),
        file,
        variables,
      );
      if (!rendered.ok) throw new NodeError(templateMessage(rendered.error));
      return rendered.value;
    }
    case 'llm':
      return executeLlmNode(node, inputs, runtime, onCall);
    default:
      return assertNever(node, 'node');
  }
}

async function executeCodeNode(
  node: Extract<ResolvedNode, { type: 'code' }>,
  inputs: Record<string, unknown>,
  runtime: NodeRuntime,
): Promise<unknown> {
  const file = path.join(runtime.root, runtime.flowDir, node.module);
  const module = await importUserModule(file);
  const fn = exportedFunction(module, node.function);
  if (fn === undefined) {
    throw new NodeError(
      `${path.posix.join(runtime.flowDir, node.module)} has no exported function "${node.function}"`,
    );
  }
  const output = await fn(inputs);
  // Outputs are stored as JSON: a value that does not survive the trip is refused now, not
  // silently changed when it is read back from the cache.
  return output === undefined ? null : JSON.parse(JSON.stringify(output));
}

async function executeLlmNode(
  node: Extract<ResolvedNode, { type: 'llm' }>,
  inputs: Record<string, unknown>,
  runtime: NodeRuntime,
  onCall: (call: CallOutcome) => void,
): Promise<string> {
  const model = runtime.models.get(node.connection);
  if (model === undefined) throw new NodeError(`connection "${node.connection}" is not available`);

  // Images a Python tool returned arrive in promptflow's form; both forms are images here.
  const variables = withImageRefs(inputs) as Record<string, unknown>;
  const encoded: ImageRef[] = [];
  for (const image of imagesIn(variables)) {
    const url = await encodeImage(image, { root: runtime.root, maxSide: runtime.imageMaxSide });
    if (!url.ok) throw new NodeError(url.error);
    encoded.push({ kind: 'image', source: url.value });
  }

  const file = path.posix.join(runtime.flowDir, node.template);
  const messages = renderChatTemplate(await readTemplate(runtime.root, file), file, variables, {
    images: encoded,
    ...(node.parameters.detail ? { detail: node.parameters.detail } : {}),
  });
  if (!messages.ok) throw new NodeError(templateMessage(messages.error));

  const { model: modelName, detail: _detail, response_format, ...parameters } = node.parameters;
  const named = modelName ?? model.defaultModel;
  const chosenModel = named === undefined ? undefined : (model.modelAliases?.[named] ?? named);
  if (chosenModel === undefined) {
    throw new NodeError(
      `no model named for llm node "${node.name}": set model in the node, the stage settings or the connection`,
    );
  }
  const request: ChatRequest = {
    model: chosenModel,
    messages: messages.value,
    ...parameters,
    ...(response_format ? { response_format: { type: response_format } } : {}),
  };

  const outcome = await runtime.calls.call(model, request);
  onCall(outcome);
  return outcome.content;
}

const templates = new Map<string, Promise<string>>();

function readTemplate(root: string, file: string): Promise<string> {
  const absolute = path.join(root, file);
  let source = templates.get(absolute);
  if (source === undefined) {
    // A .prompty file's template is its body; its front matter was read with the flow.
    source = readFile(absolute, 'utf8').then((text) => templateSource(file, text));
    templates.set(absolute, source);
  }
  return source;
}

function templateMessage(error: { file: string; line?: number; column?: number; message: string }) {
  const where =
    error.line === undefined ? error.file : `${error.file}:${error.line}:${error.column ?? 1}`;
  return `${where}: ${error.message}`;
}
