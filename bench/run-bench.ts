import { readFile, rm, appendFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { expectExit, bestOf, runCliMeasured, type ProcessMeasurement } from './measure-process.js';
import { createPlanningProject } from './planning-project.js';
import { writeResults, formatTable, type Metric } from './results.js';
import { seedRuns } from './seed-runs.js';
import { StubOpenAiServer } from './stub-openai-server.js';
import { createSyntheticProject, REPO_ROOT } from './synthetic-project.js';

/**
 * `npm run bench`: builds synthetic versions of the example experiment at several sizes against
 * a local OpenAI-compatible server and measures what a user waits for. `--quick` runs smaller
 * sizes (for a check that the bench works, not for numbers); `--keep` keeps the generated
 * projects for profiling. Prints a table and, for a full run, writes bench/RESULTS.md.
 */
const args = new Set(process.argv.slice(2));
const quick = args.has('--quick');
const keep = args.has('--keep');

const SIZES = quick ? [1_000, 10_000] : [1_000, 10_000, 100_000];
const THROUGHPUT_ROWS = quick ? 1_000 : 2_000;
const INCREMENTAL_ROWS = quick ? 1_000 : 10_000;
const MEMORY_ROWS = quick ? 10_000 : 100_000;
const LATENCY_MS = 200;
const CONCURRENCY = 64;
/** Up to this many rows, every product has its own image; larger projects have none. */
const MAX_ROWS_WITH_IMAGES = 10_000;

const metrics: Metric[] = [];
const notes: string[] = [];
const projects: string[] = [];
const started = performance.now();
const loadAtStart = os.loadavg()[0] ?? 0;

const log = (line: string) =>
  process.stderr.write(`[bench ${seconds(performance.now() - started)}] ${line}\n`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
const ms = (value: number) => (value < 10_000 ? `${Math.round(value)} ms` : seconds(value));

/**
 * Files hashed within 2 s of their last write are hashed again by the next build (the stat
 * cache's guard against same-tick edits). A user's data is older than that; the bench's data,
 * generated a moment ago, is made to be too by waiting.
 */
const agePastRacyWindow = () => new Promise((resolve) => setTimeout(resolve, 2_100));

/** Runs one measurement; a failure is recorded as a failed metric and the bench goes on. */
async function step(name: string, body: () => Promise<void>): Promise<void> {
  log(name);
  try {
    await body();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    metrics.push({ name, value: 'error', target: '', pass: false });
    notes.push(`${name}: ${message.split('\n').slice(0, 6).join(' / ')}`);
    log(`  failed: ${message.slice(0, 2000)}`);
  }
}

interface BuildJson {
  ok: boolean;
  durationMs: number;
  runs: { id: string; status: string; rows: number; calls: number }[];
}

function parseBuild(result: ProcessMeasurement, what: string): BuildJson {
  expectExit(result, 0, what);
  return JSON.parse(result.stdout) as BuildJson;
}

function expectAllCached(report: BuildJson, what: string): void {
  const notCached = report.runs.filter((run) => run.status !== 'cached');
  if (notCached.length > 0 || report.runs.length !== 14) {
    throw new Error(
      `${what}: expected 14 cached runs, got ${report.runs.length} runs, not cached: ${notCached.map((run) => run.id).join(', ')}`,
    );
  }
}

const server = await StubOpenAiServer.start();
const noop = new Map<number, ProcessMeasurement>();

try {
  await step('startup: kwgraph --help', async () => {
    const result = await bestOf(5, () => runCliMeasured(REPO_ROOT, ['--help']));
    expectExit(result, 0, '--help');
    metrics.push({
      name: 'startup (`kwgraph --help`)',
      value: `${ms(result.wallMs)} (CPU ${ms(result.cpuMs)})`,
      target: '',
      pass: undefined,
    });
  });

  await step('planning: 20 stages × 10 variants', async () => {
    const { dir, runs } = await createPlanningProject();
    projects.push(dir);
    const result = await bestOf(3, () => runCliMeasured(dir, ['graph', '--format', 'json']));
    expectExit(result, 0, 'graph --format json');
    const graph = JSON.parse(result.stdout) as { runs: unknown[] };
    if (graph.runs.length !== runs)
      throw new Error(`expected ${runs} runs, graph has ${graph.runs.length}`);
    metrics.push({
      name: `planning: \`graph --format json\`, 20 stages × 10 variants (${runs.toLocaleString('en-US')} runs)`,
      value: `${ms(result.wallMs)} (CPU ${ms(result.cpuMs)})`,
      target: '< 2 s',
      pass: result.wallMs < 2000,
    });
    const status = await runCliMeasured(dir, ['status', '--json']);
    expectExit(status, 0, 'status of the planning project');
    metrics.push({
      name: `planning: \`status\` of ${runs.toLocaleString('en-US')} runs, none built`,
      value: `${ms(status.wallMs)} (CPU ${ms(status.cpuMs)})`,
      target: '',
      pass: undefined,
    });
  });

  for (const rows of SIZES) {
    const images = rows <= MAX_ROWS_WITH_IMAGES;
    const label = `N = ${rows.toLocaleString('en-US')}${images ? '' : ', no images'}`;
    let dir = '';
    await step(`${label}: generate${rows > 1_000 ? ' and seed' : ' and cold build'}`, async () => {
      server.latencyMs = 0;
      dir = await createSyntheticProject({
        rows,
        images,
        baseUrl: server.baseUrl,
        concurrency: CONCURRENCY,
      });
      projects.push(dir);
      await agePastRacyWindow();
      if (rows > 1_000) {
        // A real cold build at this size takes longer than the whole bench may; see seed-runs.ts.
        await seedRuns(dir);
        return;
      }
      const cold = await runCliMeasured(dir, ['build', '--json']);
      const report = parseBuild(cold, 'cold build');
      const executions = report.runs.reduce((sum, run) => sum + run.rows, 0);
      metrics.push({
        name: `cold build, all 14 runs (${label}, ${executions.toLocaleString('en-US')} row executions, latency 0)`,
        value: `${seconds(cold.wallMs)}, ${(cold.cpuMs / executions).toFixed(2)} ms CPU per row execution, peak RSS ${Math.round(cold.peakRssMb)} MB`,
        target: '',
        pass: undefined,
      });
    });
    if (dir === '') continue;

    await step(`${label}: no-op build`, async () => {
      const result = await bestOf(3, () => runCliMeasured(dir, ['build', '--json']));
      expectAllCached(parseBuild(result, 'no-op build'), 'no-op build');
      noop.set(rows, result);
      metrics.push({
        name: `no-op build, 14 runs cached (${label})`,
        value: `${ms(result.wallMs)} (CPU ${ms(result.cpuMs)}, RSS ${Math.round(result.peakRssMb)} MB)`,
        target: rows === 10_000 ? '< 1.5 s' : '',
        pass: rows === 10_000 ? result.wallMs < 1500 : undefined,
      });
    });

    if (rows === 10_000) {
      await step(`${label}: status`, async () => {
        const result = await bestOf(3, () => runCliMeasured(dir, ['status', '--json']));
        expectExit(result, 0, 'status');
        const status = JSON.parse(result.stdout) as { stale: number };
        if (status.stale !== 0) throw new Error(`status: ${status.stale} runs stale, expected 0`);
        metrics.push({
          name: `\`kwgraph status\` (${label})`,
          value: `${ms(result.wallMs)} (CPU ${ms(result.cpuMs)})`,
          target: '< 1 s',
          pass: result.wallMs < 1000,
        });
      });
    }

    if (rows === INCREMENTAL_ROWS) {
      await step(`${label}: incremental build after editing one validate prompt`, async () => {
        await appendFile(path.join(dir, 'flows/validate/top5.jinja2'), '\nAnswer carefully.\n');
        server.latencyMs = LATENCY_MS;
        server.resetCounters();
        const result = await runCliMeasured(dir, ['build', '--json']);
        server.latencyMs = 0;
        const report = parseBuild(result, 'incremental build');
        const executed = report.runs.filter((run) => run.status === 'executed').length;
        const calls = report.runs.reduce((sum, run) => sum + run.calls, 0);
        if (executed !== 4 || calls !== 2 * rows) {
          throw new Error(
            `expected 4 runs executed and ${2 * rows} calls, got ${executed} and ${calls}`,
          );
        }
        // The two validate runs of the edited variant run side by side, each `CONCURRENCY` rows
        // at a time: waiting for their calls takes rows / CONCURRENCY × latency at best.
        const ideal = (rows / CONCURRENCY) * LATENCY_MS;
        const share = ideal / result.wallMs;
        metrics.push({
          name: `incremental build after editing one validate prompt (${label}; ${calls.toLocaleString('en-US')} calls at ${LATENCY_MS} ms, concurrency ${CONCURRENCY})`,
          value: `${seconds(result.wallMs)}: waiting on calls (ideal ${seconds(ideal)}) is ${(share * 100).toFixed(0)} % of it; CPU ${seconds(result.cpuMs)}; server peak ${server.peakInFlight} in flight`,
          target: '≥ 85 % waiting on calls',
          pass: share >= 0.85,
        });
      });
    }

    if (rows === MEMORY_ROWS) {
      await step(`${label}: cold build of one evaluate run (memory)`, async () => {
        const run = 'evaluate~validate@strict_top10~describe@concise';
        await rm(path.join(dir, 'cache/runs', run), { recursive: true, force: true });
        const result = await runCliMeasured(dir, ['build', '--json', run]);
        const report = parseBuild(result, 'cold build of one evaluate run');
        const executed = report.runs.filter((candidate) => candidate.status === 'executed');
        if (executed.length !== 1)
          throw new Error(`expected 1 run executed, got ${executed.length}`);
        metrics.push({
          name: `peak RSS, cold build of one evaluate run (${label}: reads ${rows.toLocaleString('en-US')} dataset rows and upstream outputs, scores and aggregates them)`,
          value: `${Math.round(result.peakRssMb)} MB (${seconds(result.wallMs)}, ${((result.cpuMs / rows) * 1000).toFixed(0)} µs CPU per row)`,
          target: '< 400 MB',
          pass: result.peakRssMb < 400,
        });
      });
    }
  }

  const [small, middle, large] = SIZES.map((rows) => noop.get(rows)?.wallMs);
  if (small !== undefined && middle !== undefined) {
    const growth = (from: number, to: number) => to / from;
    const pairs: [number, number, number, number][] = [
      [SIZES[0] ?? 0, SIZES[1] ?? 0, small, middle],
    ];
    if (large !== undefined) pairs.push([SIZES[1] ?? 0, SIZES[2] ?? 0, middle, large]);
    for (const [fromRows, toRows, from, to] of pairs) {
      const linear = toRows / fromRows;
      metrics.push({
        name: `no-op build growth, ${fromRows.toLocaleString('en-US')} → ${toRows.toLocaleString('en-US')} rows`,
        value: `× ${growth(from, to).toFixed(2)}`,
        target: `≤ × ${linear} (linear)`,
        pass: growth(from, to) <= linear,
      });
    }
  }

  await step(
    `throughput: cold build of one describe run, ${THROUGHPUT_ROWS.toLocaleString('en-US')} rows`,
    async () => {
      server.latencyMs = 0;
      const dir = await createSyntheticProject({
        rows: THROUGHPUT_ROWS,
        images: true,
        baseUrl: server.baseUrl,
        concurrency: CONCURRENCY,
      });
      projects.push(dir);
      await agePastRacyWindow();
      server.latencyMs = LATENCY_MS;
      server.resetCounters();
      const run = 'describe@concise';
      const result = await runCliMeasured(dir, [
        'build',
        '--json',
        '--concurrency',
        String(CONCURRENCY),
        run,
      ]);
      server.latencyMs = 0;
      parseBuild(result, 'throughput build');
      const manifest = JSON.parse(
        await readFile(path.join(dir, 'cache/runs', run, 'manifest.json'), 'utf8'),
      ) as {
        durationMs: number;
      };
      const rate = THROUGHPUT_ROWS / (manifest.durationMs / 1000);
      const ideal = CONCURRENCY / (LATENCY_MS / 1000);
      metrics.push({
        name: `throughput: one describe run, ${THROUGHPUT_ROWS.toLocaleString('en-US')} rows, latency ${LATENCY_MS} ms, concurrency ${CONCURRENCY}`,
        value: `${rate.toFixed(0)} rows/s = ${((rate / ideal) * 100).toFixed(0)} % of ${ideal} (run ${seconds(manifest.durationMs)}, process ${seconds(result.wallMs)}; server peak ${server.peakInFlight} in flight)`,
        target: '≥ 90 %',
        pass: rate / ideal >= 0.9,
      });
      metrics.push({
        name: 'throughput: kwgraph CPU per row (whole process, startup included)',
        value: `${(result.cpuMs / THROUGHPUT_ROWS).toFixed(2)} ms`,
        target: '< 1 ms',
        pass: result.cpuMs / THROUGHPUT_ROWS < 1,
      });
    },
  );
} finally {
  await server.close();
  if (!keep) await Promise.all(projects.map((dir) => rm(dir, { recursive: true, force: true })));
  else notes.push(`projects kept: ${projects.join(' ')}`);
}

const total = performance.now() - started;
const loadAtEnd = os.loadavg()[0] ?? 0;
const cpus = os.availableParallelism();
if (Math.max(loadAtStart, loadAtEnd) > cpus) {
  notes.push(
    `the machine was busy with other work (load average ${loadAtStart.toFixed(1)} at the start, ` +
      `${loadAtEnd.toFixed(1)} at the end, on ${cpus} CPUs): wall times are inflated, CPU times less so`,
  );
}
process.stdout.write(`\n${formatTable(metrics)}\n`);
for (const note of notes) process.stdout.write(`note: ${note}\n`);
process.stdout.write(`\nbench took ${seconds(total)}${quick ? ' (--quick)' : ''}\n`);

if (!quick) {
  await writeResults(path.join(REPO_ROOT, 'bench/RESULTS.md'), metrics, notes, {
    durationMs: total,
    machine: {
      cpus,
      load: [loadAtStart, loadAtEnd],
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      memoryGb: os.totalmem() / 1024 ** 3,
      node: process.version,
      platform: `${os.type()} ${os.release()}`,
    },
  });
  process.stdout.write('wrote bench/RESULTS.md\n');
}
process.exitCode = metrics.some((metric) => metric.pass === false) ? 1 : 0;
