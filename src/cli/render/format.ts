/** Small text helpers shared by the renderers. */

export function plural(count: number, word: string, many = `${word}s`): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? word : many}`;
}

export function seconds(ms: number): string {
  return ms < 1000 ? `${ms}ms` : `${(ms / 1000).toFixed(1)}s`;
}

/** An estimated cost in USD: `~$0.42`, with more digits for small amounts. */
export function dollars(usd: number): string {
  if (usd === 0) return '~$0';
  return `~$${usd >= 1 ? usd.toFixed(2) : usd.toPrecision(2)}`;
}

export function formatMetric(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(3);
}

/** ANSI styling that disappears when colour is off. */
export function styles(color: boolean) {
  const wrap = (code: number) => (text: string) =>
    color ? `\u001b[${code}m${text}\u001b[0m` : text;
  return {
    dim: wrap(2),
    bold: wrap(1),
    green: wrap(32),
    red: wrap(31),
    yellow: wrap(33),
    cyan: wrap(36),
  };
}
