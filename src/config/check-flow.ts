import { readFile } from 'node:fs/promises';
import path from 'node:path';

import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { checkTemplateSyntax } from './check-template.js';
import { didYouMean } from './did-you-mean.js';
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
import { templateSource } from '../templates/prompty-sections.js';
import type { FlowNode } from './types.js';
import type { YamlPath } from './yaml-source.js';

/**
 * Checks within one flow: every reference names a declared input or an existing node, nodes
 * do not read each other in a cycle, per-row nodes do not read aggregation nodes, outputs point
 * at nodes, and the templates and modules the nodes name exist and (templates) compile.
 */
export async function checkFlow(root: string, flow: LoadedFlow): Promise<Diagnostic[]> {
  const definitions = [...flow.nodePaths.entries()];
  return [
    ...checkNodeReferences(flow, definitions),
    ...checkOutputs(flow),
    ...(await checkNodeFiles(root, flow, definitions)),
  ];
}

/** Every definition of each node name: the node itself, or each of its variants. */
function definitionsByName(
  definitions: readonly (readonly [FlowNode, YamlPath])[],
): Map<string, FlowNode[]> {
  const byName = new Map<string, FlowNode[]>();
  for (const [node] of definitions) byName.set(node.name, [...(byName.get(node.name) ?? []), node]);
  return byName;
}

function checkNodeReferences(
  flow: LoadedFlow,
  definitions: readonly (readonly [FlowNode, YamlPath])[],
): Diagnostic[] {
  const { source } = flow;
  const diagnostics: Diagnostic[] = [];
  const byName = definitionsByName(definitions);
  const edges: [string, string][] = [];

  for (const [node, at] of definitions) {
    const read = Object.entries(node.inputs).flatMap(([input, value]) =>
      findReferences(value, [...at, 'inputs', input]),
    );
    if (node.activate !== undefined) {
      const when = findReferences(node.activate.when, [...at, 'activate', 'when']);
      if (when.length !== 1 || node.activate.when.trim() !== when[0]?.text) {
        diagnostics.push(
          source.diagnostic([...at, 'activate', 'when'], '`activate.when` must be one reference', {
            hint: 'write `when: ${node.output}` or `when: ${inputs.name}`',
          }),
        );
      } else {
        read.push(...when);
      }
      if (node.aggregation) {
        diagnostics.push(
          source.diagnostic([...at, 'activate'], 'an aggregation node cannot have `activate`', {
            key: true,
            hint: 'an aggregation node runs once per run; decide inside its code what to compute',
          }),
        );
      }
    }

    for (const reference of read) {
      const report = (message: string, hint?: string) =>
        diagnostics.push(
          source.diagnostic(reference.path, message, { within: reference.text, hint }),
        );
      const target = checkFlowReference(flow, reference, report);
      if (target === undefined) continue;
      if (target === node.name) {
        report(`node \`${node.name}\` reads its own output`, 'a node can only read other nodes');
        continue;
      }
      edges.push([target, node.name]);
      const aggregated = (byName.get(target) ?? []).some((candidate) => candidate.aggregation);
      if (aggregated && !node.aggregation) {
        report(
          `node \`${node.name}\` runs per row, but \`${target}\` is an aggregation node ` +
            'that runs once per run',
          'only aggregation nodes can read the output of an aggregation node',
        );
      }
    }
  }

  for (const cycle of findCycles(flow.nodeNames, edges)) {
    const first = cycle[0] ?? '';
    const index = flow.nodeNames.indexOf(first);
    diagnostics.push(
      source.diagnostic(
        ['nodes', index, 'name'],
        `nodes read each other in a cycle: ${cycle.join(' → ')}`,
        {
          hint: 'a node can only read nodes that do not depend on it',
        },
      ),
    );
  }
  return diagnostics;
}

/**
 * Checks one reference inside flow.yaml and returns the node it reads, if it reads a node.
 * `${inputs.x}` must name a declared input; `${node.output...}` an existing node.
 */
function checkFlowReference(
  flow: LoadedFlow,
  reference: Reference,
  report: (message: string, hint?: string) => void,
): string | undefined {
  const [head = '', second, ...rest] = reference.parts;
  const inputs = Object.keys(flow.config.inputs);

  if (head === 'inputs') {
    if (second === undefined || rest.length > 0) {
      report(`\`${reference.text}\` must name one flow input: \`\${inputs.name}\``);
    } else if (!inputs.includes(second)) {
      report(
        `unknown flow input \`${second}\` in \`${reference.text}\`${didYouMean(second, inputs)}`,
        inputs.length > 0
          ? `declared inputs: ${inputs.join(', ')}`
          : 'declare it under `inputs:` at the top of the flow file',
      );
    }
    return undefined;
  }
  if (head === 'data') {
    report(
      `a flow cannot read \`${reference.text}\` directly`,
      'declare a flow input, map the column to it in experiment.yaml, and read `${inputs.name}`',
    );
    return undefined;
  }
  if (!flow.nodeNames.includes(head)) {
    const candidates = [...flow.nodeNames, 'inputs'];
    report(
      `unknown node \`${head}\` in \`${reference.text}\`${didYouMean(head, candidates)}`,
      'a reference reads `${inputs.name}` or `${node.output}`; ' +
        `nodes: ${flow.nodeNames.join(', ')}`,
    );
    return undefined;
  }
  if (second !== 'output') {
    report(
      `\`${reference.text}\` must read the node's output: \`\${${head}.output}\``,
      `write \`\${${head}.output}\` or \`\${${head}.output.field}\``,
    );
    return undefined;
  }
  return head;
}

