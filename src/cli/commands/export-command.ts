import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { once } from 'node:events';

import { exportRows } from '../../results/export-rows.js';
import { selectStage } from '../../results/lineage.js';
import { csvRecord } from '../../util/csv.js';
import { EXIT_OK, EXIT_USAGE, reportDiagnostics, useColor, type GlobalOptions } from '../load.js';
import { plural, styles } from '../render/format.js';
import { loadResults } from './load-results.js';

export type ExportFormat = 'jsonl' | 'csv';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['jsonl', 'csv'];

export interface ExportCommandOptions extends GlobalOptions {
  readonly format?: ExportFormat;
  readonly output?: string;
}

/**
 * `kwgraph export <stage>`: every row of every built run of the stage, merged with its upstream
 * rows, as JSONL or CSV. A file is written beside its final name and renamed when complete, so
 * a failed export never leaves half a file.
 */
export async function exportCommand(
  stageName: string,
  options: ExportCommandOptions,
): Promise<number> {
  const loaded = await loadResults(options);
  if (loaded === undefined) return EXIT_USAGE;
  const root = loaded.project.experiment.root;
  const stage = selectStage(loaded.project.experiment, stageName);
  if (!stage.ok) {
    reportDiagnostics(root, stage.error);
    return EXIT_USAGE;
  }
  const format =
    options.format ?? (options.output?.toLowerCase().endsWith('.csv') ? 'csv' : 'jsonl');

  const exported = await exportRows(loaded.context, loaded.built, stage.value);
  const target = options.output === undefined ? undefined : path.resolve(options.output);
  const temporary = target === undefined ? undefined : `${target}.${process.pid}.tmp`;
  let stream: WriteStream | NodeJS.WriteStream = process.stdout;
  if (temporary !== undefined) {
    await mkdir(path.dirname(temporary), { recursive: true });
    stream = createWriteStream(temporary);
  }

  let lines = 0;
  try {
    if (format === 'csv') await write(stream, csvRecord(exported.columns));
    for await (const record of exported.records) {
      await write(
        stream,
        format === 'csv'
          ? csvRecord(exported.columns.map((column) => record[column]))
          : `${JSON.stringify(record)}\n`,
      );
      lines++;
    }
    if (temporary !== undefined && target !== undefined) {
      (stream as WriteStream).end();
      await once(stream, 'close');
      await rename(temporary, target);
    }
  } catch (error) {
    if (temporary !== undefined) {
      (stream as WriteStream).destroy();
      await rm(temporary, { force: true });
    }
    // A reader that stops early (`| head`) is not an error.
    if ((error as NodeJS.ErrnoException).code === 'EPIPE') return EXIT_OK;
    throw error;
  }

  const style = styles(useColor(process.stderr));
  if (target !== undefined) {
    process.stderr.write(
      `wrote ${plural(lines, 'row')} (${plural(exported.runs, 'run')} of ${stage.value}) to ${path.relative(process.cwd(), target) || target}\n`,
    );
  }
  for (const entry of exported.unbuilt) {
    process.stderr.write(
      `${style.yellow(`not exported (${entry.state}):`)} ${entry.run.id}  ${style.dim(entry.reasons.join('; '))}\n`,
    );
  }
  return EXIT_OK;
}

/**
 * Writes a chunk, waiting when the stream asks for it, so a large export stays small in memory.
 * A write error (a closed pipe) rejects instead of being thrown as an unhandled event.
 */
async function write(stream: NodeJS.WritableStream, chunk: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const failed = (error: Error) => reject(error);
    stream.once('error', failed);
    const flushed = stream.write(chunk, (error) => {
      stream.off('error', failed);
      if (error) reject(error);
      else if (flushed) resolve();
    });
    if (!flushed) {
      stream.once('drain', () => {
        stream.off('error', failed);
        resolve();
      });
    }
  });
}
