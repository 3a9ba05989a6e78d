import type { JsonObject } from '../config/types.js';
import { readJsonlLines } from '../runs/read-jsonl-lines.js';
import type { OutputLine } from '../runs/run-manifest.js';

/** A dataset row as runs see it, with the output lines of the upstream runs it reads. */
export interface SourceRow {
  readonly key: string;
  readonly index: number;
  readonly data: JsonObject;
  /** The row's output line in each upstream run read, by stage; absent when it has none. */
  readonly upstream: ReadonlyMap<string, OutputLine>;
}

/**
 * Pairs each dataset row with its lines in the upstream runs' outputs.jsonl files (by stage),
 * reading every file once, side by side with the dataset: an upstream run lists the same rows
 * in the same order, so the next line is the row's line. A file that does not line up (a line
 * for a row not there, or one missing) is looked up by key instead, as a whole, so the match is
 * always by key.
 */
export async function* rowsWithUpstream(
  dataset: AsyncIterable<{ key: string; index: number; data: JsonObject }>,
  upstreamFiles: ReadonlyMap<string, string>,
): AsyncGenerator<SourceRow> {
  const readers = [...upstreamFiles].map(([stage, file]) => new UpstreamReader(stage, file));
  try {
    for await (const row of dataset) {
      const upstream = new Map<string, OutputLine>();
      for (const reader of readers) {
        const line = await reader.lineFor(row.key);
        if (line !== undefined) upstream.set(reader.stage, line);
      }
      yield { ...row, upstream };
    }
  } finally {
    await Promise.all(readers.map((reader) => reader.close()));
  }
}

/** One upstream run's outputs, read in step with the rows. */
class UpstreamReader {
  private readonly lines: AsyncGenerator<{ value: unknown }>;
  private next: OutputLine | undefined;
  private started = false;
  private byKey: Map<string, OutputLine> | undefined;

  constructor(
    readonly stage: string,
    private readonly file: string,
  ) {
    this.lines = readJsonlLines(file);
  }

  async lineFor(key: string): Promise<OutputLine | undefined> {
    if (this.byKey !== undefined) return this.byKey.get(key);
    if (!this.started) {
      this.started = true;
      await this.advance();
    }
    if (this.next?.key === key) {
      const line = this.next;
      await this.advance();
      return line;
    }
    // Out of step: fall back to a lookup by key over the whole file.
    await this.lines.return(undefined);
    this.byKey = new Map();
    for await (const { value } of readJsonlLines(this.file)) {
      const line = value as OutputLine;
      this.byKey.set(line.key, line);
    }
    return this.byKey.get(key);
  }

  async close(): Promise<void> {
    await this.lines.return(undefined);
  }

  private async advance(): Promise<void> {
    const read = await this.lines.next();
    this.next = read.done ? undefined : (read.value.value as OutputLine);
  }
}
