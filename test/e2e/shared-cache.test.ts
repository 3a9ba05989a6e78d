import { existsSync } from 'node:fs';
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { buildJson, outputsOf, runCli, sum, tempProject } from '../support/cli.js';
import {
  dropRedisPrefix,
  postgresQuery,
  POSTGRES_URL,
  REDIS_URL,
  uniqueName,
} from '../support/shared-stores.js';

/** Every run's fingerprint, by run id: the same in every clone, wherever it is. */
async function fingerprintsOf(dir: string): Promise<Record<string, string>> {
  const runs = path.join(dir, 'cache', 'runs');
  const fingerprints: Record<string, string> = {};
  for (const id of await readdir(runs)) {
    const manifest = JSON.parse(await readFile(path.join(runs, id, 'manifest.json'), 'utf8'));
    fingerprints[id] = (manifest as { fingerprintHash: string }).fingerprintHash;
  }
  return fingerprints;
}

/** What `show --json` found stored for each call of the row, in order. */
function storedCalls(json: string): unknown[] {
  const trace = JSON.parse(json) as { steps: { nodes: { calls: { stored?: unknown }[] }[] }[] };
  return trace.steps.flatMap((step) =>
    step.nodes.flatMap((node) => node.calls.map((call) => call.stored)),
  );
}

/**
 * Two clones of the example (two folders, two absolute paths, two local caches) sharing one
 * team store: the second clone's build is every run re-executed from shared rows, 0 calls.
 */
describe.each([
  {
    store: 'Redis',
    // Chosen per checkout, through the environment.
    setup: async () => {
      const prefix = uniqueName('e2e');
      return {
        env: { KWGRAPH_CACHE: `${REDIS_URL}?prefix=${prefix}` },
        yaml: undefined,
        cleanup: () => dropRedisPrefix(prefix),
      };
    },
  },
  {
    store: 'PostgreSQL',
    // Chosen for the whole team, in experiment.yaml.
    setup: async () => {
      const table = uniqueName('e2e');
      return {
        env: {},
        yaml: `cache: ${POSTGRES_URL}?table=${table}\n`,
        cleanup: async () => {
          await postgresQuery(`DROP TABLE IF EXISTS ${table}`);
        },
      };
    },
  },
])('two clones sharing a $store cache', ({ setup }) => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('the second clone builds every run with 0 calls and identical outputs', async () => {
    const shared = await setup();
    cleanups.push(shared.cleanup);
    const clones = [await tempProject(), await tempProject()];
    for (const clone of clones) {
      cleanups.push(clone.cleanup);
      if (shared.yaml !== undefined) {
        const file = path.join(clone.dir, 'experiment.yaml');
        await writeFile(file, `${await readFile(file, 'utf8')}\n${shared.yaml}`);
      }
    }
    const [first, second] = clones as [(typeof clones)[0], (typeof clones)[0]];

    const one = await runCli(first.dir, ['build', '--json'], { env: shared.env });
    expect(one.code, one.stderr).toBe(0);
    const built = JSON.parse(one.stdout) as Awaited<ReturnType<typeof buildJson>>['report'];
    expect(sum(built.runs, 'calls')).toBeGreaterThan(0);
    expect(one.stderr).not.toContain('unreachable');

    const two = await runCli(second.dir, ['build', '--json'], { env: shared.env });
    expect(two.code, two.stderr).toBe(0);
    const rebuilt = JSON.parse(two.stdout) as typeof built;
    expect(rebuilt.runs).toHaveLength(built.runs.length);
    expect(rebuilt.runs.every((run) => run.status === 'executed')).toBe(true);
    expect(sum(rebuilt.runs, 'calls')).toBe(0);
    expect(rebuilt.runs.every((run) => run.rowsCached === run.rows)).toBe(true);
    expect(await outputsOf(second.dir)).toEqual(await outputsOf(first.dir));
    expect(second.dir).not.toBe(first.dir);
    expect(await fingerprintsOf(second.dir)).toEqual(await fingerprintsOf(first.dir));

    // `show` finds the calls behind a row the second clone took from the team store.
    const show = ['show', 'validate@strict_top5~describe@concise', '--row', 'KWG0001', '--json'];
    const shownHere = await runCli(second.dir, show, { env: shared.env });
    expect(shownHere.code, shownHere.stderr).toBe(0);
    const storedHere = storedCalls(shownHere.stdout);
    expect(storedHere.length).toBeGreaterThan(0);
    expect(storedHere.every((stored) => stored !== undefined)).toBe(true);
    expect(storedHere).toEqual(storedCalls((await runCli(first.dir, show)).stdout));

    // The rows the second clone read from the team store are now in its own local cache: with
    // its runs gone and the team store unreachable, every run is rebuilt from that alone.
    await rm(path.join(second.dir, 'cache/runs'), { recursive: true });
    const offline = await runCli(second.dir, ['build', '--json'], {
      env: { KWGRAPH_CACHE: 'redis://127.0.0.1:1' },
    });
    expect(offline.code, offline.stderr).toBe(0);
    const local = JSON.parse(offline.stdout) as typeof built;
    expect(sum(local.runs, 'calls')).toBe(0);
    expect(local.runs.every((run) => run.rowsCached === run.rows)).toBe(true);
  });
});

