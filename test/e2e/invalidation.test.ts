import { readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';

import fg from 'fast-glob';
import sqlite3 from 'sqlite3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { hashValue } from '../../src/fingerprint/hash.js';
import { buildJson, runCli } from '../support/cli.js';
import {
  copyProject,
  countingProject,
  idsOf,
  modelLog,
  runOutputs,
} from '../support/counting-project.js';

interface StatusJson {
  stale: number;
  runs: { id: string; state: 'fresh' | 'stale'; reasons: string[]; causes: { kind: string }[] }[];
}

async function status(dir: string): Promise<StatusJson> {
  const result = await runCli(dir, ['status', '--json']);
  expect(result.stderr).toBe('');
  return JSON.parse(result.stdout) as StatusJson;
}

/** Runs one statement on the project's cache store; returns the rows it changed. */
function sql(dir: string, statement: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(path.join(dir, 'cache', 'kwgraph.sqlite'));
    db.run(statement, function (this: { changes: number }, error: Error | null) {
      db.close();
      if (error) reject(error);
      else resolve(this.changes);
    });
  });
}

async function edit(file: string, change: (text: string) => string): Promise<void> {
  const text = await readFile(file, 'utf8');
  const changed = change(text);
  expect(changed, `edit of ${file} changed nothing`).not.toBe(text);
  await writeFile(file, changed);
}

/**
 * No cached result is served for an input that changed; an input that did not change never
 * re-runs anything. Each case starts from a fully built counting project (10 runs).
 */
