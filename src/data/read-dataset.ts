import { readFile } from 'node:fs/promises';
import path from 'node:path';

import { CsvError } from 'csv-parse';
import { parse as parseCsv } from 'csv-parse/sync';

import type { DatasetConfig, JsonObject, JsonValue } from '../config/types.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { hashBytes, type ContentHash } from '../fingerprint/hash.js';
import { rebaseImagePaths } from '../models/image-values.js';
import { fail, ok, type Result } from '../util/result.js';

/** One row of a dataset. */
export interface DatasetRow {
  /** The `key` column's value as a string, or the row's 0-based index when there is no key. */
  readonly key: string;
  /** 0-based position among the file's rows (blank lines not counted). */
  readonly index: number;
  readonly data: JsonObject;
}

export interface Dataset {
  readonly rows: readonly DatasetRow[];
  /** sha256 (hex) of the file's bytes: any edit to the file changes it. */
  readonly contentHash: ContentHash;
}

/** Past this many bad lines the file is probably not what was meant; stop listing them. */
const MAX_ROW_DIAGNOSTICS = 20;

/**
 * Reads a dataset file (JSONL or CSV, as the config says) once, hashing the same bytes it
 * parses. Every bad line is reported with its line number (up to a limit), not just the first.
 *
 * CSV values stay strings: guessing types would turn a product code `007` into the number 7.
 */
export async function readDataset(
  root: string,
  config: DatasetConfig,
): Promise<Result<Dataset, Diagnostic[]>> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path.join(root, config.path));
  } catch (error) {
    return fail([unreadableDataset(config, error)]);
  }
  return parseDataset(bytes, hashBytes(bytes), config);
}

