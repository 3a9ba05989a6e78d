import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

import { CsvError, parse as parseCsv } from 'csv-parse';

import type { DatasetConfig, JsonObject, JsonValue } from '../config/types.js';
import type { ContentHash } from '../fingerprint/hash.js';
import { rebaseImagePaths } from '../models/image-values.js';
import type { DatasetRow } from './read-dataset.js';

/**
 * The dataset file's bytes differ from the bytes its runs were fingerprinted with: it was
 * edited while kwgraph was reading it.
 */
export class DatasetChanged extends Error {
  constructor(readonly config: DatasetConfig) {
    super(`dataset file \`${config.path}\` changed while kwgraph was reading it`);
  }
}

/**
 * A dataset's rows, parsed one at a time as the file is read, with the keys and image paths
 * `readDataset` gives them: a run holds the rows in flight, not the file.
 *
 * The file was checked (bad lines, keys) when its hash was first seen, so a line that does not
 * parse now means the file changed. The bytes are hashed as they are read; when they are not the
 * ones fingerprinted (`expected`), `DatasetChanged` is thrown, at the latest after the last row.
 */
export async function* streamDatasetRows(
  root: string,
  config: DatasetConfig,
  expected: ContentHash,
): AsyncGenerator<DatasetRow> {
  const hash = createHash('sha256');
  const chunks = hashedChunks(path.join(root, config.path), hash);
  const records = config.format === 'csv' ? csvRecords(chunks) : jsonlRecords(chunks);
  // promptflow image values (`{"data:image/png;path": ...}`) are relative to the data file.
  const folder = path.posix.dirname(config.path);

  let index = 0;
  try {
    for await (const data of records) {
      yield { key: keyOf(data, index, config), index, data: rebaseImagePaths(data, folder) };
      index++;
    }
  } catch (error) {
    const unparsable =
      error instanceof SyntaxError || error instanceof NotAnObject || error instanceof CsvError;
    if (unparsable) throw new DatasetChanged(config);
    throw error;
  }
  if (hash.digest('hex') !== expected) throw new DatasetChanged(config);
}

/** As `readDataset` keys a row: the key column as a string, or the row's index. */
function keyOf(data: JsonObject, index: number, config: DatasetConfig): string {
  if (config.key === undefined) return String(index);
  const value = data[config.key];
  const key = typeof value === 'string' || typeof value === 'number' ? String(value) : '';
  return key === '' ? String(index) : key;
}

async function* hashedChunks(file: string, hash: Hash): AsyncGenerator<Buffer> {
  for await (const chunk of createReadStream(file)) {
    hash.update(chunk as Buffer);
    yield chunk as Buffer;
  }
}

class NotAnObject extends Error {}

async function* jsonlRecords(chunks: AsyncIterable<Buffer>): AsyncGenerator<JsonObject> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let first = true;
  const parse = (line: string): JsonObject | undefined => {
    // A UTF-8 byte order mark is not part of the first value.
    let content = first ? line.replace(/^\uFEFF/, '') : line;
    first = false;
    content = content.replace(/\r$/, '');
    if (content.trim() === '') return undefined;
    const value: unknown = JSON.parse(content);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new NotAnObject();
    }
    return value as JsonObject;
  };

  for await (const chunk of chunks) {
    const lines = (rest + decoder.write(chunk)).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      const record = parse(line);
      if (record !== undefined) yield record;
    }
  }
  const record = parse(rest + decoder.end());
  if (record !== undefined) yield record;
}

async function* csvRecords(chunks: AsyncIterable<Buffer>): AsyncGenerator<JsonObject> {
  const source = Readable.from(chunks);
  const parser = source.pipe(parseCsv({ skip_empty_lines: true, bom: true }));
  source.on('error', (error) => parser.destroy(error));
  let header: string[] | undefined;
  for await (const record of parser as AsyncIterable<string[]>) {
    if (header === undefined) {
      header = record;
      continue;
    }
    const data: Record<string, JsonValue> = {};
    header.forEach((name, column) => {
      data[name] = record[column] ?? '';
    });
    yield data;
  }
}
