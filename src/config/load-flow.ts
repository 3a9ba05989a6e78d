import { readFile } from 'node:fs/promises';
import path from 'node:path';

import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { applyIncludes, resolveIncludes } from './additional-includes.js';
import { checkFlow } from './check-flow.js';
import { isPromptyFile } from '../templates/prompty-sections.js';
import { flowSchema, type RawFlow } from './flow-schema.js';
import { normalizeFlow, type LoadedFlow } from './normalize-flow.js';
import { fileKind, resolveProjectPath, suggestSibling } from './project-paths.js';
import { readPromptyFile, type PromptyDefinition } from './prompty-file.js';
import { validateSource } from './schema-diagnostics.js';
import { YamlSource } from './yaml-source.js';

/** `flow.yaml` first; promptflow's `flow.dag.yaml` when a folder has only that. */
export const FLOW_FILE_NAMES = ['flow.yaml', 'flow.dag.yaml'] as const;

export type FlowLoad =
  /** No flow file could be found; reported at each stage that names the folder. */
  | { readonly kind: 'not-found'; readonly message: string; readonly hint: string }
  /** The file was read; `flow` is absent when it could not be made sense of. */
  | {
      readonly kind: 'read';
      readonly flow: LoadedFlow | undefined;
      readonly diagnostics: readonly Diagnostic[];
    };

/**
 * Loads the flow in folder `dir` (POSIX, relative to the project root): finds its file, parses
 * and validates it, resolves it, and runs every check that needs only the flow itself.
 */
export async function loadFlow(
  root: string,
  dir: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<FlowLoad> {
  const folderKind = await fileKind(root, dir);
  if (folderKind !== 'directory') {
    return {
      kind: 'not-found',
      message:
        folderKind === 'missing'
          ? `flow folder \`${dir}\` does not exist${await suggestSibling(root, dir)}`
          : `\`${dir}\` is a file; \`flow\` names the flow's folder`,
      hint:
        folderKind === 'missing'
          ? 'a flow is a folder holding flow.yaml, relative to the project root'
          : `write \`flow: ${path.posix.dirname(dir)}\``,
    };
  }

  let file: string | undefined;
  for (const name of FLOW_FILE_NAMES) {
    const candidate = path.posix.join(dir, name);
    if ((await fileKind(root, candidate)) === 'file') {
      file = candidate;
      break;
    }
  }
  if (file === undefined) {
    return {
      kind: 'not-found',
      message: `flow folder \`${dir}\` has no flow.yaml (or flow.dag.yaml)`,
      hint: "add a flow.yaml with the flow's inputs, outputs and nodes",
    };
  }

  const parsed = YamlSource.parse(file, await readFile(path.join(root, file), 'utf8'));
  if (!parsed.ok) return { kind: 'read', flow: undefined, diagnostics: parsed.error };
  const source = parsed.value;

  const validated = validateSource(source, flowSchema, source.toData());
  if (validated.value === undefined) {
    return { kind: 'read', flow: undefined, diagnostics: validated.diagnostics };
  }

  const includes = await resolveIncludes(root, dir, validated.value, source);
  const raw = applyIncludes(validated.value, dir, includes);
  const prompties = await readPrompties(root, dir, raw, env);
  const normalized = normalizeFlow(raw, source, dir, prompties.definitions, [
    ...includes.byName.values(),
  ]);
  const checked = await checkFlow(root, normalized.flow);
  // A flow whose structure is broken (a node without its definition, variants without an
  // entry) would make the experiment's checks against it report follow-on errors; it is not
  // handed on. Problems with references and files leave the structure usable.
  return {
    kind: 'read',
    flow: normalized.diagnostics.length === 0 ? normalized.flow : undefined,
    diagnostics: [
      ...validated.diagnostics,
      ...includes.diagnostics,
      ...prompties.diagnostics,
      ...normalized.diagnostics,
      ...checked,
    ],
  };
}

/**
 * The front matter of every .prompty file an llm node names, by path relative to the flow
 * folder. A file that cannot be read is left out: checkFlow reports missing files.
 */
async function readPrompties(
  root: string,
  dir: string,
  raw: RawFlow,
  env: Readonly<Record<string, string | undefined>>,
): Promise<{ definitions: Map<string, PromptyDefinition>; diagnostics: Diagnostic[] }> {
  const definitions = new Map<string, PromptyDefinition>();
  const diagnostics: Diagnostic[] = [];
  const written = [
    ...raw.nodes,
    ...Object.values(raw.node_variants ?? {}).flatMap((entry) =>
      Object.values(entry.variants).map((variant) => variant.node),
    ),
  ].flatMap((node) =>
    (node.type === 'llm' || node.type === 'custom_llm') &&
    node.source?.path !== undefined &&
    isPromptyFile(node.source.path)
      ? [path.posix.normalize(node.source.path)]
      : [],
  );

  for (const file of new Set(written)) {
    const resolved = resolveProjectPath(file, dir);
    if (!resolved.ok || (await fileKind(root, resolved.path)) !== 'file') continue;
    const text = await readFile(path.join(root, resolved.path), 'utf8');
    const read = readPromptyFile(resolved.path, text, env);
    diagnostics.push(...read.diagnostics);
    if (read.definition !== undefined) definitions.set(file, read.definition);
  }
  return { definitions, diagnostics };
}
