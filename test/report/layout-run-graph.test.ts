import { describe, expect, it } from 'vitest';

import type { RunId } from '../../src/plan/run-id.js';
import { layoutRunGraph } from '../../src/report/layout-run-graph.js';

const id = (text: string) => text as RunId;
const SIZES = { nodeWidth: 100, nodeHeight: 20, columnGap: 50, rowGap: 10, top: 0 };

describe('the run graph layout', () => {
  it('puts each stage in a column and each run level with the runs it reads', () => {
    const runs = [
      { id: id('d@a'), stage: 'describe', upstream: [] },
      { id: id('d@b'), stage: 'describe', upstream: [] },
      // Planned interleaved: the layout groups them under their sources.
      { id: id('v@x~d@b'), stage: 'validate', upstream: [id('d@b')] },
      { id: id('v@x~d@a'), stage: 'validate', upstream: [id('d@a')] },
      { id: id('v@y~d@b'), stage: 'validate', upstream: [id('d@b')] },
      { id: id('v@y~d@a'), stage: 'validate', upstream: [id('d@a')] },
    ];
    const layout = layoutRunGraph(runs, ['describe', 'validate'], SIZES);
    expect(layout.columns).toEqual([
      { stage: 'describe', x: 0 },
      { stage: 'validate', x: 150 },
    ]);
    const y = (run: string) => layout.nodes.get(id(run))?.y ?? NaN;
    const order = ['v@x~d@b', 'v@x~d@a', 'v@y~d@b', 'v@y~d@a'].sort((a, b) => y(a) - y(b));
    expect(order).toEqual(['v@x~d@a', 'v@y~d@a', 'v@x~d@b', 'v@y~d@b']);
    // The shorter column is centred on the taller one.
    expect((y('d@a') + y('d@b')) / 2).toBeCloseTo((y(order[0] ?? '') + y(order[3] ?? '')) / 2);
    expect(layout.width).toBe(250);
    expect(layout.height).toBe(4 * 30);
  });
});
