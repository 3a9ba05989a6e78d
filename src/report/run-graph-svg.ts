import type { RunId } from '../plan/run-id.js';
import { escapeHtml, px } from './html.js';
import { layoutRunGraph } from './layout-run-graph.js';
import type { GraphRun } from './report-data.js';

const SIZES = { nodeWidth: 270, nodeHeight: 44, columnGap: 70, rowGap: 14, top: 28 };
const MARGIN = 12;

/**
 * The run graph as an SVG picture: a column per stage, a box per run (its stage@variant, and
 * the lineage it is built on below), an arrow from every run to the runs that read it. Built
 * runs are solid, failed ones red, missing or stale ones dashed; `highlight` (the best
 * lineage) is drawn bold.
 */
export function runGraphSvg(
  runs: readonly GraphRun[],
  stages: readonly string[],
  highlight: ReadonlySet<RunId>,
): string {
  const layout = layoutRunGraph(runs, stages, SIZES);
  const width = layout.width + 2 * MARGIN;
  const height = layout.height + MARGIN;
  const parts: string[] = [];

  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="run-graph" role="img" aria-label="Run graph" ` +
      `viewBox="0 0 ${px(width)} ${px(height)}" width="${px(width)}" height="${px(height)}">`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" ' +
      'markerHeight="8" markerUnits="userSpaceOnUse" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" ' +
      'class="arrow-head"/></marker></defs>',
    `<g transform="translate(${MARGIN},0)">`,
  );
  for (const column of layout.columns) {
    parts.push(
      `<text class="stage-title" x="${px(column.x + SIZES.nodeWidth / 2)}" y="16">${escapeHtml(column.stage)}</text>`,
    );
  }

  for (const run of runs) {
    const to = layout.nodes.get(run.id);
    if (to === undefined) continue;
    for (const source of run.upstream) {
      const from = layout.nodes.get(source);
      if (from === undefined) continue;
      const x1 = from.x + SIZES.nodeWidth;
      const x2 = to.x - 2;
      const bend = (x2 - x1) / 2;
      const bold = highlight.has(source) && highlight.has(run.id);
      parts.push(
        `<path class="edge${bold ? ' best' : ''}" marker-end="url(#arrow)" ` +
          `d="M${px(x1)},${px(from.y)} C${px(x1 + bend)},${px(from.y)} ${px(x2 - bend)},${px(to.y)} ${px(x2)},${px(to.y)}"/>`,
      );
    }
  }

  for (const run of runs) {
    const at = layout.nodes.get(run.id);
    if (at === undefined) continue;
    const [own = run.id, ...rest] = run.id.split('~');
    const built = rest.length > 0 ? `~${rest.join('~')}` : '';
    const classes = ['run', run.state, ...(highlight.has(run.id) ? ['best'] : [])].join(' ');
    parts.push(
      `<g class="${classes}" data-run="${escapeHtml(run.id)}">`,
      `<title>${escapeHtml(`${run.id} — ${run.state}`)}</title>`,
      `<rect x="${px(at.x)}" y="${px(at.y - SIZES.nodeHeight / 2)}" width="${SIZES.nodeWidth}" ` +
        `height="${SIZES.nodeHeight}" rx="6"/>`,
      `<text class="run-label" x="${px(at.x + 10)}" y="${px(at.y - 3)}">${escapeHtml(fit(own, 36))}</text>`,
      `<text class="run-lineage" x="${px(at.x + 10)}" y="${px(at.y + 13)}">${escapeHtml(fit(built || stateLabel(run.state), 46))}</text>`,
      '</g>',
    );
  }
  parts.push('</g></svg>');
  return parts.join('\n');
}

function stateLabel(state: GraphRun['state']): string {
  return state === 'succeeded' ? 'built' : state;
}

function fit(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`;
}
