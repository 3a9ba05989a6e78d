/** A column of a plain-text table. */
export interface TextColumn {
  readonly title: string;
  readonly align?: 'left' | 'right';
}

/**
 * Lays out rows as aligned columns two spaces apart. `style` wraps a whole rendered line (for
 * colour) after padding, so escape codes never skew the widths.
 */
export function textTable(
  columns: readonly TextColumn[],
  rows: readonly (readonly string[])[],
  style: (line: string, row: number) => string = (line) => line,
): string[] {
  const widths = columns.map((column, index) =>
    Math.max(column.title.length, ...rows.map((row) => (row[index] ?? '').length)),
  );
  const render = (cells: readonly string[]) =>
    cells
      .map((cell, index) => {
        const width = widths[index] ?? 0;
        const last = index === cells.length - 1;
        if (columns[index]?.align === 'right') return cell.padStart(width);
        return last ? cell : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  return [
    render(columns.map((column) => column.title)),
    ...rows.map((row, index) => style(render(row), index)),
  ];
}
