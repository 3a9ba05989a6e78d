import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runCli, startCli, type StartedCli } from '../support/cli.js';
import {
  countingProject,
  ROWS,
  idsOf,
  modelLog,
  runOutputs,
  storedCallIds,
} from '../support/counting-project.js';

/** A small deterministic generator, so a failing sequence of kills can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Resolves once the model's log has `lines` lines, or the build has ended. */
async function logReaches(dir: string, lines: number, build: StartedCli): Promise<void> {
  let ended = false;
  void build.done.then(() => (ended = true));
  while (!ended && (await modelLog(dir)).length < lines) await delay(3);
}

const SLOW = { COUNTING_MODEL_MS: '60' };
/** 12 rows: 72 calls, about what 20 attempts killed a few rounds of calls in can make. */
const TWELVE_ROWS = [...ROWS, ...ROWS.map((row) => `${row} more`)];

describe('a build killed with SIGKILL at 20 random points', () => {
  let reference: { dir: string; cleanup: () => Promise<void> };
  let project: { dir: string; cleanup: () => Promise<void> };
  let expected: Record<string, string>;
  let distinct: Set<string>;

  beforeAll(async () => {
    reference = await countingProject(TWELVE_ROWS);
    project = await countingProject(TWELVE_ROWS);
    const built = await runCli(reference.dir, ['build'], { env: SLOW });
    expect(built.code, built.stderr).toBe(0);
    expected = await runOutputs(reference.dir);
    const log = await modelLog(reference.dir);
    distinct = new Set(idsOf(log, 'start'));
    // An uninterrupted build sends each distinct request once.
    expect(idsOf(log, 'done').sort()).toEqual([...distinct].sort());
  });
  afterAll(async () => {
    await reference.cleanup();
    await project.cleanup();
  });

  it('ends with outputs identical to an uninterrupted build, paying once per saved answer', async () => {
    const seed = 20_240_611;
    const next = random(seed);
    const context = `kill sequence seed ${seed}`;

    // Per attempt: the model log lines it produced, and the answers stored once it was dead.
    const attempts: { log: [string, string][]; saved: Set<string>; killed: boolean }[] = [];
    for (let attempt = 0; attempt < 20; attempt++) {
      const before = (await modelLog(project.dir)).length;
      const build = startCli(project.dir, ['build'], { env: SLOW });
      if (next() < 0.3) {
        // During start-up: loading, planning, fingerprinting, opening the store, locking.
        await Promise.race([delay(next() * 1000), logReaches(project.dir, before + 1, build)]);
      } else {
        // A few rounds of calls in: calls in flight, answered but not yet stored, rows
        // stored, runs being written, downstream runs reading them.
        await logReaches(project.dir, before + 1, build);
        await delay(next() * 300);
      }
      const killed = build.child.kill('SIGKILL');
      const ended = await build.done;
      attempts.push({
        log: (await modelLog(project.dir)).slice(before),
        saved: await storedCallIds(project.dir),
        killed: killed && ended.signal === 'SIGKILL',
      });
    }
    // The kills must have landed inside builds, not after them: each attempt is let make a
    // few rounds of calls, so the build is not over before most of the 20 kills.
    expect(attempts.filter((attempt) => attempt.killed).length, context).toBeGreaterThan(10);

    const before = (await modelLog(project.dir)).length;
    const final = await runCli(project.dir, ['build'], { env: SLOW });
    expect(final.code, `${context}\n${final.stdout}\n${final.stderr}`).toBe(0);
    attempts.push({
      log: (await modelLog(project.dir)).slice(before),
      saved: await storedCallIds(project.dir),
      killed: false,
    });

    // Outputs (and metrics) byte for byte as an uninterrupted build wrote them.
    expect(await runOutputs(project.dir), context).toEqual(expected);
    expect([...attempts.at(-1)!.saved].sort()).toEqual([...distinct].sort());

    // What "paid twice" means here. A call is paid when the model answers it ("done"). kwgraph
    // stores the answer right after; a kill can fall between the two, and then nothing
    // recorded the answer, so the next build must send the request again. That is the only
    // re-sending allowed:
    //  1. A request whose answer was stored when an attempt died is never sent again (not
    //     even started) by any later attempt.
    //  2. So every completed call is either the one whose answer was stored, or one completed
    //     in an attempt that was killed before it stored the answer.
    for (let index = 1; index < attempts.length; index++) {
      const savedBefore = attempts[index - 1]!.saved;
      const resent = idsOf(attempts[index]!.log, 'start').filter((id) => savedBefore.has(id));
      expect(resent, `${context}: attempt ${index + 1} re-sent saved calls`).toEqual([]);
    }
    let lostToKills = 0;
    for (const attempt of attempts) {
      lostToKills += idsOf(attempt.log, 'done').filter((id) => !attempt.saved.has(id)).length;
    }
    const completed = attempts.flatMap((attempt) => idsOf(attempt.log, 'done'));
    expect(completed.length, context).toBe(distinct.size + lostToKills);
    expect(new Set(completed), context).toEqual(distinct);

    // No temporary file of a killed write is left in a run folder.
    for (const run of await readdir(path.join(project.dir, 'cache', 'runs'))) {
      const files = await readdir(path.join(project.dir, 'cache', 'runs', run));
      expect(
        files.filter((file) => file.endsWith('.tmp')),
        run,
      ).toEqual([]);
    }
  });
});

