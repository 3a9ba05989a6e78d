import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import dotenv from 'dotenv';

import { loadProject } from '../config/load-project.js';
import type { LoadedProject } from '../config/types.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { formatDiagnostics } from '../diagnostics/format-diagnostic.js';

/** Exit codes, the same for every command. */
export const EXIT_OK = 0;
export const EXIT_RUN_FAILED = 1;
export const EXIT_USAGE = 2;

/** Options every command takes. */
export interface GlobalOptions {
  readonly project: string;
  readonly verbose: boolean;
}

/**
 * Loads `.env` (without overriding variables already set) and the project. On a configuration
 * error, prints the diagnostics and returns undefined: the caller exits with EXIT_USAGE.
 */
export async function loadOrReport(options: GlobalOptions): Promise<LoadedProject | undefined> {
  const root = path.resolve(options.project);
  const envFile = path.join(root, '.env');
  if (existsSync(envFile)) dotenv.config({ path: envFile, quiet: true });

  const loaded = await loadProject(root, { env: process.env });
  if (!loaded.ok) {
    reportDiagnostics(root, loaded.error);
    return undefined;
  }
  return loaded.value;
}

export function reportDiagnostics(root: string, diagnostics: readonly Diagnostic[]): void {
  const readSource = (file: string): string | undefined => {
    try {
      return readFileSync(path.resolve(root, file), 'utf8');
    } catch {
      return undefined;
    }
  };
  process.stderr.write(
    `${formatDiagnostics(diagnostics, readSource, { color: useColor(process.stderr) })}\n`,
  );
}

export function useColor(stream: NodeJS.WriteStream): boolean {
  return stream.isTTY === true && process.env['NO_COLOR'] === undefined;
}
