import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { outputsOf, runCli, startCli, tempProject, type BuildJson } from '../support/cli.js';
import { copyProject } from '../support/counting-project.js';
import { startOpenAiTestServer, type OpenAiTestServer } from '../support/openai-test-server.js';
import { startWorker, waitFor, type StartedWorker } from '../support/queue-workers.js';
import { products, remoteProject } from '../support/remote-project.js';
import {
  countRedisKeys,
  dropRedisPrefix,
  REDIS_URL,
  uniqueName,
} from '../support/shared-stores.js';

/** How many times the server answered each distinct request (identical bodies are one). */
function answersPerRequest(server: OpenAiTestServer): Map<string, number> {
  const answers = new Map<string, number>();
  for (const request of server.requests) {
    const count = answers.get(request.callId) ?? 0;
    answers.set(request.callId, count + (request.outcome === '200' ? 1 : 0));
  }
  return answers;
}

/** A queue of its own for one test: its name prefixes every key of the queue and its cache. */
function newQueue(): { name: string; url: string } {
  const name = uniqueName('queue');
  return { name, url: `${REDIS_URL}?name=${name}` };
}

/**
 * The example on its `openai` connection, answered by the test server: a local build, then
 * builds handing their rows to worker processes, each worker in a checkout of its own (its own
 * folder and local cache), as on other machines.
 */
