/** Colours for series, distinguishable on white and for common colour blindness (Okabe–Ito). */
export const PALETTE = [
  '#0072b2',
  '#e69f00',
  '#009e73',
  '#cc79a7',
  '#56b4e9',
  '#d55e00',
  '#f0e442',
  '#000000',
] as const;

export function colour(index: number): string {
  return PALETTE[index % PALETTE.length] ?? '#000000';
}

/**
 * A value range widened to round tick values: [0, 1] stays [0, 1] with ticks 0, 0.2, …; any
 * other range gets 4 to 6 ticks on a 1-2-5 step.
 */
export function niceScale(min: number, max: number): { min: number; max: number; ticks: number[] } {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return { min: 0, max: 1, ticks: [0, 0.5, 1] };
  if (min === max) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= pad;
    max += pad;
  }
  const rough = (max - min) / 5;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= rough) ?? rough;
  const low = Math.floor(min / step) * step;
  const high = Math.ceil(max / step) * step;
  const ticks: number[] = [];
  for (let tick = low; tick <= high + step / 2; tick += step) ticks.push(round(tick, step));
  return { min: low, max: high, ticks };
}

/** A tick or value as text, with as many decimals as the step between ticks needs. */
export function tickText(value: number, step = 0.01): string {
  let decimals = 0;
  while (
    decimals < 6 &&
    Math.abs(step * 10 ** decimals - Math.round(step * 10 ** decimals)) > 1e-9
  ) {
    decimals++;
  }
  return Number.isInteger(value) ? String(value) : value.toFixed(decimals);
}

function round(value: number, step: number): number {
  const decimals = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  return Number(value.toFixed(decimals));
}
