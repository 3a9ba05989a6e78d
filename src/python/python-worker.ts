import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

import { pythonRuntimeDir, WORKER_SCRIPT } from './python-interpreter.js';

/** A connection as a Python tool receives it (see runtime/promptflow/connections). */
export interface PythonConnection {
  readonly name: string;
  readonly kind: string;
  readonly base_url?: string;
  /** Azure OpenAI only. */
  readonly api_version?: string;
  readonly model?: string;
  /** Only ever sent to the worker, never stored or logged. */
  readonly api_key?: string;
}

/** One call of a python node's tool. */
export interface PythonCall {
  /** The .py file, absolute. */
  readonly file: string;
  /** The function to call; the file's one `@tool` function when absent. */
  readonly function?: string;
  readonly inputs: Readonly<Record<string, unknown>>;
  /** Inputs that read a bypassed node: left out where the parameter has a default. */
  readonly bypassed: readonly string[];
  /** Connections for the inputs that name one, by input name. */
  readonly connections: Readonly<Record<string, PythonConnection>>;
}

/** How a Python exception (or a node and tool that do not fit) is reported by the worker. */
export interface PythonFailure {
  readonly type: string;
  readonly message: string;
  /** The node and its tool do not fit (no @tool, an unknown input): no traceback to show. */
  readonly setup: boolean;
  readonly missing_module?: string;
  readonly frames?: readonly {
    readonly file: string;
    readonly line: number;
    readonly function: string;
    readonly code: string;
  }[];
}

export type PythonReply =
  | {
      readonly ok: true;
      readonly output: unknown;
      /** What `log_metric` recorded during the call. */
      readonly metrics: Readonly<Record<string, number | null>>;
      /** What the tool printed. */
      readonly stdout: string;
    }
  | { readonly ok: false; readonly error: PythonFailure; readonly stdout?: string };

/** The worker process could not start, or died: every call it had fails with this. */
export class PythonWorkerError extends Error {}

export interface WorkerOptions {
  readonly interpreter: string;
  /** The flow folder, absolute: the worker's working directory and first import path. */
  readonly cwd: string;
  /** Variables on top of kwgraph's own environment. */
  readonly env: Readonly<Record<string, string>>;
  /** Absolute folders to import from after the flow folder (where its included files sit). */
  readonly importPaths?: readonly string[];
  readonly projectRoot: string;
}

/**
 * One long-lived Python process running `runtime/kwgraph_worker.py`. It takes one call at a
 * time (the pool in python-workers.ts sees to that): a request is a JSON line on its stdin, the
 * reply a JSON line on its stdout.
 */
export class PythonWorker {
  private readonly child: ChildProcess;
  private pending:
    | { readonly resolve: (reply: PythonReply) => void; readonly reject: (e: Error) => void }
    | undefined;
  private received = '';
  private stderrTail: string[] = [];
  private nextId = 1;
  private exited: Promise<void>;
  private failure: PythonWorkerError | undefined;

  constructor(private readonly options: WorkerOptions) {
    const runtime = pythonRuntimeDir();
    const pythonPath = [
      runtime,
      options.cwd,
      ...(options.importPaths ?? []),
      process.env['PYTHONPATH'],
    ].filter(Boolean);
    this.child = spawn(options.interpreter, ['-u', path.join(runtime, WORKER_SCRIPT)], {
      cwd: options.cwd,
      env: {
        ...process.env,
        ...options.env,
        PYTHONPATH: pythonPath.join(path.delimiter),
        // Flow folders are hashed into fingerprints; compiled files there would only be noise.
        PYTHONDONTWRITEBYTECODE: '1',
        PYTHONIOENCODING: 'utf-8',
        KWGRAPH_PROJECT_ROOT: options.projectRoot,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });

    this.child.stdout?.setEncoding('utf8');
    this.child.stdout?.on('data', (chunk: string) => this.onStdout(chunk));
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (chunk: string) => {
      this.stderrTail = [...this.stderrTail, ...chunk.split('\n')].slice(-STDERR_LINES);
    });
    // A write to a worker that has just died fails here; the exit handler reports it.
    this.child.stdin?.on('error', () => {});

    this.exited = new Promise((resolve) => {
      this.child.on('error', (error: NodeJS.ErrnoException) => {
        this.fail(
          error.code === 'ENOENT'
            ? new PythonWorkerError(
                `cannot run Python: "${options.interpreter}" was not found; install Python 3, ` +
                  'or set KWGRAPH_PYTHON (or `python:` in experiment.yaml) to its path',
              )
            : new PythonWorkerError(`cannot run ${options.interpreter}: ${error.message}`),
        );
        resolve();
      });
      // 'close' rather than 'exit': a reply written just before the end is still read.
      this.child.on('close', (code, signal) => {
        const how = signal === null ? `with code ${code ?? '?'}` : `on ${signal}`;
        const tail = this.stderrTail.filter((line) => line.trim() !== '').slice(-5);
        this.fail(
          new PythonWorkerError(
            `the Python worker (${options.interpreter}) exited ${how}` +
              (tail.length > 0 ? `:\n${tail.join('\n')}` : ''),
          ),
        );
        resolve();
      });
    });
  }

  /** The process id, for the pool's emergency stop. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return this.failure === undefined;
  }

  /** Sends one call; rejects with PythonWorkerError when the process is gone or dies. */
  call(request: PythonCall): Promise<PythonReply> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.pending !== undefined) throw new Error('internal error: a Python worker is busy');
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.child.stdin?.write(`${JSON.stringify({ id: this.nextId++, ...request })}\n`);
    });
  }

  /** Closes stdin (the worker ends by itself) and kills it if it has not within `graceMs`. */
  async stop(graceMs = 2000): Promise<void> {
    this.child.stdin?.end();
    const timer = setTimeout(() => this.kill(), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  private onStdout(chunk: string): void {
    this.received += chunk;
    for (let end = this.received.indexOf('\n'); end !== -1; end = this.received.indexOf('\n')) {
      const line = this.received.slice(0, end);
      this.received = this.received.slice(end + 1);
      if (line.trim() === '') continue;
      const pending = this.pending;
      this.pending = undefined;
      let reply: PythonReply;
      try {
        reply = JSON.parse(line) as PythonReply;
      } catch {
        pending?.reject(new PythonWorkerError(`the Python worker sent an unreadable reply`));
        continue;
      }
      pending?.resolve(reply);
    }
  }

  private fail(error: PythonWorkerError): void {
    this.failure ??= error;
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(this.failure);
  }
}

const STDERR_LINES = 40;