describe('a build on a queue, with workers', () => {
  let server: OpenAiTestServer;
  let localOutputs: Record<string, string>;
  let distinctRequests: number;
  const cleanups: (() => Promise<unknown>)[] = [];
  const env = () => ({
    OPENAI_BASE_URL: server.baseUrl(),
    OPENAI_API_KEY: 'sk-dummy-key-for-tests',
    DESCRIBE_CONNECTION: undefined,
    VALIDATE_CONNECTION: undefined,
    KWGRAPH_CACHE: undefined,
  });

  /** A fresh checkout of the example, unpaced (the test server has no quota to respect). */
  const checkout = async () => {
    const project = await tempProject();
    cleanups.push(project.cleanup);
    const file = path.join(project.dir, 'experiment.yaml');
    const experiment = await readFile(file, 'utf8');
    await writeFile(file, experiment.replace(/^ {4}limits: \{ concurrency: 8, .*\}\n/m, ''));
    return project.dir;
  };
  const workers = async (queue: string, count: number, args: string[] = []) => {
    const started: StartedWorker[] = [];
    for (let index = 0; index < count; index++) {
      const worker = startWorker(await checkout(), queue, args, env());
      cleanups.push(() => worker.stop());
      started.push(worker);
    }
    await Promise.all(started.map((worker) => worker.ready));
    return started;
  };

  beforeAll(async () => {
    server = await startOpenAiTestServer();
    const local = await checkout();
    const built = await runCli(local, ['build', '--connection', 'openai', '--quiet'], {
      env: env(),
    });
    expect(built.code, built.stderr).toBe(0);
    localOutputs = await outputsOf(local);
    distinctRequests = new Set(server.requests.map((request) => request.callId)).size;
    expect(distinctRequests).toBe(server.requests.length);
    server.clearRequests();
  });
  afterAll(async () => {
    server.release();
    for (const cleanup of cleanups.reverse()) await cleanup();
    await server.close();
  });

  it('three workers build the same outputs as a local build, each request answered once', async () => {
    const queue = newQueue();
    cleanups.push(() => dropRedisPrefix(queue.name));
    const [one, two, three] = await workers(queue.url, 3);
    const dir = await checkout();

    const build = await runCli(
      dir,
      ['build', '--connection', 'openai', '--queue', queue.url, '--json'],
      { env: env() },
    );
    expect(build.code, build.stderr).toBe(0);
    const report = JSON.parse(build.stdout) as BuildJson;
    expect(report.runs).toHaveLength(14);
    expect(report.runs.every((run) => run.status === 'executed')).toBe(true);
    expect(await outputsOf(dir)).toEqual(localOutputs);

    const answers = answersPerRequest(server);
    expect(answers.size).toBe(distinctRequests);
    expect([...answers.values()].every((count) => count === 1)).toBe(true);

    // Every worker took a share; none refused anything.
    for (const worker of [one, two, three]) {
      const stopped = await worker!.stop();
      const done = /worker stopped: (\d+) rows? computed, \d+ calls? sent, 0 rows refused/.exec(
        stopped.stdout,
      );
      expect(done, stopped.stdout + stopped.stderr).not.toBeNull();
      expect(Number(done?.[1])).toBeGreaterThan(0);
    }
    // The calls and rows are in the queue's Redis, the shared cache a queue build defaults to.
    expect(await countRedisKeys(`${queue.name}:calls:`)).toBeGreaterThanOrEqual(distinctRequests);
    expect(await countRedisKeys(`${queue.name}:rows:`)).toBeGreaterThan(0);
  });

  it('a worker killed mid-build loses nothing: its rows go to another, no request is answered twice', async () => {
    server.clearRequests();
    const queue = newQueue();
    cleanups.push(() => dropRedisPrefix(queue.name));
    const started = await workers(queue.url, 3, ['--stall-timeout', '3']);
    const victim = started[0]!;
    const dir = await checkout();

    const build = startCli(dir, ['build', '--connection', 'openai', '--queue', queue.url], {
      env: env(),
    });
    cleanups.push(async () => {
      build.child.kill('SIGKILL');
      await build.done;
    });
    await waitFor(
      () => server.requests.filter((request) => request.outcome === '200').length >= 30,
      'the first answers',
    );

    // With every answer held, each worker fills its 4 rows with requests in flight: the victim
    // dies with requests the server has not answered, and none answered but not yet stored.
    server.hold();
    await waitFor(() => server.inFlightNow() === 12, 'every worker to have 4 requests in flight');
    victim.child.kill('SIGKILL');
    const killed = await victim.done;
    expect(killed.signal).toBe('SIGKILL');
    await waitFor(() => server.inFlightNow() === 8, 'the server to see its connections close');
    server.release();

    const result = await build.done;
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('14 runs: 14 executed, 0 cached, 0 failed');
    expect(await outputsOf(dir)).toEqual(localOutputs);

    const aborted = server.requests.filter((request) => request.outcome === 'aborted');
    expect(aborted).toHaveLength(4);
    const answers = answersPerRequest(server);
    expect(answers.size).toBe(distinctRequests);
    expect([...answers.entries()].filter(([, count]) => count !== 1)).toEqual([]);
    // What the victim was asking when it died was asked again, by another worker.
    for (const request of aborted) expect(answers.get(request.callId)).toBe(1);
  });
});

describe('an endpoint limit on a queue', () => {
  let server: OpenAiTestServer;
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await server?.close();
  });

  it('60 requests a minute hold across three workers, measured at the server', async () => {
    server = await startOpenAiTestServer();
    const queue = newQueue();
    cleanups.push(() => dropRedisPrefix(queue.name));
    const project = await remoteProject({
      connections: `  remote:
    kind: openai
    base_url: ${server.baseUrl()}
    api_key_env: none
    limits: { requests_per_minute: 60 }
`,
      products: products(30),
    });
    cleanups.push(project.cleanup);
    const started: StartedWorker[] = [];
    for (let index = 0; index < 3; index++) {
      const copy = await copyProject(project.dir);
      cleanups.push(copy.cleanup);
      const worker = startWorker(copy.dir, queue.url, ['--concurrency', '4']);
      // Killed, not stopped: their rows wait for the next window of the budget.
      cleanups.push(async () => {
        worker.child.kill('SIGKILL');
        await worker.done;
      });
      started.push(worker);
    }
    await Promise.all(started.map((worker) => worker.ready));

    const build = startCli(project.dir, ['build', '--queue', queue.url]);
    cleanups.push(async () => {
      build.child.kill('SIGKILL');
      await build.done;
    });
    await waitFor(() => server.requests.length > 0, 'the first request');
    const first = server.requests[0]!.arrivedAt;
    await new Promise((resolve) => setTimeout(resolve, first + 12_000 - Date.now()));

    // The budget is counted in windows of 10 s holding a sixth of a minute's: 10 requests. Each
    // worker alone would have sent its own 10 at once. (The window opened when the first
    // request was counted, a moment before it arrived: 8 s keep clear of the next one.)
    const inFirstWindow = server.requests.filter((request) => request.arrivedAt < first + 8_000);
    expect(inFirstWindow).toHaveLength(10);
    // The next window lets the next 10 through: paced, not stopped.
    expect(server.requests.length).toBeGreaterThan(10);
    expect(server.requests.length).toBeLessThanOrEqual(20);
    expect(server.requests.every((request) => request.outcome === '200')).toBe(true);
  });
});