describe('what invalidates a run', () => {
  let built: { dir: string; cleanup: () => Promise<void> };
  let dir: string;
  let cleanup: () => Promise<void>;
  let calls: () => Promise<number>;

  beforeAll(async () => {
    built = await countingProject();
    await writeFile(path.join(built.dir, 'flows/ask/lookup.json'), '{ "unused": true }\n');
    const result = await runCli(built.dir, ['build']);
    expect(result.code, result.stderr).toBe(0);
  });
  afterAll(async () => built.cleanup());

  beforeEach(async () => {
    ({ dir, cleanup } = await copyProject(built.dir));
    const sent = (await modelLog(dir)).length;
    calls = async () => idsOf((await modelLog(dir)).slice(sent), 'start').length;
  });
  afterEach(async () => cleanup());

  it('nothing, when no input changed: files touched and rewritten as they were', async () => {
    const files = await fg(['**/*'], {
      cwd: dir,
      ignore: ['cache/**', 'node_modules/**', 'src/**'],
    });
    const later = new Date(Date.now() + 60_000);
    for (const file of files) {
      const absolute = path.join(dir, file);
      await writeFile(absolute, await readFile(absolute));
      await utimes(absolute, later, later);
    }
    expect((await status(dir)).stale).toBe(0);

    const { code, report } = await buildJson(dir);
    expect(code).toBe(0);
    expect(report.runs.map((run) => run.status)).toEqual(Array(10).fill('cached'));
    expect(await calls()).toBe(0);
  });

  it('a variant renamed: the new run is built (its calls come from the call cache)', async () => {
    await edit(path.join(dir, 'experiment.yaml'), (text) =>
      text.replace('variants: [a, b]', 'variants: [{ id: first, use: a }, b]'),
    );
    const result = await status(dir);
    expect(result.runs.map((run) => run.id)).not.toContain('ask@a');
    expect(result.runs.find((run) => run.id === 'ask@first')?.reasons).toEqual(['never built']);
    expect(result.stale).toBe(5);

    const { report } = await buildJson(dir);
    expect(report.runs.find((run) => run.id === 'ask@first')).toMatchObject({
      status: 'executed',
      calls: 0,
      cachedCalls: 6,
    });
    expect(await calls()).toBe(0);
  });

  it('a variant id kept but pointed at another node variant', async () => {
    await edit(path.join(dir, 'experiment.yaml'), (text) =>
      text.replace('variants: [a, b]', 'variants: [{ id: a, use: b }, b]'),
    );
    const result = await status(dir);
    expect(result.runs.find((run) => run.id === 'ask@a')?.reasons).toContain(
      'variant changed ({"ask":"a"} → {"ask":"b"})',
    );
    const { report } = await buildJson(dir);
    expect(report.runs.find((run) => run.id === 'ask@a')?.status).toBe('executed');
    // ask@a now computes what ask@b does.
    const outputs = await runOutputs(dir);
    expect(outputs['ask@a/outputs.jsonl']).toBe(outputs['ask@b/outputs.jsonl']);
  });

  it('a node removed from a flow', async () => {
    await edit(path.join(dir, 'flows/score/flow.yaml'), (text) =>
      text.replace(/ {2}- name: total[\s\S]*$/, ''),
    );
    const result = await status(dir);
    const score = result.runs.filter((run) => run.id.startsWith('score~'));
    expect(score.every((run) => run.reasons.includes('flow flows/score/flow.yaml changed'))).toBe(
      true,
    );
    expect(result.stale).toBe(4);

    const { code, report } = await buildJson(dir);
    expect(code).toBe(0);
    expect(report.runs.filter((run) => run.status === 'executed')).toHaveLength(4);
    // Without the aggregation node the runs have no metrics any more, and no stale metrics.json.
    const runs = await readdir(path.join(dir, 'cache/runs'));
    for (const run of runs.filter((name) => name.startsWith('score~'))) {
      expect(await readdir(path.join(dir, 'cache/runs', run))).not.toContain('metrics.json');
    }
  });

  it('a file in the flow folder that no node names (conservatively)', async () => {
    await writeFile(path.join(dir, 'flows/ask/lookup.json'), '{ "unused": false }\n');
    const result = await status(dir);
    expect(result.runs.find((run) => run.id === 'ask@a')?.reasons).toEqual([
      'file flows/ask/lookup.json changed',
    ]);
    expect(result.runs.find((run) => run.id === 'judge@x~ask@a')?.reasons).toEqual([
      'upstream ask@a will re-run',
    ]);
    expect(result.stale).toBe(10);

    const built = await runCli(dir, ['build']);
    expect(built.stdout).toMatch(/run\s+judge@x~ask@a\s+6 rows · upstream ask@a re-ran/);
    // Re-run, but every call is the same: nothing is paid for.
    expect(await calls()).toBe(0);
  });

  it('a build by another cache format version', async () => {
    // What a build by an older kwgraph left: the same runs, fingerprinted under format 1.
    for (const run of await readdir(path.join(dir, 'cache/runs'))) {
      const file = path.join(dir, 'cache/runs', run, 'manifest.json');
      const manifest = JSON.parse(await readFile(file, 'utf8'));
      manifest.fingerprint.version = 1;
      manifest.fingerprintHash = hashValue(manifest.fingerprint);
      await writeFile(file, JSON.stringify(manifest));
    }
    const result = await status(dir);
    expect(result.stale).toBe(10);
    expect(result.runs[0]?.reasons).toEqual(['kwgraph cache format changed (1 → 2)']);
    const { report } = await buildJson(dir);
    expect(report.runs.filter((run) => run.status === 'executed')).toHaveLength(10);
  });

  it('rows of the dataset, counted by row key', async () => {
    await edit(
      path.join(dir, 'data/items.jsonl'),
      (text) =>
        `${text.replace('"two"', '"TWO"').replace('"five"', '"5"')}{"id":"r7","text":"seven"}\n`,
    );
    const result = await status(dir);
    expect(result.runs.find((run) => run.id === 'ask@a')?.reasons).toEqual([
      '2 rows of data/items.jsonl changed, 1 row added to data/items.jsonl',
    ]);
    expect(result.runs.find((run) => run.id === 'ask@a')?.causes).toEqual([
      { kind: 'dataset-rows', file: 'data/items.jsonl', changed: 2, added: 1, removed: 0 },
    ]);

    const { code } = await buildJson(dir);
    expect(code).toBe(0);
    // 3 new rows × (2 ask + 4 judge) calls; the 4 unchanged rows cost nothing.
    expect(await calls()).toBe(18);
  });

  it('an edited outputs.jsonl, which downstream runs would read', async () => {
    await edit(path.join(dir, 'cache/runs/ask@b/outputs.jsonl'), (text) =>
      text.replace('SAY ONE', 'SAY 1'),
    );
    const result = await status(dir);
    expect(result.runs.find((run) => run.id === 'ask@b')?.reasons).toEqual([
      'its outputs.jsonl is missing or was changed',
    ]);
    const { code } = await buildJson(dir);
    expect(code).toBe(0);
    expect(await readFile(path.join(dir, 'cache/runs/ask@b/outputs.jsonl'), 'utf8')).toContain(
      'SAY ONE',
    );
    expect(await calls()).toBe(0);
  });

  it('a cache entry that fails its integrity check: discarded with a warning, recomputed', async () => {
    const before = await runOutputs(dir);
    // Flip one character of a stored answer and of a stored row result of the same row.
    expect(
      await sql(
        dir,
        "UPDATE keyv SET value = replace(value, 'REPEAT ONE', 'REPEAT 0NE') WHERE key LIKE 'calls:%' AND value LIKE '%\"content\":\"REPEAT ONE [%'",
      ),
    ).toBe(1);
    expect(
      await sql(
        dir,
        "UPDATE keyv SET value = replace(value, 'REPEAT ONE', 'REPEAT 0NE') WHERE key LIKE 'rows:%' AND value LIKE '%\"answer\":\"REPEAT ONE [%'",
      ),
    ).toBe(1);

    // Every run re-executes (their folders are gone), reading its rows from the row cache.
    await rm(path.join(dir, 'cache/runs'), { recursive: true });
    const result = await runCli(dir, ['build']);
    expect(result.code, result.stderr).toBe(0);
    const warnings = result.stdout.split('\n').filter((line) => line.startsWith('warning:'));
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(
      /cache entry (row|call):[0-9a-f]+… was discarded \(its content does not match its hash\); computing it again/,
    );
    // The row was computed again and its call sent again; nothing else.
    expect(await calls()).toBe(1);
    expect(await runOutputs(dir)).toEqual(before);
  });
});
