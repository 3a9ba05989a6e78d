import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { REPO_ROOT } from './synthetic-project.js';

/** What one CLI process cost. */
export interface ProcessMeasurement {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Wall time from spawn to exit. */
  readonly wallMs: number;
  /** User + system CPU of the CLI process. */
  readonly cpuMs: number;
  /** Peak resident set size of the CLI process. */
  readonly peakRssMb: number;
}

const CLI = path.join(REPO_ROOT, 'bin', 'kwgraph.js');
const GNU_TIME = '/usr/bin/time';

/**
 * Runs the real CLI (`node bin/kwgraph.js ...`) in `cwd` and measures it. CPU and peak RSS come
 * from GNU time's rusage of the process when it is installed; otherwise /proc/<pid> is polled
 * (VmHWM for the peak, utime + stime for CPU), which misses at most the last poll interval.
 */
export async function runCliMeasured(
  cwd: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<ProcessMeasurement> {
  const useTime = existsSync(GNU_TIME);
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'kwgraph-bench-time-'));
  const timeFile = path.join(scratch, 'time.txt');
  const command = useTime
    ? [GNU_TIME, '-f', '%U %S %M', '-o', timeFile, process.execPath, CLI, ...args]
    : [process.execPath, CLI, ...args];

  const started = performance.now();
  const child = spawn(command[0] as string, command.slice(1), {
    cwd,
    env: { ...process.env, NO_COLOR: '1', BENCH_API_KEY: 'bench', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));

  const polled = { cpuMs: 0, peakRssMb: 0 };
  const poller = useTime ? undefined : setInterval(() => void pollProc(child.pid, polled), 20);
  const code = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (exit) => resolve(exit ?? -1));
  });
  const wallMs = performance.now() - started;
  if (poller) clearInterval(poller);

  let cpuMs = polled.cpuMs;
  let peakRssMb = polled.peakRssMb;
  if (useTime) {
    const fields = (await readFile(timeFile, 'utf8')).trim().split('\n').at(-1)?.split(' ') ?? [];
    const [user, system, maxKb] = fields.map(Number);
    cpuMs = ((user ?? 0) + (system ?? 0)) * 1000;
    peakRssMb = (maxKb ?? 0) / 1024;
  }
  await rm(scratch, { recursive: true, force: true });
  return { code, stdout, stderr, wallMs, cpuMs, peakRssMb };
}

async function pollProc(
  pid: number | undefined,
  into: { cpuMs: number; peakRssMb: number },
): Promise<void> {
  if (pid === undefined) return;
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
    if (hwm?.[1] !== undefined) into.peakRssMb = Math.max(into.peakRssMb, Number(hwm[1]) / 1024);
    // Fields 14 and 15 of /proc/<pid>/stat (after the parenthesised name) are utime, stime.
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    into.cpuMs = Math.max(into.cpuMs, (ticks * 1000) / 100);
  } catch {
    // The process has exited between polls.
  }
}

/**
 * Runs a measurement `times` times and keeps the fastest: on a shared machine other processes
 * only ever add time, so the minimum is the best estimate of what the command itself costs.
 */
export async function bestOf(
  times: number,
  measure: () => Promise<ProcessMeasurement>,
): Promise<ProcessMeasurement> {
  let best: ProcessMeasurement | undefined;
  for (let index = 0; index < times; index++) {
    const result = await measure();
    if (best === undefined || result.wallMs < best.wallMs) best = result;
  }
  if (best === undefined) throw new Error('bestOf: nothing measured');
  return best;
}

/** Throws with the CLI's output when it did not exit as expected. */
export function expectExit(result: ProcessMeasurement, code: number, what: string): void {
  if (result.code !== code) {
    throw new Error(
      `${what}: kwgraph exited ${result.code} (expected ${code})\n${result.stdout.slice(-4000)}\n${result.stderr.slice(-4000)}`,
    );
  }
}