function checkOutputs(flow: LoadedFlow): Diagnostic[] {
  const { source, config } = flow;
  const diagnostics: Diagnostic[] = [];
  const aggregationNodes = new Set(
    [...flow.nodePaths.keys()].filter((node) => node.aggregation).map((node) => node.name),
  );

  for (const output of Object.values(config.outputs)) {
    const at = ['outputs', output.name, 'reference'];
    const references = findReferences(output.reference, at);
    if (references.length === 0) {
      diagnostics.push(
        source.diagnostic(at, `output \`${output.name}\` does not reference anything`, {
          hint: 'write `reference: ${node.output}`',
        }),
      );
    }
    for (const reference of references) {
      const report = (message: string, hint?: string) =>
        diagnostics.push(source.diagnostic(at, message, { within: reference.text, hint }));
      const target = checkFlowReference(flow, reference, report);
      if (target !== undefined && aggregationNodes.has(target)) {
        report(
          `output \`${output.name}\` reads aggregation node \`${target}\`, ` +
            'which has no per-row output',
          "an aggregation node's output is the run's metrics, stored in metrics.json",
        );
      }
    }
  }
  return diagnostics;
}

/**
 * Templates and modules named by node sources: inside the project, present, and (templates)
 * free of syntax errors. A file shared by several variants is read and compiled once.
 *
 * NOTE: a code module (or Python file) is not imported here, so a missing function is found
 * only when a run executes the node (importing would run user code just to load the config).
 */
async function checkNodeFiles(
  root: string,
  flow: LoadedFlow,
  definitions: readonly (readonly [FlowNode, YamlPath])[],
): Promise<Diagnostic[]> {
  const { source, config } = flow;
  const diagnostics: Diagnostic[] = [];
  const compiled = new Set<string>();

  for (const [node, at] of definitions) {
    const sourcePath = [...at, 'source', 'path'];
    const written = node.type === 'code' || node.type === 'python' ? node.module : node.template;
    const resolved = resolveProjectPath(written, config.dir);
    if (!resolved.ok) {
      diagnostics.push(source.diagnostic(sourcePath, resolved.message, { hint: resolved.hint }));
      continue;
    }

    if (node.type === 'code' && !isModulePath(written)) {
      const python = written.endsWith('.py');
      diagnostics.push(
        source.diagnostic(
          sourcePath,
          `code node \`${node.name}\` names \`${written}\`, which is not a module kwgraph can run`,
          {
            hint: python
              ? 'Python tools run in python nodes: write `type: python`'
              : `code nodes run TypeScript or JavaScript: ${MODULE_EXTENSIONS.join(', ')}`,
          },
        ),
      );
      continue;
    }
    if (node.type === 'python' && !written.endsWith('.py')) {
      diagnostics.push(
        source.diagnostic(
          sourcePath,
          `python node \`${node.name}\` names \`${written}\`, which is not a .py file`,
          {
            hint: isModulePath(written)
              ? 'TypeScript and JavaScript run in code nodes: write `type: code`'
              : 'a python node runs a @tool function from a .py file in the flow folder',
          },
        ),
      );
      continue;
    }

    const kind = await fileKind(root, resolved.path);
    if (kind !== 'file') {
      const what = node.type === 'code' || node.type === 'python' ? 'module' : 'template';
      diagnostics.push(
        source.diagnostic(
          sourcePath,
          `${what} \`${resolved.path}\` ${kind === 'missing' ? 'does not exist' : 'is a folder'}` +
            (await suggestSibling(root, resolved.path)),
          { hint: `paths in ${path.posix.basename(config.file)} are relative to the flow folder` },
        ),
      );
      continue;
    }

    if ((node.type === 'llm' || node.type === 'prompt') && !compiled.has(resolved.path)) {
      compiled.add(resolved.path);
      const text = await readFile(path.join(root, resolved.path), 'utf8');
      const syntaxError = checkTemplateSyntax(resolved.path, templateSource(resolved.path, text));
      if (syntaxError !== undefined) diagnostics.push(syntaxError);
    }
  }
  return diagnostics;
}