describe('an unreachable shared store', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  afterAll(async () => cleanup?.());

  it('is reported once and the build completes on the local cache', async () => {
    ({ dir, cleanup } = await tempProject());
    const result = await runCli(dir, ['build'], {
      env: { KWGRAPH_CACHE: 'redis://127.0.0.1:1' },
    });
    expect(result.code, result.stderr).toBe(0);
    const output = result.stdout + result.stderr;
    const warnings = output.split('\n').filter((line) => line.includes('unreachable'));
    expect(warnings).toEqual([
      'warning: shared cache redis://127.0.0.1:1 unreachable (connect ECONNREFUSED 127.0.0.1:1); ' +
        'continuing on the local cache',
    ]);
    expect(output).toContain('14 runs: 14 executed');

    // Everything it computed is in the local layer: the next build, still offline, is fresh.
    const again = await buildJson(dir);
    expect(again.code).toBe(0);
    expect(again.report.runs.every((run) => run.status === 'cached')).toBe(true);
  });
});

describe('a cache URL kwgraph cannot use', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  afterAll(async () => cleanup?.());

  it('is a configuration error naming experiment.yaml, and nothing is written', async () => {
    ({ dir, cleanup } = await tempProject());
    const file = path.join(dir, 'experiment.yaml');
    const text = await readFile(file, 'utf8');
    await writeFile(file, `${text}\ncache: memcached://127.0.0.1:11211\n`);
    const line = text.split('\n').length + 1;
    const result = await runCli(dir, ['build']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`experiment.yaml:${line}:`);
    expect(result.stderr).toContain('cache store "memcached://127.0.0.1:11211" is not supported');
    expect(existsSync(path.join(dir, 'cache'))).toBe(false);
  });

  it('is a configuration error in KWGRAPH_CACHE too', async () => {
    const file = path.join(dir, 'experiment.yaml');
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace(/\ncache: .*\n/, '\n'));
    const result = await runCli(dir, ['build'], { env: { KWGRAPH_CACHE: 'ftp://x' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('KWGRAPH_CACHE: cache store "ftp://x" is not supported');
    const status = await runCli(dir, ['status'], {
      env: { KWGRAPH_CACHE: 'redis://127.0.0.1:6379?tabel=x' },
    });
    expect(status.code).toBe(2);
    expect(status.stderr).toContain('unknown parameter `tabel`; only `prefix` is read');
    expect(existsSync(path.join(dir, 'cache'))).toBe(false);
  });
});
