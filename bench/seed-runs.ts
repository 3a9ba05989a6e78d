import { readFile } from 'node:fs/promises';
import path from 'node:path';

import { loadProject } from '../src/config/load-project.js';
import { assessRun } from '../src/execute/assess-run.js';
import { BuildContext } from '../src/execute/build-context.js';
import { hashBytes, type ContentHash } from '../src/fingerprint/hash.js';
import type { UpstreamState } from '../src/execute/fingerprint-run.js';
import type { RunId } from '../src/plan/run-id.js';
import { runFolder, writeFileAtomic } from '../src/runs/run-folder.js';
import type { RunManifest } from '../src/runs/run-manifest.js';

/**
 * Materialises every run of a synthetic project as if a build had produced it, without calling
 * a model: fingerprints come from kwgraph's own planning and fingerprinting code, outputs are
 * plausible stand-ins (a description, a keyword verdict list, a score). A real build of 100,000
 * rows × 14 runs takes far longer than the whole benchmark may; the no-op and status
 * measurements only read manifests, so a seeded project measures them exactly as a built one.
 * The bench checks that the CLI then reports every run cached: a seeder that drifted from the
 * engine's format fails loudly instead of measuring the wrong thing.
 *
 * `only` limits seeding to runs of the named stages.
 */
export async function seedRuns(root: string, only?: readonly string[]): Promise<number> {
  const project = await loadProject(root, { env: { ...process.env, BENCH_API_KEY: 'bench' } });
  if (!project.ok) throw new Error(`seed: project does not load: ${project.error[0]?.message}`);
  const context = BuildContext.create(project.value, []);
  if (!context.ok) throw new Error(`seed: project does not plan: ${context.error[0]?.message}`);

  const dataset = (await readFile(path.join(root, 'data/products.jsonl'), 'utf8'))
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as { fsn: string; keywords: Record<string, string> });

  const lineage = new Map<RunId, UpstreamState>();
  let seeded = 0;
  for (const run of context.value.selected) {
    const assessed = await assessRun(context.value, run, lineage, { force: false });
    if (!assessed.ok) throw new Error(`seed: ${run.id}: ${assessed.error[0]?.message}`);
    const { fingerprint, hash } = assessed.value.run;
    if (only !== undefined && !only.includes(run.stage.name)) continue;

    const outputs = dataset.map((row, index) =>
      JSON.stringify({
        key: row.fsn,
        index,
        status: 'ok',
        outputs: stageOutputs(run.stage.name, run.id, row),
      }),
    );
    const outputsText = outputs.map((line) => `${line}\n`).join('');
    // Runs downstream are fingerprinted on this run's fingerprint and outputs.
    lineage.set(run.id, { fingerprint: hash, outputs: hashBytes(outputsText) });
    const folder = runFolder(root, run.id);
    await writeFileAtomic(path.join(folder, 'outputs.jsonl'), outputsText);
    await writeFileAtomic(path.join(folder, 'trace.jsonl'), '');
    const metrics: Record<string, number> =
      run.stage.name === 'evaluate' ? { recall_incorrect: 0.5, accuracy: 0.5 } : {};
    if (run.stage.name === 'evaluate') {
      await writeFileAtomic(path.join(folder, 'metrics.json'), `${JSON.stringify(metrics)}\n`);
    }
    const now = new Date().toISOString();
    const noTokens = { prompt: 0, completion: 0, total: 0 };
    const manifest: RunManifest = {
      id: run.id,
      stage: run.stage.name,
      variant: run.variant?.id ?? null,
      lineage: run.lineage,
      status: 'succeeded',
      fingerprint,
      fingerprintHash: hash,
      outputsHash: hashBytes(outputsText),
      rows: { total: dataset.length, ok: dataset.length, failed: 0, skipped: 0, cached: 0 },
      calls: { sent: 0, cached: 0, retries: 0 },
      tokens: noTokens,
      tokensUsed: noTokens,
      endpoints: {},
      startedAt: now,
      finishedAt: now,
      durationMs: 0,
      metrics,
      rowErrors: [],
    };
    await writeFileAtomic(
      path.join(folder, 'manifest.json'),
      `${JSON.stringify(manifest, null, 2)}\n`,
    );
    seeded++;
  }
  // What a real build leaves behind besides the run folders.
  await context.value.saveFileHashes();
  return seeded;
}

function stageOutputs(
  stage: string,
  run: string,
  row: { fsn: string; keywords: Record<string, string> },
) {
  switch (stage) {
    case 'describe':
      return { description: `A product (${row.fsn}) as ${run} describes it.` };
    case 'validate':
      return {
        answer: JSON.stringify(
          Object.keys(row.keywords).map((keyword) => ({ keyword, reason: 'seeded', result: 5 })),
        ),
      };
    default:
      return { score: null };
  }
}
