import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

import dotenv from 'dotenv';

import { DEFAULT_EXPERIMENT_FILE, loadProject } from '../../config/load-project.js';
import { loadFlow } from '../../config/load-flow.js';
import { resolveProjectPath } from '../../config/project-paths.js';
import type { ExperimentConfig } from '../../config/types.js';
import { testFlow, type FlowTestReport } from '../../flow/test-flow.js';
import { rebaseImagePaths } from '../../models/image-values.js';
import { ConnectionSetupError } from '../../models/create-chat-model.js';
import {
  EXIT_OK,
  EXIT_RUN_FAILED,
  EXIT_USAGE,
  reportDiagnostics,
  useColor,
  type GlobalOptions,
} from '../load.js';
import { styles } from '../render/format.js';

export interface FlowTestCommandOptions extends GlobalOptions {
  readonly inputs?: string;
  readonly variant: readonly string[];
  readonly connection?: string;
  readonly json: boolean;
}

/**
 * `kwgraph flow test <flow folder>`: runs one flow on one input and prints every node's output.
 * Inside a project (a folder with experiment.yaml), the flow gets its connections and defaults.
 */
export async function flowTestCommand(
  folder: string,
  options: FlowTestCommandOptions,
): Promise<number> {
  const root = path.resolve(options.project);
  const usage = (message: string, hint: string) => {
    reportDiagnostics(root, [{ message, hint }]);
    return EXIT_USAGE;
  };

  const dir = resolveProjectPath(path.relative(root, path.resolve(folder)), '');
  if (!dir.ok) return usage(`flow folder ${folder} is outside the project ${root}`, dir.hint);

  let experiment: ExperimentConfig | undefined;
  if (existsSync(path.join(root, DEFAULT_EXPERIMENT_FILE))) {
    const envFile = path.join(root, '.env');
    if (existsSync(envFile)) dotenv.config({ path: envFile, quiet: true });
    const project = await loadProject(root, { env: process.env });
    if (!project.ok) {
      reportDiagnostics(root, project.error);
      return EXIT_USAGE;
    }
    experiment = project.value.experiment;
  }

  const loaded = await loadFlow(root, dir.path);
  if (loaded.kind === 'not-found') return usage(loaded.message, loaded.hint);
  if (loaded.diagnostics.length > 0 || loaded.flow === undefined) {
    reportDiagnostics(root, loaded.diagnostics);
    return EXIT_USAGE;
  }

  const variants: Record<string, string> = {};
  for (const written of options.variant) {
    const [node, variant, ...rest] = written.split('.');
    if (!node || !variant || rest.length > 0) {
      return usage(`--variant ${written}: write node.variant`, 'e.g. --variant answer.detailed');
    }
    variants[node] = variant;
  }

  let inputs: Record<string, unknown> = {};
  if (options.inputs !== undefined) {
    const file = path.resolve(options.inputs);
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(file, 'utf8'));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return usage(`cannot read --inputs ${options.inputs}: ${reason}`, 'give a JSON object file');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      return usage(
        `--inputs ${options.inputs} is not a JSON object`,
        'write {"input": value, ...}',
      );
    }
    // Image paths in the file are relative to it, as in a data file.
    const folderOfFile = path.relative(root, path.dirname(file)).split(path.sep).join('/');
    inputs = rebaseImagePaths(parsed as Record<string, unknown>, folderOfFile);
  }

  let report;
  try {
    report = await testFlow({
      root,
      flow: loaded.flow.config,
      experiment,
      variants,
      ...(options.connection ? { connection: options.connection } : {}),
      inputs,
    });
  } catch (error) {
    if (error instanceof ConnectionSetupError) {
      reportDiagnostics(root, [
        { message: error.message, position: error.connection.position, hint: error.hint },
      ]);
      return EXIT_USAGE;
    }
    throw error;
  }
  if (!report.ok) {
    reportDiagnostics(root, report.error);
    return EXIT_USAGE;
  }

  if (options.json) process.stdout.write(`${JSON.stringify(report.value, null, 2)}\n`);
  else printReport(report.value, useColor(process.stdout));
  return report.value.ok ? EXIT_OK : EXIT_RUN_FAILED;
}

function printReport(report: FlowTestReport, color: boolean): void {
  const style = styles(color);
  const write = (line: string) => process.stdout.write(`${line}\n`);
  const indented = (text: string) =>
    text
      .split('\n')
      .map((line) => `  ${line}`)
      .join('\n');
  const shown = (value: unknown) =>
    typeof value === 'string' ? value : JSON.stringify(value, null, 2);

  for (const node of report.nodes) {
    const kind = [
      node.type,
      ...(node.aggregation ? ['aggregation'] : []),
      ...(node.variant === undefined ? [] : [`variant ${node.variant}`]),
    ].join(', ');
    write(`${style.bold(node.name)} ${style.dim(`(${kind})`)}`);
    if (node.printed) write(style.dim(indented(node.printed.replace(/\n$/, ''))));
    if (node.status === 'ok' && !node.aggregation) write(indented(shown(node.output)));
    else if (node.status === 'bypassed') write(style.dim('  bypassed (activate condition)'));
    else if (node.status === 'failed') write(style.red(indented(node.error ?? 'failed')));
    else if (node.status === 'not run') write(style.dim('  not run'));
  }
  if (report.error !== undefined) write(style.red(report.error));
  if (report.outputs !== undefined) {
    write(style.bold('outputs'));
    write(indented(JSON.stringify(report.outputs, null, 2)));
  }
  if (report.metrics !== undefined) {
    write(style.bold('metrics'));
    write(indented(JSON.stringify(report.metrics, null, 2)));
  }
}
