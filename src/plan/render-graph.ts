import type { PlannedRun } from './planned-run.js';
import type { RunGraph } from './run-graph.js';
import { runLabel } from './run-id.js';

export type GraphFormat = 'tree' | 'dot' | 'mermaid' | 'json';
export const GRAPH_FORMATS: readonly GraphFormat[] = ['tree', 'dot', 'mermaid', 'json'];

/** The run graph as text in one of the supported formats. */
export function renderGraph(graph: RunGraph, format: GraphFormat): string {
  switch (format) {
    case 'tree':
      return renderTree(graph);
    case 'dot':
      return renderDot(graph);
    case 'mermaid':
      return renderMermaid(graph);
    case 'json':
      return `${JSON.stringify(graphJson(graph), null, 2)}\n`;
  }
}

/** Roots first; each run under the runs it reads. A run with two sources appears under each. */
function renderTree(graph: RunGraph): string {
  const lines: string[] = [];
  const visit = (run: PlannedRun, prefix: string, last: boolean, depth: number): void => {
    const branch = depth === 0 ? '' : last ? '└── ' : '├── ';
    lines.push(`${prefix}${branch}${run.id}`);
    const children = graph.downstreamOf(run.id);
    const childPrefix = depth === 0 ? '' : `${prefix}${last ? '    ' : '│   '}`;
    children.forEach((child, index) =>
      visit(child, childPrefix, index === children.length - 1, depth + 1),
    );
  };
  for (const run of graph.runs.filter((candidate) => candidate.upstream.length === 0)) {
    visit(run, '', true, 0);
  }
  return `${lines.join('\n')}\n`;
}

function renderDot(graph: RunGraph): string {
  const quote = (text: string) => JSON.stringify(text);
  const lines = ['digraph kwgraph {', '  rankdir=LR;', '  node [shape=box, fontname="Helvetica"];'];
  const stages = [...new Set(graph.runs.map((run) => run.stage.name))];
  for (const stage of stages) {
    lines.push(`  subgraph ${quote(`cluster_${stage}`)} {`, `    label=${quote(stage)};`);
    for (const run of graph.runs.filter((candidate) => candidate.stage.name === stage)) {
      lines.push(
        `    ${quote(run.id)} [label=${quote(runLabel(stage, run.variant?.id, run.sample))}];`,
      );
    }
    lines.push('  }');
  }
  for (const run of graph.runs) {
    for (const upstream of run.upstream) lines.push(`  ${quote(upstream)} -> ${quote(run.id)};`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

function renderMermaid(graph: RunGraph): string {
  const ids = new Map(graph.runs.map((run, index) => [run.id, `r${index}`]));
  const lines = ['flowchart LR'];
  for (const run of graph.runs) {
    const label = runLabel(run.stage.name, run.variant?.id, run.sample);
    // The full id only where it says more than the label (runs that read other runs).
    const detail = run.id === label ? '' : `<br/><small>${run.id}</small>`;
    lines.push(`  ${ids.get(run.id)}["${label}${detail}"]`);
  }
  for (const run of graph.runs) {
    for (const upstream of run.upstream)
      lines.push(`  ${ids.get(upstream)} --> ${ids.get(run.id)}`);
  }
  return `${lines.join('\n')}\n`;
}

export function graphJson(graph: RunGraph) {
  return {
    runs: graph.runs.map((run) => ({
      id: run.id,
      stage: run.stage.name,
      variant: run.variant?.id ?? null,
      ...(run.sample !== undefined ? { sample: run.sample } : {}),
      flow: run.flow.dir,
      upstream: run.upstream,
      lineage: run.lineage,
    })),
    edges: graph.runs.flatMap((run) => run.upstream.map((from) => ({ from, to: run.id }))),
  };
}
