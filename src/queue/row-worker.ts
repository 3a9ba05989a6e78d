import os from 'node:os';

import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';

import { CallCache, type CachedCall } from '../cache/call-cache.js';
import { CheckedStore } from '../cache/checked-store.js';
import { openCacheStores, type CacheStores } from '../cache/open-store.js';
import { redact } from '../cache/shared-store.js';
import type { LoadedProject } from '../config/types.js';
import { computeRowHere, type CachedRow, type RunJob } from '../execute/execute-run.js';
import { hashProjectFile } from '../fingerprint/flow-files.js';
import type { NodeRuntime } from '../flow/execute-node.js';
import { CallClaims } from '../locks/call-claims.js';
import type { ChatModel } from '../models/chat-model.js';
import { sharedLimiters } from '../models/shared-rate-limiter.js';
import type { RunDefinition } from '../plan/run-definition.js';
import type { RunId } from '../plan/run-id.js';
import { flowEnvironment } from '../python/python-connections.js';
import { pythonInterpreter } from '../python/python-interpreter.js';
import { PythonWorkers } from '../python/python-workers.js';
import { CheckoutChecks } from './check-checkout.js';
import type { QueueAddress } from './queue-url.js';
import { REFUSED, ROW_QUEUE, type RowJobData, type RowJobResult } from './row-job.js';

/** A worker's checkout, its queue and how it works. */
export interface RowWorkerOptions {
  readonly project: LoadedProject;
  readonly address: QueueAddress;
  /** The cache store this checkout writes to (see queueCacheUrl). */
  readonly cacheUrl: string;
  /** Rows computed at once. */
  readonly concurrency: number;
  /**
   * How long a row's job stays with this worker without a sign of life from it before another
   * worker takes it over: a worker that dies mid-row loses no more than this.
   */
  readonly stallTimeoutMs: number;
  /** Once aborted, the worker takes no new row, finishes those it has, and returns. */
  readonly signal: AbortSignal;
  /** One line for a person: the worker started, took a run's rows, refused them, stopped. */
  readonly say: (line: string) => void;
}

/** What a worker did before it stopped. */
export interface WorkerSummary {
  readonly rows: number;
  readonly refused: number;
  readonly calls: number;
}

/** How often a dead worker's rows are looked for, at most: a share of the stall timeout. */
const STALL_CHECKS_PER_TIMEOUT = 2;

/**
 * Takes row jobs from the queue and computes each one as a local build would: the same
 * checks of the project, the same flow code, the same caches (the shared store behind this
 * checkout's local one). A row's calls and its result are stored before its outcome goes back
 * to the build, so nothing paid for is lost if the build is gone. Rows of a run this checkout
 * does not fingerprint as the build did are refused, and nothing of them is written.
 *
 * Endpoint budgets (requests and tokens per minute) are counted in the queue's Redis, so all
 * the workers together keep an endpoint's limits.
 */
