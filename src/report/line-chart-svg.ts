import { colour, niceScale, tickText } from './chart-scale.js';
import { escapeHtml, px } from './html.js';

export interface Line {
  readonly label: string;
  readonly points: readonly (readonly [number, number])[];
  readonly best: boolean;
}

const PLOT = { left: 52, top: 12, width: 520, height: 240 };
const LEGEND_WIDTH = 230;

/**
 * Lines over a shared x axis (thresholds), a legend on the right, and a dashed marker at
 * `marker` (the threshold the headline metrics use).
 */
export function lineChartSvg(
  lines: readonly Line[],
  labels: { readonly x: string; readonly y: string },
  marker?: number,
): string {
  const xs = lines.flatMap((line) => line.points.map(([x]) => x));
  const ys = lines.flatMap((line) => line.points.map(([, y]) => y));
  const xScale = niceScale(Math.min(...xs), Math.max(...xs));
  const unit = ys.every((y) => y >= 0 && y <= 1);
  const yScale = unit
    ? { min: 0, max: 1, ticks: [0, 0.2, 0.4, 0.6, 0.8, 1] }
    : niceScale(Math.min(...ys), Math.max(...ys));
  const x = (value: number) =>
    PLOT.left + ((value - xScale.min) / (xScale.max - xScale.min)) * PLOT.width;
  const y = (value: number) =>
    PLOT.top + PLOT.height - ((value - yScale.min) / (yScale.max - yScale.min)) * PLOT.height;
  const width = PLOT.left + PLOT.width + 20 + LEGEND_WIDTH;
  const height = Math.max(PLOT.top + PLOT.height + 40, 20 + lines.length * 18);
  const xStep = (xScale.ticks[1] ?? 1) - (xScale.ticks[0] ?? 0);
  const yStep = (yScale.ticks[1] ?? 1) - (yScale.ticks[0] ?? 0);

  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart line-chart" role="img" ` +
      `aria-label="${escapeHtml(`${labels.y} over ${labels.x}`)}" viewBox="0 0 ${px(width)} ${px(height)}" ` +
      `width="${px(width)}" height="${px(height)}">`,
  ];
  for (const tick of yScale.ticks) {
    parts.push(
      `<line class="grid" x1="${PLOT.left}" y1="${px(y(tick))}" x2="${PLOT.left + PLOT.width}" y2="${px(y(tick))}"/>`,
      `<text class="tick" x="${PLOT.left - 6}" y="${px(y(tick) + 4)}" text-anchor="end">${tickText(tick, yStep)}</text>`,
    );
  }
  const bottom = PLOT.top + PLOT.height;
  for (const tick of xScale.ticks) {
    parts.push(
      `<line class="axis" x1="${px(x(tick))}" y1="${bottom}" x2="${px(x(tick))}" y2="${bottom + 4}"/>`,
      `<text class="tick" x="${px(x(tick))}" y="${bottom + 16}" text-anchor="middle">${tickText(tick, xStep)}</text>`,
    );
  }
  parts.push(
    `<line class="axis" x1="${PLOT.left}" y1="${bottom}" x2="${PLOT.left + PLOT.width}" y2="${bottom}"/>`,
    `<text class="axis-title" x="${PLOT.left + PLOT.width / 2}" y="${bottom + 32}" text-anchor="middle">${escapeHtml(labels.x)}</text>`,
    `<text class="axis-title" transform="translate(12,${PLOT.top + PLOT.height / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(labels.y)}</text>`,
  );
  if (marker !== undefined && marker >= xScale.min && marker <= xScale.max) {
    parts.push(
      `<line class="marker" x1="${px(x(marker))}" y1="${PLOT.top}" x2="${px(x(marker))}" y2="${bottom}"><title>headline metrics at ${marker}</title></line>`,
    );
  }

  lines.forEach((line, index) => {
    const stroke = colour(index);
    const path = line.points
      .map(([px_, py], i) => `${i === 0 ? 'M' : 'L'}${px(x(px_))},${px(y(py))}`)
      .join(' ');
    parts.push(
      `<g class="series${line.best ? ' best' : ''}" stroke="${stroke}" fill="${stroke}">`,
      `<path d="${path}" fill="none"/>`,
      ...line.points.map(
        ([px_, py]) =>
          `<circle cx="${px(x(px_))}" cy="${px(y(py))}" r="2.5"><title>${escapeHtml(`${line.label}: ${py.toFixed(3)} at ${px_}`)}</title></circle>`,
      ),
      '</g>',
    );
    const ly = PLOT.top + 8 + index * 18;
    const lx = PLOT.left + PLOT.width + 20;
    parts.push(
      `<g class="legend${line.best ? ' best' : ''}"><line x1="${lx}" y1="${ly}" x2="${lx + 18}" y2="${ly}" stroke="${stroke}"/>`,
      `<text x="${lx + 24}" y="${ly + 4}">${escapeHtml(line.label)}${line.best ? ' ★' : ''}</text></g>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}
