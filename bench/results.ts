import { readFile, writeFile } from 'node:fs/promises';

/** One line of the results table. `pass` is undefined for numbers reported without a target. */
export interface Metric {
  readonly name: string;
  readonly value: string;
  readonly target: string;
  readonly pass: boolean | undefined;
}

export interface RunInfo {
  readonly durationMs: number;
  readonly machine: {
    readonly cpus: number;
    /** One-minute load average at the start and at the end. */
    readonly load: readonly [number, number];
    readonly cpuModel: string;
    readonly memoryGb: number;
    readonly node: string;
    readonly platform: string;
  };
}

const verdict = (metric: Metric) =>
  metric.pass === undefined ? '' : metric.pass ? 'pass' : 'FAIL';

/** The metrics as a plain-text table for the terminal. */
export function formatTable(metrics: readonly Metric[]): string {
  const rows = [
    ['metric', 'value', 'target', ''],
    ...metrics.map((m) => [m.name, m.value, m.target, verdict(m)]),
  ];
  const widths = [0, 1, 2, 3].map((column) =>
    Math.min(column === 0 ? 70 : 90, Math.max(...rows.map((row) => (row[column] ?? '').length))),
  );
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

const BEGIN = '<!-- bench:begin (written by `npm run bench`; edit outside these markers) -->';
const END = '<!-- bench:end -->';

/**
 * Writes the latest results between the markers of bench/RESULTS.md, keeping everything outside
 * them (the analysis of gaps, earlier numbers) as it is.
 */
export async function writeResults(
  file: string,
  metrics: readonly Metric[],
  notes: readonly string[],
  info: RunInfo,
): Promise<void> {
  const { machine } = info;
  const escape = (text: string) => text.replace(/\|/g, '\\|');
  const section = [
    BEGIN,
    `## Latest run`,
    '',
    `${new Date().toISOString().slice(0, 10)} · ${machine.cpus} CPUs (${machine.cpuModel}) · ` +
      `${machine.memoryGb.toFixed(1)} GB memory · Node ${machine.node} · ${machine.platform} · ` +
      `load average ${machine.load[0].toFixed(1)} → ${machine.load[1].toFixed(1)} · ` +
      `the bench took ${(info.durationMs / 60_000).toFixed(1)} min`,
    '',
    '| metric | value | target | |',
    '|---|---|---|---|',
    ...metrics.map(
      (metric) =>
        `| ${escape(metric.name)} | ${escape(metric.value)} | ${escape(metric.target)} | ${verdict(metric)} |`,
    ),
    ...(notes.length > 0 ? ['', ...notes.map((note) => `- ${escape(note)}`)] : []),
    END,
  ].join('\n');

  let existing: string;
  try {
    existing = await readFile(file, 'utf8');
  } catch {
    existing = `# Benchmark results\n\n${BEGIN}\n${END}\n`;
  }
  const start = existing.indexOf(BEGIN);
  const end = existing.indexOf(END);
  const next =
    start === -1 || end === -1
      ? `${existing.trimEnd()}\n\n${section}\n`
      : `${existing.slice(0, start)}${section}${existing.slice(end + END.length)}`;
  await writeFile(file, next);
}
