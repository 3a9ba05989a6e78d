import { createHash, type Hash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';

import type { ContentHash } from '../fingerprint/hash.js';

/** What a finished file holds. */
export interface JsonlWritten {
  /** sha256 of the file's bytes, computed as they were written. */
  readonly hash: ContentHash;
  readonly lines: number;
  readonly bytes: number;
}

/**
 * Writes a JSONL file line by line, in index order, while the lines arrive in any order: rows
 * of a run finish out of order, but outputs.jsonl lists them in input order. A line is written
 * as soon as every line before it is; only the lines waiting for an earlier one are held, so
 * memory follows the rows in flight, not the rows of the run.
 *
 * The file is written beside its destination and renamed over it by `finish`: a reader (or a
 * crash) sees the old file or the whole new one. `abort` removes the partial file.
 *
 * NOTE: one very slow row holds back every later line until it finishes; a caller that starts
 * rows in order can bound that by not starting row `i + window` before row `i` is written
 * (see `waitForRoom`).
 */
export class OrderedJsonlWriter {
  private readonly pending = new Map<number, string>();
  private readonly hasher: Hash = createHash('sha256');
  private readonly stream: WriteStream;
  private readonly temporary: string;
  private next = 0;
  private lines = 0;
  private bytes = 0;
  private failure: Error | undefined;
  private readonly waiting: { index: number; resolve: () => void }[] = [];
  private draining: Promise<void> | undefined;
  private unbounded = false;

  private constructor(private readonly file: string) {
    this.temporary = `${file}.${process.pid}.${Date.now()}.tmp`;
    this.stream = createWriteStream(this.temporary);
    this.stream.on('error', (error) => {
      this.failure = error;
    });
  }

  /** Starts writing `file` (its folder is created if needed). */
  static async open(file: string): Promise<OrderedJsonlWriter> {
    await mkdir(path.dirname(file), { recursive: true });
    const writer = new OrderedJsonlWriter(file);
    await new Promise<void>((resolve, reject) => {
      writer.stream.once('open', () => resolve());
      writer.stream.once('error', reject);
    });
    return writer;
  }

  /** How many lines wait for an earlier one. */
  get held(): number {
    return this.pending.size;
  }

  /**
   * Adds line `index` (0-based; every index from 0 up must come exactly once). Resolves once
   * the stream has room again, so a fast producer slows to the disk's pace.
   */
  async write(index: number, value: unknown): Promise<void> {
    if (this.failure) throw this.failure;
    if (!Number.isInteger(index) || index < this.next || this.pending.has(index)) {
      throw new Error(`internal error: line ${index} written twice or out of range`);
    }
    this.pending.set(index, `${JSON.stringify(value)}\n`);

    let roomy = true;
    for (let line = this.pending.get(this.next); line !== undefined;) {
      this.pending.delete(this.next);
      this.hasher.update(line);
      this.bytes += Buffer.byteLength(line);
      this.lines++;
      this.next++;
      roomy = this.stream.write(line) && roomy;
      line = this.pending.get(this.next);
    }
    this.release();
    if (!roomy) await this.drained();
    if (this.failure) throw this.failure;
  }

  /**
   * Resolves when line `index - window` has been written: a producer that calls this before
   * starting row `index` never has more than `window` lines held in memory.
   */
  waitForRoom(index: number, window: number): Promise<void> {
    if (this.unbounded || index - window < this.next) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push({ index: index - window, resolve }));
  }

  /**
   * Lets every producer waiting in `waitForRoom` go on, now and from now on: for when a line
   * will never come (its row was stopped), so waiting for it would wait forever.
   */
  stopWaiting(): void {
    this.unbounded = true;
    for (const waiter of this.waiting.splice(0)) waiter.resolve();
  }

  /**
   * Flushes (to disk), closes and moves the file into place. Every line must have been
   * written. The caller syncs the folder (the run's manifest, written after, does).
   */
  async finish(): Promise<JsonlWritten> {
    if (this.pending.size > 0) {
      await this.abort();
      throw new Error(`internal error: line ${this.next} was never written`);
    }
    await new Promise<void>((resolve, reject) => {
      this.stream.end((error?: Error | null) => (error ? reject(error) : resolve()));
    });
    if (this.failure) {
      await this.abort();
      throw this.failure;
    }
    // On disk before the rename: after a power cut the name never points at unwritten blocks.
    const handle = await open(this.temporary, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(this.temporary, this.file);
    return { hash: this.hasher.digest('hex') as ContentHash, lines: this.lines, bytes: this.bytes };
  }

  /** Drops the partial file; the destination keeps what it had. */
  async abort(): Promise<void> {
    this.stream.destroy();
    await rm(this.temporary, { force: true });
  }

  /** Resolves at the stream's next 'drain'; writers waiting at once share one listener. */
  private drained(): Promise<void> {
    this.draining ??= new Promise<void>((resolve) =>
      this.stream.once('drain', () => {
        this.draining = undefined;
        resolve();
      }),
    );
    return this.draining;
  }

  private release(): void {
    for (let at = this.waiting.length - 1; at >= 0; at--) {
      const waiter = this.waiting[at];
      if (waiter !== undefined && waiter.index < this.next) {
        this.waiting.splice(at, 1);
        waiter.resolve();
      }
    }
  }
}
