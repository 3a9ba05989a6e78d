import type { RunId } from '../plan/run-id.js';
import { barChartSvg } from './bar-chart-svg.js';
import { escapeHtml, jsonForScript } from './html.js';
import { lineChartSvg } from './line-chart-svg.js';
import type { ReportData } from './report-data.js';
import { REPORT_SCRIPT } from './report-script.js';
import { REPORT_STYLE } from './report-style.js';
import { runGraphSvg } from './run-graph-svg.js';

export interface ReportText {
  /** `kwgraph graph --format mermaid` and `dot`: the same lineage as the picture. */
  readonly mermaid: string;
  readonly dot: string;
}

/**
 * The report as one self-contained HTML file: styles, script, data and pictures are inline and
 * a Content-Security-Policy forbids the page any request, so it opens the same offline, from
 * an e-mail attachment or from a CI artefact.
 */
export function renderReport(data: ReportData, text: ReportText): string {
  const compare = data.compare;
  const best = data.lineages.find((lineage) => lineage.best);
  const highlight = new Set<RunId>(best ? Object.values(best.members) : []);
  const built = data.graph.filter((run) => run.state === 'succeeded' || run.state === 'failed');
  const charts = chartsSection(data);

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<link rel="icon" href="data:,">
<title>${escapeHtml(data.experiment)} · kwgraph report</title>
<style>${REPORT_STYLE}</style>
</head>
<body>
<header>
<h1>${escapeHtml(data.experiment)}</h1>
<p>${built.length} of ${data.graph.length} runs built · generated ${escapeHtml(data.generatedAt)} by kwgraph</p>
<nav><a href="#graph">Run graph</a><a href="#compare">Compare</a>${charts ? '<a href="#charts">Charts</a>' : ''}<a href="#cost">Cost per run</a><a href="#rows">Rows</a></nav>
</header>
<main>
<section id="graph">
<h2>Run graph</h2>
${runGraphSvg(data.graph, data.stages, highlight)}
<div class="legend-row"><span><span class="swatch"></span>built</span><span><span class="swatch failed"></span>rows failed</span><span><span class="swatch missing"></span>missing or stale</span>${best ? '<span><span class="swatch best"></span>best lineage</span>' : ''}</div>
<details><summary>As text (<code>kwgraph graph --format mermaid</code> / <code>dot</code>)</summary>
<pre>${escapeHtml(text.mermaid)}</pre>
<pre>${escapeHtml(text.dot)}</pre>
</details>
</section>
${compareSection(data)}
${charts}
${costSection(data)}
<section id="rows">
<h2>Rows</h2>
<p class="muted">Each stage's output for a row, side by side for the lineages you pick.</p>
<div id="lineage-picks"></div>
<div class="browser">
<div><input id="row-search" type="search" placeholder="Search rows, data and outputs" aria-label="Search rows"><div id="row-count"></div><ol id="row-list"></ol></div>
<div id="row-detail"></div>
</div>
</section>
</main>
<script type="application/json" id="report-data">${jsonForScript({
    stages: data.stages,
    lineages: data.lineages.map(({ run, label, rank, best: isBest, members }) => ({
      run,
      label,
      rank,
      best: isBest,
      members,
    })),
    rows: data.rows,
  })}</script>
<script>${REPORT_SCRIPT}</script>
</body>
</html>
`;

  function compareSection(report: ReportData): string {
    const { records } = report.records;
    // The run id is long and the variants say the same for a reader: it goes last here.
    const columns = [
      ...report.records.columns.filter((column) => column !== 'run'),
      ...report.records.columns.filter((column) => column === 'run'),
    ];
    const rankedBy = compare.rankedBy;
    const heading = rankedBy
      ? `Compare: ${compare.stage}, best first by ${rankedBy} (${compare.higherIsBetter ? 'higher' : 'lower'} is better)`
      : `Compare: ${compare.stage}`;
    const numeric = new Set(
      columns.filter((column) => records.some((record) => typeof record[column] === 'number')),
    );
    const head = columns
      .map((column) => `<th${numeric.has(column) ? ' class="num"' : ''}>${escapeHtml(column)}</th>`)
      .join('');
    const body = records
      .map((record) => {
        const cells = columns.map((column) => {
          const value = record[column];
          const shown =
            column === 'run'
              ? `<span class="mono">${escapeHtml(String(value))}</span>`
              : column === 'best'
                ? value
                  ? '<span class="rank-best">★</span>'
                  : ''
                : column === 'status'
                  ? `<span class="status-${escapeHtml(String(value))}">${escapeHtml(String(value))}</span>`
                  : escapeHtml(formatCell(value));
          const sortValue = value === null || value === undefined ? '' : String(value);
          return `<td${numeric.has(column) ? ' class="num"' : ''} data-value="${escapeHtml(sortValue)}">${shown}</td>`;
        });
        return `<tr${record['best'] ? ' class="best"' : ''}>${cells.join('')}</tr>`;
      })
      .join('\n');
    const notes = compare.notes.map((note) => `<p class="note">${escapeHtml(note)}</p>`).join('');
    const unbuilt =
      compare.unbuilt.length === 0
        ? ''
        : `<h3>Not shown</h3><ul>${compare.unbuilt
            .map(
              (entry) =>
                `<li><code>${escapeHtml(entry.run.id)}</code> ${escapeHtml(entry.state)}: ${escapeHtml(entry.reasons.join('; '))}</li>`,
            )
            .join('')}</ul>`;
    return `<section id="compare">
<h2>${escapeHtml(heading)}</h2>
${records.length === 0 ? `<p>No built run of ${escapeHtml(compare.stage)}.</p>` : `<table class="sortable compare"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`}
<p class="muted">calls, tokens${compare.hasCost ? ' and cost' : ''} are of each run's whole lineage. Click a header to sort.</p>
${notes}${unbuilt}
</section>`;
  }

  function chartsSection(report: ReportData): string {
    const parts: string[] = [];
    if (compare.rankedBy !== null && report.lineages.length > 0) {
      parts.push(
        `<figure><h3>${escapeHtml(compare.rankedBy)} per lineage</h3>${barChartSvg(
          report.lineages.map((lineage) => ({
            label: lineage.label,
            value: lineage.value,
            best: lineage.best,
            title: lineage.run,
          })),
          compare.rankedBy,
        )}</figure>`,
      );
    }
    const paths = thresholdPaths(report, compare.rankedBy);
    if (paths.length > 0) {
      const marker = report.lineages.find((lineage) => lineage.threshold !== undefined)?.threshold;
      const charts = paths.map((path, index) => {
        const lines = report.lineages.flatMap((lineage) => {
          const points = lineage.thresholds[path];
          return points ? [{ label: lineage.label, points, best: lineage.best }] : [];
        });
        return `<div class="threshold-chart" data-path="${escapeHtml(path)}"${index === 0 ? '' : ' hidden'}>${lineChartSvg(lines, { x: 'threshold', y: path }, marker)}</div>`;
      });
      const options = paths
        .map((path) => `<option value="${escapeHtml(path)}">${escapeHtml(path)}</option>`)
        .join('');
      parts.push(
        `<figure><h3>Metrics over thresholds <select id="threshold-metric" aria-label="Metric">${options}</select></h3>${charts.join('\n')}</figure>`,
      );
    }
    if (parts.length === 0) return '';
    return `<section id="charts">
<h2>Charts</h2>
<div class="charts">${parts.join('\n')}</div>
</section>`;
  }

  function costSection(report: ReportData): string {
    const hasCost = report.costs.some((row) => row.usage.cost !== undefined);
    const total = { calls: 0, tokens: 0, rows: 0, cost: 0, currency: '' };
    const body = report.costs
      .map((row) => {
        total.calls += row.usage.calls;
        total.tokens += row.usage.tokens.total;
        total.rows += row.rows;
        if (row.usage.cost) {
          total.cost += row.usage.cost.amount;
          total.currency ||= row.usage.cost.currency;
        }
        return `<tr><td class="mono">${escapeHtml(row.id)}</td><td>${escapeHtml(row.stage)}</td><td>${escapeHtml(row.variant ?? '')}</td><td><span class="status-${row.status}">${row.status}</span></td><td class="num" data-value="${row.rows}">${row.rows.toLocaleString('en-US')}</td><td class="num" data-value="${row.rowsFailed}">${row.rowsFailed}</td><td class="num" data-value="${row.usage.calls}">${row.usage.calls.toLocaleString('en-US')}</td><td class="num" data-value="${row.usage.tokens.total}">${row.usage.tokens.total.toLocaleString('en-US')}</td>${hasCost ? `<td class="num" data-value="${row.usage.cost?.amount ?? ''}">${escapeHtml(row.usage.cost ? `${row.usage.cost.amount.toFixed(4)} ${row.usage.cost.currency}` : '-')}</td>` : ''}<td class="num" data-value="${row.durationMs}">${(row.durationMs / 1000).toFixed(1)}s</td></tr>`;
      })
      .join('\n');
    return `<section id="cost">
<h2>Cost per run</h2>
<table class="sortable costs"><thead><tr><th>run</th><th>stage</th><th>variant</th><th>status</th><th class="num">rows</th><th class="num">failed</th><th class="num">calls</th><th class="num">tokens</th>${hasCost ? '<th class="num">cost</th>' : ''}<th class="num">last build</th></tr></thead><tbody>
${body}
<tr class="total"><td>all built runs</td><td></td><td></td><td></td><td class="num">${total.rows.toLocaleString('en-US')}</td><td></td><td class="num">${total.calls.toLocaleString('en-US')}</td><td class="num">${total.tokens.toLocaleString('en-US')}</td>${hasCost ? `<td class="num">${total.cost.toFixed(4)} ${escapeHtml(total.currency)}</td>` : ''}<td></td></tr>
</tbody></table>
<p class="muted">Each run's own calls and tokens: every call its rows used, whether sent or served from the call cache${hasCost ? '' : '. No run records a cost'}.</p>
</section>`;
  }
}

/** Threshold metric paths, the ranking metric's first (micro before macro), then `score`. */
function thresholdPaths(report: ReportData, rankedBy: string | null): string[] {
  const paths: string[] = [];
  for (const lineage of report.lineages) {
    for (const path of Object.keys(lineage.thresholds)) if (!paths.includes(path)) paths.push(path);
  }
  const weight = (path: string) => {
    const last = path.split('.').pop();
    if (rankedBy !== null && last === rankedBy) return path.startsWith('macro') ? 1 : 0;
    if (path === 'score') return 2;
    return 3;
  };
  return paths
    .map((path, index) => ({ path, index }))
    .sort((a, b) => weight(a.path) - weight(b.path) || a.index - b.index)
    .map((entry) => entry.path);
}

function formatCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number')
    return Number.isInteger(value) ? value.toLocaleString('en-US') : value.toFixed(3);
  return String(value);
}
