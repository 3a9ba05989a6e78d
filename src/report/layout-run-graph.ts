import type { RunId } from '../plan/run-id.js';

/** A run to place: its stage (the column) and the runs it reads (edges). */
export interface LayoutRun {
  readonly id: RunId;
  readonly stage: string;
  readonly upstream: readonly RunId[];
}

export interface Placed {
  readonly id: RunId;
  /** Left edge and vertical centre. */
  readonly x: number;
  readonly y: number;
}

export interface GraphLayout {
  readonly nodes: ReadonlyMap<RunId, Placed>;
  readonly columns: readonly { readonly stage: string; readonly x: number }[];
  readonly width: number;
  readonly height: number;
}

export interface LayoutSizes {
  readonly nodeWidth: number;
  readonly nodeHeight: number;
  readonly columnGap: number;
  readonly rowGap: number;
  readonly top: number;
}

/**
 * Places runs in one column per stage, in stage order. Within a column, runs are sorted by the
 * mean position of the runs they read (the barycentre heuristic), so a run sits level with its
 * sources and edges cross little; ties keep plan order. Columns are centred on the tallest.
 */
export function layoutRunGraph(
  runs: readonly LayoutRun[],
  stages: readonly string[],
  sizes: LayoutSizes,
): GraphLayout {
  const present = stages.filter((stage) => runs.some((run) => run.stage === stage));
  const slot = new Map<RunId, number>();
  const columns: LayoutRun[][] = [];

  for (const stage of present) {
    const column = runs
      .filter((run) => run.stage === stage)
      .map((run, position) => {
        const sources = run.upstream.flatMap((id) => slot.get(id) ?? []);
        const centre =
          sources.length > 0 ? sources.reduce((sum, s) => sum + s, 0) / sources.length : position;
        return { run, position, centre };
      })
      .sort((a, b) => a.centre - b.centre || a.position - b.position)
      .map((entry) => entry.run);
    // Slots are fractions of the column's height, so columns of different sizes compare.
    column.forEach((run, index) => slot.set(run.id, (index + 0.5) / column.length));
    columns.push(column);
  }

  const tallest = Math.max(1, ...columns.map((column) => column.length));
  const pitch = sizes.nodeHeight + sizes.rowGap;
  const height = sizes.top + tallest * pitch;
  const nodes = new Map<RunId, Placed>();
  columns.forEach((column, index) => {
    const x = index * (sizes.nodeWidth + sizes.columnGap);
    const offset = sizes.top + ((tallest - column.length) * pitch) / 2;
    column.forEach((run, row) => {
      nodes.set(run.id, { id: run.id, x, y: offset + row * pitch + pitch / 2 });
    });
  });
  return {
    nodes,
    columns: present.map((stage, index) => ({
      stage,
      x: index * (sizes.nodeWidth + sizes.columnGap),
    })),
    width: Math.max(1, present.length) * (sizes.nodeWidth + sizes.columnGap) - sizes.columnGap,
    height,
  };
}
