import type { FlowNode } from '../config/types.js';
import { referencesIn } from './references.js';

/**
 * Nodes in an order where every node comes after the nodes its inputs reference; ties keep
 * file order. The loader has already rejected cycles, so a stall here is a bug.
 */
export function nodesInDependencyOrder<T extends FlowNode>(nodes: readonly T[]): T[] {
  const names = new Set(nodes.map((node) => node.name));
  const needs = new Map(
    nodes.map((node) => [
      node.name,
      new Set(
        [...referencesIn(node.inputs), ...referencesIn(node.activate?.when ?? '')]
          .map((reference) => reference.scope)
          .filter((scope) => names.has(scope) && scope !== node.name),
      ),
    ]),
  );

  const ordered: T[] = [];
  const done = new Set<string>();
  while (ordered.length < nodes.length) {
    const next = nodes.find(
      (node) => !done.has(node.name) && [...(needs.get(node.name) ?? [])].every((n) => done.has(n)),
    );
    if (next === undefined) throw new Error('internal error: flow nodes form a cycle');
    ordered.push(next);
    done.add(next.name);
  }
  return ordered;
}