describe('a worker on a stale checkout', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('refuses the rows with a clear message, and writes nothing', async () => {
    const queue = newQueue();
    cleanups.push(() => dropRedisPrefix(queue.name));
    const build = await tempProject();
    const stale = await tempProject();
    cleanups.push(build.cleanup, stale.cleanup);
    const prompt = path.join(stale.dir, 'flows/describe/concise.jinja2');
    await writeFile(prompt, `${await readFile(prompt, 'utf8')}\nBe brief.\n`);

    const worker = startWorker(stale.dir, queue.url);
    cleanups.push(() => worker.stop());
    await worker.ready;
    const result = await runCli(build.dir, ['build', 'describe@concise', '--queue', queue.url]);
    expect(result.code, result.stderr).toBe(1);
    const said = result.stdout + result.stderr;
    expect(said).toContain(
      'warning: run describe@concise: refused by worker ' +
        `${(await import('node:os')).hostname()}:${worker.child.pid}: this checkout differs from ` +
        "the build's (prompt flows/describe/concise.jinja2 changed); update that worker's " +
        "checkout to the build's and restart it",
    );
    expect(said).toMatch(/failed\s+describe@concise\s+42 of 42 rows failed/);
    expect(said).not.toContain('no worker is taking rows');

    const stopped = await worker.stop();
    expect(stopped.stdout).toContain(
      "refused the rows of describe@concise: this checkout differs from the build's " +
        '(prompt flows/describe/concise.jinja2 changed)',
    );
    expect(stopped.stdout).toContain('0 rows computed, 0 calls sent, 42 rows refused');
    expect(await countRedisKeys(`${queue.name}:rows:`)).toBe(0);
    expect(await countRedisKeys(`${queue.name}:calls:`)).toBe(0);
    expect(existsSync(path.join(stale.dir, 'cache', 'kwgraph.sqlite'))).toBe(false);
  });
});

describe('a queue kwgraph cannot use', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await tempProject()));
  afterAll(async () => cleanup?.());

  it('is a usage error, for builds and workers alike', async () => {
    const scheme = await runCli(dir, ['build', '--queue', 'amqp://127.0.0.1']);
    expect(scheme.code).toBe(2);
    expect(scheme.stderr).toContain('the queue lives in Redis; use redis://host:port');
    const down = await runCli(dir, ['worker', '--queue', 'redis://127.0.0.1:1']);
    expect(down.code).toBe(2);
    expect(down.stderr).toContain(
      '--queue redis://127.0.0.1:1?name=keyword-correctness: unreachable',
    );
    const typo = await runCli(dir, ['worker', '--queue', 'redis://127.0.0.1:6379?nmae=q']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('unknown parameter `nmae`; did you mean `name`?');
    expect(existsSync(path.join(dir, 'cache'))).toBe(false);
  });
});
