import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

/** One line of a JSONL file, parsed. */
export interface JsonlLine {
  /** 1-based line number in the file (blank lines count, as an editor shows them). */
  readonly line: number;
  readonly value: unknown;
}

/** A line that is not JSON; the file and line say where. */
export class JsonlLineError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    reason: string,
  ) {
    super(`${file}:${line}: not valid JSON: ${reason}`);
  }
}

/**
 * The lines of a JSONL file, parsed one at a time as the file is read: a run's outputs or a
 * dataset is never held whole in memory. Blank lines are skipped; a trailing `\r` is dropped.
 * Stopping early (leaving the loop) closes the file.
 */
export async function* readJsonlLines(file: string): AsyncGenerator<JsonlLine> {
  const stream = createReadStream(file, { encoding: 'utf8' });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let line = 0;
  try {
    for await (const text of lines) {
      line++;
      // A UTF-8 byte order mark is not part of the first value.
      const content = line === 1 ? text.replace(/^\uFEFF/, '') : text;
      if (content.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(content);
      } catch (error) {
        throw new JsonlLineError(
          file,
          line,
          error instanceof Error ? error.message : String(error),
        );
      }
      yield { line, value };
    }
  } finally {
    lines.close();
    stream.destroy();
  }
}
