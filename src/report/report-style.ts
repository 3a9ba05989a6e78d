/** The report's stylesheet, inlined: the page needs nothing from the network. */
export const REPORT_STYLE = `
:root {
  --ink: #1d2330; --muted: #5f6b7a; --line: #d9dee5; --paper: #ffffff; --wash: #f5f7fa;
  --accent: #0b63c5; --good: #1a7f37; --bad: #c62828; --warn: #9a6700; --best: #fff4c2;
}
* { box-sizing: border-box; }
body {
  margin: 0; background: var(--wash); color: var(--ink);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
header { background: var(--paper); border-bottom: 1px solid var(--line); padding: 16px 28px 10px; }
header h1 { margin: 0 0 2px; font-size: 22px; }
header p { margin: 0; color: var(--muted); }
nav { margin-top: 8px; display: flex; gap: 16px; }
nav a { color: var(--accent); text-decoration: none; }
main { padding: 8px 28px 40px; }
section { background: var(--paper); border: 1px solid var(--line); border-radius: 8px;
  margin: 16px 0; padding: 14px 18px; overflow-x: auto; }
h2 { font-size: 17px; margin: 0 0 10px; }
h3 { font-size: 14px; margin: 14px 0 6px; color: var(--muted); font-weight: 600; }
.note { color: var(--warn); margin: 6px 0; }
.muted { color: var(--muted); }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
table { border-collapse: collapse; width: 100%; }
table.compare { font-size: 13px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; white-space: nowrap; background: var(--wash); }
table.sortable th { cursor: pointer; user-select: none; }
table.sortable th[data-sorted]::after { content: attr(data-sorted); color: var(--muted); margin-left: 4px; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.best td { background: var(--best); }
tr.total td { font-weight: 600; border-top: 2px solid var(--line); }
.rank-best { color: #b8860b; font-weight: 700; }
.status-failed { color: var(--bad); font-weight: 600; }
.status-succeeded { color: var(--good); }
svg text { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
.run-graph .stage-title { font-size: 13px; font-weight: 600; fill: var(--muted); text-anchor: middle; }
.run-graph .run rect { fill: #fff; stroke: var(--good); stroke-width: 1.2; }
.run-graph .run.failed rect { stroke: var(--bad); fill: #fdecea; }
.run-graph .run.missing rect, .run-graph .run.stale rect { stroke: #9aa5b1; stroke-dasharray: 4 3; fill: var(--wash); }
.run-graph .run.best rect { stroke: #b8860b; stroke-width: 2.5; fill: var(--best); }
.run-graph .run-label { font-size: 12.5px; font-weight: 600; fill: var(--ink); }
.run-graph .run-lineage { font-size: 10.5px; fill: var(--muted); }
.run-graph .edge { fill: none; stroke: #9aa5b1; stroke-width: 1.2; }
.run-graph .edge.best { stroke: #b8860b; stroke-width: 2.2; }
.run-graph .arrow-head { fill: #9aa5b1; }
.legend-row { display: flex; gap: 16px; color: var(--muted); font-size: 12px; margin-top: 6px; flex-wrap: wrap; }
.swatch { display: inline-block; width: 14px; height: 10px; border: 1.5px solid var(--good); margin-right: 5px; vertical-align: -1px; }
.swatch.failed { border-color: var(--bad); background: #fdecea; }
.swatch.missing { border: 1.5px dashed #9aa5b1; }
.swatch.best { border: 2.5px solid #b8860b; background: var(--best); }
.chart .grid { stroke: #e7ebf0; }
.chart .axis { stroke: #9aa5b1; }
.chart .tick { font-size: 11px; fill: var(--muted); }
.chart .axis-title { font-size: 12px; fill: var(--muted); }
.bar-chart .bar rect { fill: #7aa7d9; }
.bar-chart .bar.best rect { fill: #d4a017; }
.bar-chart .bar-label { font-size: 12px; fill: var(--ink); }
.bar-chart .bar-value { font-size: 11.5px; fill: var(--ink); }
.line-chart .series path { stroke-width: 1.6; }
.line-chart .series.best path { stroke-width: 3; }
.line-chart .legend text { font-size: 12px; fill: var(--ink); }
.line-chart .legend line { stroke-width: 3; }
.line-chart .marker { stroke: #9aa5b1; stroke-dasharray: 5 4; }
.charts figure { margin: 0; }
.charts { display: flex; flex-wrap: wrap; gap: 28px; align-items: flex-start; }
.threshold-chart[hidden] { display: none; }
label.pick { display: inline-flex; align-items: center; gap: 4px; margin: 0 14px 6px 0; white-space: nowrap; }
.browser { display: grid; grid-template-columns: 220px 1fr; gap: 14px; margin-top: 10px; }
#row-search { width: 100%; padding: 6px 8px; border: 1px solid var(--line); border-radius: 6px; font: inherit; }
#row-list { list-style: none; margin: 6px 0 0; padding: 0; max-height: 560px; overflow-y: auto;
  border: 1px solid var(--line); border-radius: 6px; }
#row-list li { padding: 5px 8px; border-bottom: 1px solid var(--line); cursor: pointer; }
#row-list li:hover { background: var(--wash); }
#row-list li.selected { background: #e3eefb; }
#row-list .marks { float: right; letter-spacing: 1px; }
.ok-mark { color: var(--good); } .bad-mark { color: var(--bad); }
#row-count { color: var(--muted); font-size: 12px; margin-top: 4px; }
.side-by-side { display: grid; gap: 10px; }
.side-by-side .cell { border: 1px solid var(--line); border-radius: 6px; padding: 6px 8px; min-width: 0; background: #fff; }
.side-by-side .head { background: var(--wash); font-weight: 600; }
.side-by-side .head.best { background: var(--best); }
.side-by-side .stage-name { font-weight: 600; color: var(--muted); align-self: start; padding-top: 8px; }
.side-by-side pre { margin: 2px 0 6px; white-space: pre-wrap; word-break: break-word; max-height: 260px; overflow: auto; }
.side-by-side .error { color: var(--bad); }
details pre { white-space: pre-wrap; word-break: break-word; max-height: 320px; overflow: auto; background: var(--wash); padding: 8px; border-radius: 6px; }
`;