describe('a build stopped with Ctrl-C or SIGTERM', () => {
  let reference: { dir: string; cleanup: () => Promise<void> };
  let expected: Record<string, string>;

  beforeAll(async () => {
    reference = await countingProject();
    expect((await runCli(reference.dir, ['build'])).code).toBe(0);
    expected = await runOutputs(reference.dir);
  });
  afterAll(async () => reference.cleanup());

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)(
    'on %s finishes the calls in flight, saves them, says so and exits %i',
    async (signal, exitCode) => {
      const { dir, cleanup } = await countingProject();
      try {
        const build = startCli(dir, ['build'], { env: { COUNTING_MODEL_MS: '150' } });
        await logReaches(dir, 3, build);
        build.child.kill(signal);
        const stopped = await build.done;
        expect(stopped.code, stopped.stderr).toBe(exitCode);
        expect(stopped.stderr).toContain('stopping: letting the calls in flight finish');
        expect(stopped.stdout).toMatch(
          /stopped: \d+ rows? and \d+ calls? saved by this build, \d+ of 10 runs done; `kwgraph build` resumes from there/,
        );

        // Every call that had started was let finish, and its answer was stored.
        const log = await modelLog(dir);
        const started = idsOf(log, 'start');
        expect(idsOf(log, 'done').sort()).toEqual([...started].sort());
        const saved = await storedCallIds(dir);
        expect([...saved].sort()).toEqual([...new Set(started)].sort());

        // The runs cut short are stale, and say so.
        const status = await runCli(dir, ['status']);
        expect(status.stdout).toMatch(/stale\s+ask@a\s+its last build did not finish/);

        // The next build sends none of them again and ends as an uninterrupted build does.
        const resumed = await runCli(dir, ['build']);
        expect(resumed.code).toBe(0);
        const again = idsOf((await modelLog(dir)).slice(log.length), 'start');
        expect(again.filter((id) => saved.has(id))).toEqual([]);
        expect(await runOutputs(dir)).toEqual(expected);
      } finally {
        await cleanup();
      }
    },
  );

  it('quits at once on a second Ctrl-C, and the next build still ends identical', async () => {
    const { dir, cleanup } = await countingProject();
    try {
      const build = startCli(dir, ['build'], { env: { COUNTING_MODEL_MS: '400' } });
      await logReaches(dir, 2, build);
      build.child.kill('SIGINT');
      let ended = false;
      void build.done.then(() => (ended = true));
      while (!ended && !build.output().stderr.includes('stopping')) await delay(5);
      build.child.kill('SIGINT');
      const stopped = await build.done;
      expect(stopped.code).toBe(130);
      expect(stopped.stderr).toContain('quitting now');

      const resumed = await runCli(dir, ['build']);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(await runOutputs(dir)).toEqual(expected);
    } finally {
      await cleanup();
    }
  });
});