/** The diagnostic for a dataset file that cannot be read. */
export function unreadableDataset(config: DatasetConfig, error: unknown): Diagnostic {
  const reason =
    (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : 'cannot be read';
  return {
    message: `dataset file \`${config.path}\` of dataset \`${config.name}\` ${reason}`,
    position: config.position,
    length: config.name.length,
  };
}

/** Parses a dataset file's bytes; `contentHash` is their hash, as the caller computed it. */
export function parseDataset(
  bytes: Buffer,
  contentHash: ContentHash,
  config: DatasetConfig,
): Result<Dataset, Diagnostic[]> {
  // A UTF-8 byte order mark is not part of the first value.
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  const records =
    config.format === 'csv' ? readCsv(text, config.path) : readJsonl(text, config.path);
  if (!records.ok) return records;

  const keyed = assignKeys(records.value, config);
  if (!keyed.ok) return keyed;
  // promptflow image values (`{"data:image/png;path": ...}`) are relative to the data file.
  const folder = path.posix.dirname(config.path);
  const rows = keyed.value.map((row) => ({ ...row, data: rebaseImagePaths(row.data, folder) }));
  return ok({ rows, contentHash });
}

/** A parsed record and the line it started on, for messages about it. */
interface LineRecord {
  readonly line: number;
  readonly data: JsonObject;
  /** The line as written (JSONL), to point into it. */
  readonly text?: string;
}

function readJsonl(text: string, file: string): Result<LineRecord[], Diagnostic[]> {
  const records: LineRecord[] = [];
  const problems = new Problems(file);
  const lines = text.split('\n');

  for (let index = 0; index < lines.length; index += 1) {
    const content = (lines[index] ?? '').replace(/\r$/, '');
    if (content.trim() === '') continue;
    const line = index + 1;
    let value: unknown;
    try {
      value = JSON.parse(content);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      problems.add(
        line,
        jsonErrorColumn(reason, content),
        `line ${line} is not valid JSON: ${reason}`,
      );
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      problems.add(
        line,
        1,
        `line ${line} is not a JSON object (one object per line, with the row's columns)`,
      );
      continue;
    }
    records.push({ line, data: value as JsonObject, text: content });
  }
  return problems.any() ? fail(problems.list()) : ok(records);
}

/** V8 says `... in JSON at position 12` for most errors (not for an unexpected token). */
function jsonErrorColumn(reason: string, content: string): number {
  const match = /at position (\d+)/.exec(reason);
  if (match !== null) return Number(match[1]) + 1;
  const token = /Unexpected token '(.)'/.exec(reason);
  if (token?.[1] !== undefined) {
    const at = content.indexOf(token[1]);
    if (at !== -1) return at + 1;
  }
  return 1;
}

function readCsv(text: string, file: string): Result<LineRecord[], Diagnostic[]> {
  let parsed: { record: string[]; info: { lines: number } }[];
  try {
    // With `info: true` each record comes as `{ record, info }`; csv-parse's types describe
    // only the plain arrays, hence the cast.
    const options = { info: true, skip_empty_lines: true, bom: true };
    parsed = parseCsv(text, options) as unknown as typeof parsed;
  } catch (error) {
    const line =
      error instanceof CsvError && typeof error['lines'] === 'number' ? error['lines'] : 1;
    const reason = error instanceof Error ? error.message : String(error);
    return fail([
      { message: `CSV error: ${reason}`, position: { file, line, column: 1 }, length: 1 },
    ]);
  }

  const [header, ...body] = parsed;
  if (header === undefined) return ok([]);
  const problems = new Problems(file);
  const seen = new Set<string>();
  for (const name of header.record) {
    if (name.trim() === '')
      problems.add(header.info.lines, 1, 'the CSV header has an empty column name');
    else if (seen.has(name))
      problems.add(header.info.lines, 1, `the CSV header repeats column \`${name}\``);
    seen.add(name);
  }

  const records = body.map(({ record, info }) => {
    const data: Record<string, JsonValue> = {};
    header.record.forEach((name, column) => {
      data[name] = record[column] ?? '';
    });
    return { line: info.lines, data };
  });
  return problems.any() ? fail(problems.list()) : ok(records);
}

function assignKeys(
  records: readonly LineRecord[],
  config: DatasetConfig,
): Result<DatasetRow[], Diagnostic[]> {
  const { key } = config;
  if (key === undefined) {
    return ok(records.map((record, index) => ({ key: String(index), index, data: record.data })));
  }

  const problems = new Problems(config.path);
  const firstLine = new Map<string, number>();
  const rows = records.map((record, index): DatasetRow => {
    const value = record.data[key];
    const rowKey =
      typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
    if (rowKey === undefined || rowKey === '') {
      problems.add(
        record.line,
        1,
        `row on line ${record.line} has no value in key column \`${key}\``,
      );
    } else if (firstLine.has(rowKey)) {
      problems.add(
        record.line,
        columnOf(record.text, key),
        `duplicate key \`${rowKey}\` in column \`${key}\` (first on line ${firstLine.get(rowKey)})`,
      );
    } else {
      firstLine.set(rowKey, record.line);
    }
    return { key: rowKey ?? String(index), index, data: record.data };
  });
  return problems.any() ? fail(problems.list()) : ok(rows);
}

/** Where column `key` is named on a JSONL line (1 when unknown, as for CSV rows). */
function columnOf(text: string | undefined, key: string): number {
  const at = text?.indexOf(JSON.stringify(key)) ?? -1;
  return at === -1 ? 1 : at + 1;
}

/** Collects per-line diagnostics for one file, capped so a wrong file gives a short report. */
class Problems {
  private readonly diagnostics: Diagnostic[] = [];
  private dropped = 0;
  private firstDroppedLine = 0;

  constructor(private readonly file: string) {}

  add(line: number, column: number, message: string): void {
    if (this.diagnostics.length >= MAX_ROW_DIAGNOSTICS) {
      if (this.dropped === 0) this.firstDroppedLine = line;
      this.dropped += 1;
      return;
    }
    this.diagnostics.push({ message, position: { file: this.file, line, column }, length: 1 });
  }

  any(): boolean {
    return this.diagnostics.length > 0;
  }

  list(): Diagnostic[] {
    if (this.dropped === 0) return this.diagnostics;
    const position = { file: this.file, line: this.firstDroppedLine, column: 1 };
    const message = `${this.dropped} more problems from this line on are not shown`;
    return [...this.diagnostics, { message, position, length: 1 }];
  }
}