export async function runRowWorker(options: RowWorkerOptions): Promise<WorkerSummary> {
  const { project, address, say } = options;
  const root = project.experiment.root;
  const who = `${os.hostname()}:${process.pid}`;
  const cacheShown = redact(options.cacheUrl);
  const warn = (message: string) => say(`warning: ${message}`);

  const limiterRedis = new Redis({ ...address.redis, maxRetriesPerRequest: 2 });
  limiterRedis.on('error', () => {});
  const limiters = sharedLimiters(limiterRedis);
  const checks = new CheckoutChecks(project);
  const models = new Map<string, Promise<ChatModel>>();
  const python = new PythonWorkers({
    root,
    interpreter: pythonInterpreter(root, project.experiment.python),
    environment: (dir) =>
      flowEnvironment(project.flows[dir], project.experiment.connections, process.env),
  });

  let stores: Promise<CacheStores> | undefined;
  let caches:
    Promise<{ rows: CheckedStore<CachedRow>; calls: CallCache; freshCalls: CallCache }> | undefined;
  // Opened at the first row this checkout accepts: a worker that refuses everything writes
  // nothing, not even an empty store.
  const openCaches = () => {
    caches ??= (async () => {
      stores = openCacheStores(options.cacheUrl, root, { shared: { onUnreachable: warn } });
      const opened = await stores;
      const onCorrupt = (key: string, reason: string) =>
        warn(`cache entry ${key.slice(0, 20)}… was discarded (${reason}); computing it again`);
      const shared = opened.shared;
      const callStore = new CheckedStore<CachedCall>(
        opened.calls,
        onCorrupt,
        shared && { keyv: shared.calls, status: shared.status },
      );
      // NOTE: claims are files of this checkout: workers in other checkouts may send a request
      // this one is sending (both answers are stored; the last wins). Under --no-cache, a fresh
      // answer is reused only by the worker that got it.
      const claims = new CallClaims(root, warn);
      return {
        rows: new CheckedStore<CachedRow>(
          opened.rows,
          onCorrupt,
          shared && { keyv: shared.rows, status: shared.status },
        ),
        calls: new CallCache(callStore, { reuse: true, claims }),
        freshCalls: new CallCache(callStore, { reuse: false, claims }),
      };
    })();
    return caches;
  };

  const checkHashes = { moduleHash: (file: string) => hashProjectFile(root, file) };
  const modelsFor = async (definition: RunDefinition): Promise<Map<string, ChatModel>> => {
    const ready = new Map<string, ChatModel>();
    for (const node of definition.nodes) {
      if (node.type !== 'llm' || ready.has(node.connection)) continue;
      let model = models.get(node.connection);
      if (model === undefined) {
        const config = project.experiment.connections[node.connection];
        if (config === undefined) throw new Error(`internal error: connection ${node.connection}`);
        const { createChatModel } = await import('../models/create-chat-model.js');
        model = createChatModel(root, config, checkHashes, process.env, limiters);
        models.set(node.connection, model);
      }
      ready.set(node.connection, await model);
    }
    return ready;
  };

  const summary = { rows: 0, refused: 0, calls: 0 };
  const runsSeen = new Set<RunId>();
  const refuse = (run: RunId, reason: string): never => {
    summary.refused++;
    if (!runsSeen.has(run)) {
      runsSeen.add(run);
      say(`refused the rows of ${run}: ${reason}`);
    }
    throw new UnrecoverableError(`${REFUSED} ${who}: ${reason}`);
  };

  const compute = async (job: Job<RowJobData, RowJobResult>): Promise<RowJobResult> => {
    const data = job.data;
    if (data.cache !== cacheShown) {
      refuse(
        data.run,
        `it writes to cache ${cacheShown} and the build reads ${data.cache}; ` +
          'give both the same cache (KWGRAPH_CACHE, or cache: in experiment.yaml)',
      );
    }
    const check = await checks.check(data);
    if (!check.ok) {
      return refuse(
        data.run,
        `${check.reason}; update that worker's checkout to the build's and restart it`,
      );
    }

    let runModels: Map<string, ChatModel>;
    try {
      runModels = await modelsFor(check.fingerprinted.definition);
    } catch (error) {
      const { ConnectionSetupError } = await import('../models/create-chat-model.js');
      if (!(error instanceof ConnectionSetupError)) throw error;
      return refuse(data.run, `${error.message} on that worker's machine (${error.hint})`);
    }
    if (!runsSeen.has(data.run)) {
      runsSeen.add(data.run);
      say(`computing rows of ${data.run}`);
    }

    const opened = await openCaches();
    const calls = data.fresh ? opened.freshCalls : opened.calls;
    const { run, fingerprinted } = check;
    const runJob: RunJob = {
      run,
      definition: fingerprinted.definition,
      fingerprint: fingerprinted.fingerprint,
      fingerprintHash: fingerprinted.hash,
      reasons: [],
      // The worker computes single rows handed to it; the run's own rows are the build's.
      rows: (async function* () {})(),
      rowCount: 0,
      concurrency: options.concurrency,
    };
    const runtime: NodeRuntime = {
      root,
      flowDir: run.flow.dir,
      models: runModels,
      calls: calls.forRun(run.sample !== undefined ? { sample: run.sample } : {}),
      imageMaxSide: data.imageMaxSide,
      python,
      pythonConcurrency: options.concurrency,
      connections: project.experiment.connections,
    };

    const outcome = await computeRowHere(runJob, data.key, data.inputs, runtime);
    if (outcome.status === 'ok') {
      // Stored here too, not only by the build: a build that died meanwhile finds the row.
      await opened.rows.set(data.key, {
        outputs: outcome.outputs,
        nodes: outcome.nodes,
        calls: outcome.calls,
        ...(outcome.bypassed.length > 0 ? { bypassed: outcome.bypassed } : {}),
      });
    }
    summary.rows++;
    summary.calls += outcome.calls.filter((call) => !call.cached).length;
    return outcome;
  };

  const worker = new Worker<RowJobData, RowJobResult>(ROW_QUEUE, compute, {
    connection: { ...address.redis, maxRetriesPerRequest: null },
    prefix: address.name,
    concurrency: options.concurrency,
    lockDuration: options.stallTimeoutMs,
    stalledInterval: Math.max(500, Math.round(options.stallTimeoutMs / STALL_CHECKS_PER_TIMEOUT)),
    // A row may be taken over a few times (its workers died, or froze past the timeout)
    // before it counts as failed.
    maxStalledCount: 3,
    // Redis client names take no spaces: the build counts the workers by them.
    name: `kwgraph@${who}`.replace(/[^\w.:@-]/g, '_'),
  });
  worker.on('error', (error) => warn(`queue ${address.shown}: ${error.message}`));
  await worker.waitUntilReady();
  say(
    `worker ${who} ready: queue ${address.shown}, ${options.concurrency} rows at a time, ` +
      `cache ${cacheShown}`,
  );

  await new Promise<void>((resolve) => {
    if (options.signal.aborted) resolve();
    options.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  try {
    // Rows in hand are finished and stored; the queue keeps the rest for other workers.
    await worker.close();
  } finally {
    await python.close();
    if (stores !== undefined) await (await stores).close();
    limiterRedis.disconnect();
  }
  return summary;
}
