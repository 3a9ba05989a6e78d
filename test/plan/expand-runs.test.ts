import { describe, expect, it } from 'vitest';

import type {
  FlowConfig,
  LoadedProject,
  StageConfig,
  VariantConfig,
} from '../../src/config/types.js';
import { expandRuns } from '../../src/plan/expand-runs.js';

const position = { file: 'experiment.yaml', line: 1, column: 1 };

function flow(dir: string): FlowConfig {
  return { dir, file: `${dir}/flow.yaml`, inputs: {}, outputs: {}, nodes: [], nodeVariants: {} };
}

function variant(id: string): VariantConfig {
  return { id, nodeVariants: {}, settings: {}, position };
}

function stage(name: string, rows: string | string[], variants: string[] = []): StageConfig {
  return {
    name,
    flow: `flows/${name}`,
    source: Array.isArray(rows)
      ? { kind: 'stages', stages: rows }
      : rows === 'products'
        ? { kind: 'dataset', dataset: rows }
        : { kind: 'stages', stages: [rows] },
    inputs: {},
    inputPositions: {},
    variants: variants.map(variant),
    settings: {},
    position,
  };
}

function project(stages: StageConfig[]): LoadedProject {
  return {
    experiment: {
      name: 'test',
      root: '/tmp/none',
      file: 'experiment.yaml',
      datasets: { products: { name: 'products', path: 'data.jsonl', format: 'jsonl', position } },
      connections: {},
      defaults: {},
      stages,
    },
    flows: Object.fromEntries(stages.map((s) => [s.flow, flow(s.flow)])),
  };
}

describe('expanding stages into runs', () => {
  it('makes variants × upstream runs, with ids that read as the lineage', () => {
    const runs = expandRuns(
      project([
        stage('describe', 'products', ['concise', 'detailed']),
        stage('validate', 'describe', ['a', 'b', 'c']),
        stage('evaluate', 'validate'),
      ]),
    );
    expect(runs.ok).toBe(true);
    if (!runs.ok) return;
    const ids = runs.value.map((run) => run.id);
    expect(ids).toHaveLength(14);
    expect(ids).toContain('describe@concise');
    expect(ids).toContain('validate@b~describe@detailed');
    expect(ids).toContain('evaluate~validate@c~describe@concise');
    const evaluate = runs.value.find((run) => run.id === 'evaluate~validate@c~describe@concise');
    expect(evaluate?.lineage).toEqual({
      describe: 'describe@concise',
      validate: 'validate@c~describe@concise',
    });
    expect(evaluate?.upstream).toEqual(['validate@c~describe@concise']);
  });

  it('pairs two upstream stages only when they share the same ancestor run', () => {
    const runs = expandRuns(
      project([
        stage('describe', 'products', ['a', 'b']),
        stage('validate', 'describe', ['x', 'y']),
        stage('summarise', 'describe', ['s']),
        stage('join', ['validate', 'summarise']),
      ]),
    );
    expect(runs.ok).toBe(true);
    if (!runs.ok) return;
    const joins = runs.value.filter((run) => run.stage.name === 'join');
    // 2 describe runs × 2 validate variants × 1 summarise variant, never crossing describe runs.
    expect(joins).toHaveLength(4);
    for (const join of joins) {
      const [validate, summarise] = join.upstream;
      expect(validate?.endsWith(join.lineage['describe'] ?? '?')).toBe(true);
      expect(summarise?.endsWith(join.lineage['describe'] ?? '?')).toBe(true);
    }
    expect(joins.map((run) => run.id)).toContain('join~summarise@s~validate@x~describe@b');
    expect(new Set(joins.map((run) => run.id)).size).toBe(4);
  });

  it('reports a cycle between stages with every hop', () => {
    const runs = expandRuns(
      project([stage('a', 'c'), stage('b', 'a'), stage('c', 'b'), stage('d', 'products')]),
    );
    expect(runs.ok).toBe(false);
    if (runs.ok) return;
    expect(runs.error[0]?.message).toMatch(/cycle: (a → b → c → a|b → c → a → b|c → a → b → c)/);
  });
});
