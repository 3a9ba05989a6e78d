import { niceScale, tickText } from './chart-scale.js';
import { escapeHtml, px } from './html.js';

export interface Bar {
  readonly label: string;
  readonly value: number | null;
  readonly best: boolean;
  /** Shown on hover. */
  readonly title: string;
}

const ROW = 26;
const BAR_AREA = 380;
const CHAR = 7;

/** Horizontal bars, one per lineage, labelled on the left and valued at the bar's end. */
export function barChartSvg(bars: readonly Bar[], metric: string): string {
  const values = bars.flatMap((bar) => (bar.value === null ? [] : [bar.value]));
  const unit = values.every((value) => value >= 0 && value <= 1);
  const scale = unit
    ? { min: 0, max: 1, ticks: [0, 0.25, 0.5, 0.75, 1] }
    : niceScale(Math.min(0, ...values), Math.max(0, ...values));
  const labelWidth = Math.min(
    260,
    Math.max(60, ...bars.map((bar) => bar.label.length * CHAR + 12)),
  );
  const top = 8;
  const height = top + bars.length * ROW + 30;
  const width = labelWidth + BAR_AREA + 70;
  const x = (value: number) =>
    labelWidth + ((value - scale.min) / (scale.max - scale.min)) * BAR_AREA;
  const step = (scale.ticks[1] ?? 1) - (scale.ticks[0] ?? 0);

  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart bar-chart" role="img" ` +
      `aria-label="${escapeHtml(`${metric} per lineage`)}" viewBox="0 0 ${px(width)} ${px(height)}" ` +
      `width="${px(width)}" height="${px(height)}">`,
  ];
  const axisY = top + bars.length * ROW;
  for (const tick of scale.ticks) {
    parts.push(
      `<line class="grid" x1="${px(x(tick))}" y1="${top}" x2="${px(x(tick))}" y2="${px(axisY)}"/>`,
      `<text class="tick" x="${px(x(tick))}" y="${px(axisY + 14)}" text-anchor="middle">${tickText(tick, step)}</text>`,
    );
  }
  parts.push(
    `<text class="axis-title" x="${px(labelWidth + BAR_AREA / 2)}" y="${px(axisY + 28)}" text-anchor="middle">${escapeHtml(metric)}</text>`,
  );
  bars.forEach((bar, index) => {
    const y = top + index * ROW;
    parts.push(
      `<g class="bar${bar.best ? ' best' : ''}"><title>${escapeHtml(bar.title)}</title>`,
      `<text class="bar-label" x="${px(labelWidth - 8)}" y="${px(y + ROW / 2 + 4)}" text-anchor="end">${escapeHtml(bar.label)}</text>`,
    );
    if (bar.value !== null) {
      const start = x(Math.max(scale.min, 0));
      const end = x(bar.value);
      parts.push(
        `<rect x="${px(Math.min(start, end))}" y="${px(y + 4)}" width="${px(Math.max(1, Math.abs(end - start)))}" height="${ROW - 8}" rx="2"/>`,
        `<text class="bar-value" x="${px(Math.max(start, end) + 6)}" y="${px(y + ROW / 2 + 4)}">${bar.value.toFixed(3)}${bar.best ? ' ★' : ''}</text>`,
      );
    } else {
      parts.push(
        `<text class="bar-value" x="${px(labelWidth + 6)}" y="${px(y + ROW / 2 + 4)}">no value</text>`,
      );
    }
    parts.push('</g>');
  });
  parts.push('</svg>');
  return parts.join('\n');
}
