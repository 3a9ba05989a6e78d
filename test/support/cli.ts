import { spawn } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the example project and the CLI under test. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(REPO_ROOT, 'bin', 'kwgraph.js');

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the real `kwgraph` CLI in `cwd` and collects its output. */
export function runCli(
  cwd: string,
  args: readonly string[],
  options: { env?: Record<string, string | undefined>; timeoutMs?: number } = {},
): Promise<CliResult> {
  const started = startCli(cwd, args, options);
  const timer = setTimeout(() => started.child.kill('SIGKILL'), options.timeoutMs ?? 100_000);
  return started.done.then(({ code, stdout, stderr }) => {
    clearTimeout(timer);
    return { code, stdout, stderr };
  });
}

/** A CLI process started by `startCli`, for tests that signal or kill it. */
export interface StartedCli {
  readonly child: ReturnType<typeof spawn>;
  /** What it printed so far. */
  output(): { stdout: string; stderr: string };
  /** Resolves when it exits: its code, or the signal that ended it. */
  readonly done: Promise<CliResult & { signal: NodeJS.Signals | null }>;
}

/** Starts the real `kwgraph` CLI in `cwd` without waiting for it. */
export function startCli(
  cwd: string,
  args: readonly string[],
  options: { env?: Record<string, string | undefined> } = {},
): StartedCli {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: '1', KWGRAPH_CONNECTION: undefined, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<CliResult & { signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? -1, signal, stdout, stderr }));
  });
  return { child, output: () => ({ stdout, stderr }), done };
}

/** Runs `kwgraph build --json` and returns the parsed report. */
export async function buildJson(cwd: string, args: readonly string[] = []) {
  const result = await runCli(cwd, ['build', '--json', ...args]);
  let report: BuildJson;
  try {
    report = JSON.parse(result.stdout) as BuildJson;
  } catch {
    throw new Error(
      `build printed no JSON (exit ${result.code}):\n${result.stdout}\n${result.stderr}`,
    );
  }
  return { ...result, report };
}

export interface BuildJsonRun {
  id: string;
  stage: string;
  variant: string | null;
  status: 'executed' | 'cached' | 'failed';
  rows: number;
  calls: number;
  cachedCalls: number;
  rowsCached: number;
  reasons: string[];
  metrics: Record<string, number>;
  errors: { row: string; node?: string; error: string }[];
}

export interface BuildJson {
  ok: boolean;
  totals: {
    runs: number;
    executed: number;
    cached: number;
    failed: number;
    calls: number;
    cachedCalls: number;
    tokens: { prompt: number; completion: number; total: number };
    cost?: number;
  };
  runs: BuildJsonRun[];
}

/**
 * A throw-away copy of some project files in a temp folder, with the repository's
 * node_modules linked in so that flow code and models can import installed packages.
 */
export async function tempProject(
  files: readonly string[] = ['experiment.yaml', 'flows', 'data', 'models'],
  from: string = REPO_ROOT,
): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kwgraph-test-'));
  for (const file of files) {
    await cp(path.join(from, file), path.join(dir, file), { recursive: true });
  }
  await symlink(path.join(REPO_ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  // Modules importing kwgraph's own types resolve them from the repository's src/.
  await symlink(path.join(REPO_ROOT, 'src'), path.join(dir, 'src'), 'dir');
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export function sum(runs: readonly BuildJsonRun[], field: 'calls' | 'cachedCalls'): number {
  return runs.reduce((total, run) => total + run[field], 0);
}

/** Every run's outputs.jsonl in a project, by run id. */
export async function outputsOf(dir: string): Promise<Record<string, string>> {
  const runs = path.join(dir, 'cache', 'runs');
  const outputs: Record<string, string> = {};
  for (const id of await readdir(runs)) {
    outputs[id] = await readFile(path.join(runs, id, 'outputs.jsonl'), 'utf8');
  }
  return outputs;
}
