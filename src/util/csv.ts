import { stringify, type Options } from 'csv-stringify/sync';

/**
 * CSV in the dialect spreadsheets read (RFC 4180): comma-separated, CRLF line ends, a field
 * quoted when it holds a comma, a quote or a line break — or starts or ends with a space, which
 * some readers would otherwise trim. Lists and objects are written as their JSON text.
 *
 * NOTE: values starting with `=`, `+`, `-` or `@` are written as they are: a spreadsheet may
 * read them as formulas. They are model answers and dataset values the user chose to export.
 */
const OPTIONS: Options = {
  record_delimiter: 'windows',
  // A bare line feed inside a field is quoted too, not only the CRLF that ends a record.
  quoted_match: [/[\r\n]/, /^\s|\s$/],
  cast: {
    boolean: (value: boolean) => String(value),
    object: (value: object) => JSON.stringify(value),
  },
};

/** One CSV record, CRLF included; null and undefined are empty fields. */
export function csvRecord(values: readonly unknown[]): string {
  return stringify([values], OPTIONS);
}
