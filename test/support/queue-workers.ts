import { startCli, type StartedCli } from './cli.js';

/** A `kwgraph worker` process started by a test. */
export interface StartedWorker extends StartedCli {
  /** Resolves once the worker said it is ready to take rows. */
  readonly ready: Promise<void>;
  /** SIGTERM, then waits for it to finish the rows it has; SIGKILL if it takes too long. */
  stop(): Promise<{ code: number; stdout: string; stderr: string }>;
}

/** Starts `kwgraph worker --queue <queue>` in `dir`. */
export function startWorker(
  dir: string,
  queue: string,
  args: readonly string[] = [],
  env: Record<string, string | undefined> = {},
): StartedWorker {
  const started = startCli(dir, ['worker', '--queue', queue, ...args], { env });
  const ready = new Promise<void>((resolve, reject) => {
    const look = () => {
      if (started.output().stdout.includes(' ready: queue ')) {
        clearInterval(timer);
        resolve();
      }
    };
    const timer = setInterval(look, 50);
    void started.done.then((result) => {
      clearInterval(timer);
      reject(new Error(`worker exited before it was ready:\n${result.stdout}\n${result.stderr}`));
    });
  });
  ready.catch(() => {});
  return {
    ...started,
    ready,
    stop: async () => {
      if (started.child.exitCode === null && started.child.signalCode === null) {
        started.child.kill('SIGTERM');
      }
      const timer = setTimeout(() => started.child.kill('SIGKILL'), 15_000);
      const result = await started.done;
      clearTimeout(timer);
      return result;
    },
  };
}

/** Waits until `condition` holds, polling; fails after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean,
  what: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
