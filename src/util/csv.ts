/**
 * CSV as RFC 4180 describes it, the dialect spreadsheets read: fields separated by commas, lines
 * ended by CRLF, a field quoted when it holds a comma, a quote, a line break or edge spaces,
 * and quotes inside doubled. Values that are not text (lists, objects) are written as JSON.
 */

// NOTE: written here because no CSV writer is installed; csv-stringify (a sibling of the
// csv-parse we read datasets with) would replace it. Values starting with `=`, `+`, `-` or `@`
// are written as they are: a spreadsheet may read them as formulas.

/** One CSV record, CRLF included. */
export function csvRecord(values: readonly unknown[]): string {
  return `${values.map(csvField).join(',')}\r\n`;
}

/** One field: empty for null or undefined, JSON text for lists and objects. */
export function csvField(value: unknown): string {
  const text = fieldText(value);
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function fieldText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  return JSON.stringify(value);
}
