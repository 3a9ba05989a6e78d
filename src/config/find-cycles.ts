import { alg, Graph } from '@dagrejs/graphlib';

/**
 * Every cycle of a dependency graph, each as the hops a user can follow to break it, closed on
 * itself: `['describe', 'validate', 'describe']`. `nodes` is in file order; each cycle starts
 * at its earliest node so the message is stable and reads from the top of the file.
 *
 * graphlib finds the strongly connected components; within each, a shortest path back to the
 * start is one concrete cycle (a component may hold several; fixing one is the useful step).
 */
export function findCycles(
  nodes: readonly string[],
  edges: readonly (readonly [from: string, to: string])[],
): string[][] {
  const graph = new Graph();
  for (const node of nodes) graph.setNode(node);
  for (const [from, to] of edges) graph.setEdge(from, to);

  const order = new Map(nodes.map((node, index) => [node, index]));
  const rank = (node: string): number => order.get(node) ?? Infinity;

  return alg
    .findCycles(graph)
    .map((component) => {
      const start = [...component].sort((a, b) => rank(a) - rank(b))[0] ?? '';
      return shortestCycle(graph, start, new Set(component));
    })
    .sort((a, b) => rank(a[0] ?? '') - rank(b[0] ?? ''));
}

function shortestCycle(graph: Graph, start: string, within: ReadonlySet<string>): string[] {
  const previous = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i += 1) {
    const node = queue[i] ?? start;
    for (const next of graph.successors(node) ?? []) {
      if (next === start) return [...pathTo(previous, node), start];
      if (!within.has(next) || previous.has(next)) continue;
      previous.set(next, node);
      queue.push(next);
    }
  }
  return [start, start];
}

function pathTo(previous: ReadonlyMap<string, string>, node: string): string[] {
  const path = [node];
  for (let at = previous.get(node); at !== undefined; at = previous.get(at)) path.unshift(at);
  return path;
}
