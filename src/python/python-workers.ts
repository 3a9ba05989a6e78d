import path from 'node:path';

import { PythonWorker, type PythonCall, type PythonReply } from './python-worker.js';

export interface PythonWorkersOptions {
  readonly root: string;
  readonly interpreter: string;
  /**
   * The environment variables of a flow's workers (its `environment_variables`). Throws a
   * PythonWorkerError when they cannot be resolved; the flow's calls then fail with it.
   */
  readonly environment: (flowDir: string) => Readonly<Record<string, string>>;
  /** Files and folders a flow includes from outside its folder, relative to the root. */
  readonly includes?: (flowDir: string) => readonly string[] | undefined;
}

/** The workers of one flow folder. */
interface Pool {
  readonly idle: PythonWorker[];
  readonly all: Set<PythonWorker>;
  readonly waiting: ((worker: PythonWorker) => void)[];
}

/**
 * The Python workers of one build: a small pool per flow folder. A flow gets its first worker
 * when its first python node runs, and another only while every worker it has is busy and it
 * has fewer than the run's row concurrency; each worker runs one call at a time. Workers live
 * until the build ends (`close`), so a tool module and what it imports (pandas, a model) load
 * once per worker rather than once per row.
 *
 * If kwgraph is interrupted (Ctrl-C, SIGTERM) or exits, every worker is killed first.
 */
export class PythonWorkers {
  private readonly pools = new Map<string, Pool>();
  private readonly environments = new Map<string, Readonly<Record<string, string>>>();
  private closed = false;

  constructor(private readonly options: PythonWorkersOptions) {}

  get interpreter(): string {
    return this.options.interpreter;
  }

  /** Runs one call on a worker of `flowDir`, starting one if allowed (`maxWorkers`). */
  async call(flowDir: string, request: PythonCall, maxWorkers: number): Promise<PythonReply> {
    // Resolved before any worker starts, so that a flow whose variables cannot be resolved
    // fails each call with the reason rather than starting workers.
    this.environmentOf(flowDir);
    const worker = await this.acquire(flowDir, Math.max(1, maxWorkers));
    try {
      return await worker.call(request);
    } finally {
      this.release(flowDir, worker);
    }
  }

  /** Stops every worker: stdin is closed, and a worker still running after a grace is killed. */
  async close(): Promise<void> {
    this.closed = true;
    const workers = [...this.pools.values()].flatMap((pool) => [...pool.all]);
    this.pools.clear();
    await Promise.all(workers.map((worker) => worker.stop()));
    for (const worker of workers) running.delete(worker);
  }

  private environmentOf(flowDir: string): Readonly<Record<string, string>> {
    let env = this.environments.get(flowDir);
    if (env === undefined) {
      env = this.options.environment(flowDir);
      this.environments.set(flowDir, env);
    }
    return env;
  }

  private pool(flowDir: string): Pool {
    let pool = this.pools.get(flowDir);
    if (pool === undefined) {
      pool = { idle: [], all: new Set(), waiting: [] };
      this.pools.set(flowDir, pool);
    }
    return pool;
  }

  private acquire(flowDir: string, maxWorkers: number): Promise<PythonWorker> {
    if (this.closed) return Promise.reject(new Error('internal error: Python workers are closed'));
    const pool = this.pool(flowDir);
    for (let worker = pool.idle.pop(); worker !== undefined; worker = pool.idle.pop()) {
      if (worker.alive) return Promise.resolve(worker);
      pool.all.delete(worker);
    }
    if (pool.all.size < maxWorkers) return Promise.resolve(this.start(flowDir, pool));
    return new Promise((resolve) => pool.waiting.push(resolve));
  }

  private release(flowDir: string, worker: PythonWorker): void {
    const pool = this.pools.get(flowDir);
    if (pool === undefined) return; // closed meanwhile
    if (!worker.alive) {
      pool.all.delete(worker);
      running.delete(worker);
    }
    const next = pool.waiting.shift();
    if (next === undefined) {
      if (worker.alive) pool.idle.push(worker);
      return;
    }
    next(worker.alive ? worker : this.start(flowDir, pool));
  }

  private start(flowDir: string, pool: Pool): PythonWorker {
    const worker = new PythonWorker({
      interpreter: this.options.interpreter,
      cwd: path.join(this.options.root, flowDir),
      env: this.environmentOf(flowDir),
      // An included `../shared/tools.py` imports as `tools`, an included folder `../common` as
      // `common`: as if they sat in the flow folder, where promptflow would have copied them.
      importPaths: [
        ...new Set(
          (this.options.includes?.(flowDir) ?? []).map((included) =>
            path.join(this.options.root, path.dirname(included)),
          ),
        ),
      ],
      projectRoot: this.options.root,
    });
    pool.all.add(worker);
    running.add(worker);
    stopWorkersOnExit();
    return worker;
  }
}

/** Every worker of this process, for the emergency stop. */
const running = new Set<PythonWorker>();
let exitHandlersInstalled = false;

/**
 * Kills the workers when the process is interrupted or exits without closing them. A signal is
 * re-raised after the workers are gone when nothing else listens for it, so kwgraph still ends
 * the way it would have without workers.
 */
function stopWorkersOnExit(): void {
  if (exitHandlersInstalled) return;
  exitHandlersInstalled = true;

  const killAll = () => {
    for (const worker of running) worker.kill();
    running.clear();
  };
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const onSignal = () => {
      killAll();
      process.removeListener(signal, onSignal);
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}
