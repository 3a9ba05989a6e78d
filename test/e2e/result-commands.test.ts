import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { builtExample } from '../support/built-example.js';
import { runCli } from '../support/cli.js';

const EVALUATE_RUNS = [
  'evaluate~validate@strict_top10~describe@concise',
  'evaluate~validate@lenient_top10~describe@concise',
  'evaluate~validate@strict_top5~describe@concise',
  'evaluate~validate@strict_top10~describe@detailed',
  'evaluate~validate@lenient_top10~describe@detailed',
  'evaluate~validate@strict_top5~describe@detailed',
];

interface CompareJson {
  stage: string;
  rankedBy: string | null;
  higherIsBetter: boolean;
  columns: string[];
  runs: Record<string, string | number | boolean | null>[];
  unbuilt: { run: string; state: string; reasons: string[] }[];
  notes: string[];
}

/**
 * The commands that read a built experiment, on a built copy of the example: compare ranks the
 * evaluate runs, show traces a row through its lineage, export merges rows with their lineage.
 */
describe('compare, show and export on the built example', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const outputsOf = async (run: string) =>
    (await readFile(path.join(dir, 'cache/runs', run, 'outputs.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
  const metricsOf = async (run: string) =>
    JSON.parse(await readFile(path.join(dir, 'cache/runs', run, 'manifest.json'), 'utf8'))
      .metrics as Record<string, number>;

  beforeAll(async () => {
    ({ dir, cleanup } = await builtExample());
  });
  afterAll(async () => cleanup());

  it('compare lists the 6 evaluate runs with both variant columns and the metrics, best first', async () => {
    const result = await runCli(dir, ['compare']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    const lines = result.stdout.split('\n');
    expect(lines[0]).toBe('Runs of evaluate, best first by recall_incorrect (higher is better)');
    const header = lines.find((line) => line.startsWith('#'));
    expect(header).toMatch(/^#\s+describe\s+validate\s+recall_incorrect\s+precision_incorrect\s/);
    expect(header).toMatch(/\brows\s+failed\s+calls\s+tokens\s+run$/);

    const rows = lines.filter((line) => /evaluate~validate@/.test(line));
    expect(rows).toHaveLength(6);
    expect(rows.map((row) => row.split(/\s+/).at(-1)).sort()).toEqual([...EVALUATE_RUNS].sort());
    // Best first: the first row holds the highest recall_incorrect, marked ★.
    const recall = await Promise.all(
      rows.map(
        async (row) => (await metricsOf(row.split(/\s+/).at(-1) ?? '')).recall_incorrect ?? 0,
      ),
    );
    expect(recall).toEqual([...recall].sort((a, b) => b - a));
    expect(rows[0]).toMatch(/^★\s+(concise|detailed)\s+(strict|lenient)_top\d+\s+0\.\d{3}\s/);
    expect(rows.slice(1).every((row) => !row.startsWith('★'))).toBe(true);
  });

  it('compare --json and --csv carry the same data', async () => {
    const json = await runCli(dir, ['compare', '--json']);
    const csv = await runCli(dir, ['compare', '--csv']);
    expect(json.code).toBe(0);
    expect(csv.code).toBe(0);
    const table = JSON.parse(json.stdout) as CompareJson;
    expect(table.stage).toBe('evaluate');
    expect(table.rankedBy).toBe('recall_incorrect');
    expect(table.runs).toHaveLength(6);
    expect(table.unbuilt).toEqual([]);
    expect(table.columns.slice(0, 6)).toEqual([
      'rank',
      'best',
      'run',
      'describe',
      'validate',
      'recall_incorrect',
    ]);

    const records = parse(csv.stdout, { columns: true }) as Record<string, string>[];
    expect(Object.keys(records[0] ?? {})).toEqual(table.columns);
    expect(records).toHaveLength(table.runs.length);
    records.forEach((record, index) => {
      const run = table.runs[index] ?? {};
      for (const column of table.columns) {
        const value = run[column];
        expect(record[column], `${column} of row ${index}`).toBe(
          value === null || value === undefined ? '' : String(value),
        );
      }
    });

    // The numbers are the runs' own, and the lineage usage adds up its runs' tokens.
    const best = table.runs[0] ?? {};
    expect(best['best']).toBe(true);
    const metrics = await metricsOf(String(best['run']));
    expect(best['recall_incorrect']).toBe(metrics.recall_incorrect);
    expect(best['rows']).toBe(42);
    expect(best['calls']).toBe(84);
    const manifests = await Promise.all(
      [
        String(best['run']),
        String(best['run']).replace(/^evaluate~/, ''),
        String(best['run']).split('~').at(-1) ?? '',
      ].map(async (run) =>
        JSON.parse(await readFile(path.join(dir, 'cache/runs', run, 'manifest.json'), 'utf8')),
      ),
    );
    expect(best['tokens']).toBe(
      manifests.reduce((sum, manifest) => sum + manifest.tokensUsed.total, 0),
    );
  });

  it('compare ranks by another metric, in either direction', async () => {
    const higher = JSON.parse(
      (await runCli(dir, ['compare', '--json', '--metric', 'accuracy'])).stdout,
    ) as CompareJson;
    const lower = JSON.parse(
      (await runCli(dir, ['compare', '--json', '--metric', 'accuracy', '--better', 'lower']))
        .stdout,
    ) as CompareJson;
    const accuracy = (table: CompareJson) => table.runs.map((run) => run['accuracy'] as number);
    expect(higher.columns).toContain('accuracy');
    expect(higher.columns).not.toContain('recall_incorrect');
    expect(accuracy(higher)).toEqual([...accuracy(higher)].sort((a, b) => b - a));
    expect(accuracy(lower)).toEqual([...accuracy(lower)].sort((a, b) => a - b));
    expect(lower.higherIsBetter).toBe(false);
  });

  it('compare names an unknown metric or stage and suggests the right one', async () => {
    const metric = await runCli(dir, ['compare', '--metric', 'acuracy']);
    expect(metric.code).toBe(2);
    expect(metric.stderr).toContain(
      'no run of stage "evaluate" reports a metric `acuracy`; did you mean `accuracy`?',
    );
    const stage = await runCli(dir, ['compare', 'validat']);
    expect(stage.code).toBe(2);
    expect(stage.stderr).toContain(
      '"validat" is not a stage of this experiment; did you mean `validate`?',
    );
  });

  it('compare of a stage without metrics lists its runs unranked', async () => {
    const result = await runCli(dir, ['compare', 'validate', '--json']);
    expect(result.code).toBe(0);
    const table = JSON.parse(result.stdout) as CompareJson;
    expect(table.rankedBy).toBeNull();
    expect(table.runs).toHaveLength(6);
    expect(table.runs.every((run) => run['rank'] === null && run['best'] === false)).toBe(true);
    expect(result.stderr).toMatch(/note: the runs of validate report no `recall_incorrect`/);
  });

  it("show prints a run's manifest: lineage, fingerprint, timing, tokens, metrics", async () => {
    const run = 'evaluate~validate@strict_top5~describe@detailed';
    const result = await runCli(dir, ['show', run]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      'lineage     describe@detailed → validate@strict_top5~describe@detailed → evaluate~validate@strict_top5~describe@detailed',
    );
    expect(result.stdout).toMatch(/status\s+succeeded · current/);
    expect(result.stdout).toMatch(/rows\s+42 · 42 ok · 0 failed/);
    expect(result.stdout).toMatch(/Fingerprint [0-9a-f]{64}/);
    expect(result.stdout).toMatch(/file\s+flows\/evaluate\/score-row\.ts [0-9a-f]{12}/);
    expect(result.stdout).toMatch(/recall_incorrect\s+0\.\d{3}/);

    const json = JSON.parse((await runCli(dir, ['show', run, '--json'])).stdout);
    expect(json.state).toBe('current');
    expect(json.manifest.id).toBe(run);
    expect(json.usage.calls).toBe(0);
  });

  it('show --row traces one row: the describe answer, the validate messages and answer, the scores', async () => {
    const run = 'evaluate~validate@strict_top5~describe@detailed';
    const key = 'KWG0004';
    const describe = (await outputsOf('describe@detailed')).find((line) => line.key === key);
    const validate = (await outputsOf('validate@strict_top5~describe@detailed')).find(
      (line) => line.key === key,
    );
    const evaluate = (await outputsOf(run)).find((line) => line.key === key);
    const system = (await readFile(path.join(dir, 'flows/validate/top5.jinja2'), 'utf8'))
      .split('\n')
      .find((line) => line.startsWith('You review'));

    const json = JSON.parse((await runCli(dir, ['show', run, '--row', '3', '--json'])).stdout);
    expect(json.row.key).toBe(key);
    expect(json.steps.map((step: { run: string }) => step.run)).toEqual([
      'describe@detailed',
      'validate@strict_top5~describe@detailed',
      run,
    ]);
    const [describeStep, validateStep, evaluateStep] = json.steps;
    const describeCall = describeStep.nodes.find(
      (node: { name: string }) => node.name === 'describe',
    ).calls[0];
    expect(describeCall.stored.response.choices[0].message.content).toBe(
      describe.outputs.description,
    );
    const validateCall = validateStep.nodes.find(
      (node: { name: string }) => node.name === 'validate',
    ).calls[0];
    const messages = validateCall.stored.request.messages;
    expect(messages.map((message: { role: string }) => message.role)).toEqual(['system', 'user']);
    expect(messages[0].content).toContain(system);
    expect(messages[1].content).toContain(describe.outputs.description);
    expect(messages[1].content).toContain('- skinny jeans for women');
    expect(validateCall.stored.response.choices[0].message.content).toBe(validate.outputs.answer);
    expect(evaluateStep.outputs.score).toEqual(evaluate.outputs.score);
    expect(evaluateStep.nodes[0].output.status).toBe('scored');

    const text = await runCli(dir, ['show', run, '--where', `fsn=${key}`]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`row ${key} (index 3) of ${run}`);
    expect(text.stdout).toContain('━━ describe@detailed');
    expect(text.stdout).toContain(describe.outputs.description);
    expect(text.stdout).toContain(system);
    expect(text.stdout).toContain('    answer:');
    expect(text.stdout).toContain(validate.outputs.answer.split('\n')[1]);
    expect(text.stdout).toContain('  node score_row');
    expect(text.stdout).toContain('"recall_incorrect":');
    // The image sent to the model is summarised, not dumped.
    expect(text.stdout).toMatch(
      /\[image data:image\/png;base64,… \(\d+ chars, sha256 [0-9a-f]{16}\)/,
    );
  });

  it('show says what is wrong with a run or row it cannot find', async () => {
    const run = await runCli(dir, ['show', 'evaluate~validate@strict_top5~describe@detaled']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('did you mean `evaluate~validate@strict_top5~describe@detailed`?');
    const row = await runCli(dir, ['show', 'describe@concise', '--row', '99']);
    expect(row.code).toBe(2);
    expect(row.stderr).toContain('the run has no row with key or index "99"');
    const where = await runCli(dir, ['show', 'describe@concise', '--where', 'fsm=KWG0001']);
    expect(where.code).toBe(2);
    expect(where.stderr).toContain('no row has a data column `fsm`; did you mean `fsn`?');
  });

  it('export validate --format csv writes one line per (row, lineage)', async () => {
    const result = await runCli(dir, ['export', 'validate', '--format', 'csv']);
    expect(result.code).toBe(0);
    const records = parse(result.stdout, { columns: true }) as Record<string, string>[];
    expect(records).toHaveLength(6 * 42);
    expect(new Set(records.map((record) => `${record['run']}|${record['key']}`)).size).toBe(252);
    expect(Object.keys(records[0] ?? {})).toEqual([
      'run',
      'key',
      'index',
      'data.fsn',
      'data.row_index',
      'data.images',
      'data.grounding_attributes',
      'data.keywords',
      'describe.run',
      'describe.variant',
      'describe.status',
      'describe.error',
      'describe.description',
      'validate.run',
      'validate.variant',
      'validate.status',
      'validate.error',
      'validate.answer',
    ]);

    const record = records.find(
      (candidate) =>
        candidate['run'] === 'validate@lenient_top10~describe@detailed' &&
        candidate['key'] === 'KWG0007',
    );
    const validate = (await outputsOf('validate@lenient_top10~describe@detailed')).find(
      (line) => line.key === 'KWG0007',
    );
    const describe = (await outputsOf('describe@detailed')).find((line) => line.key === 'KWG0007');
    expect(record?.['validate.answer']).toBe(validate.outputs.answer);
    expect(record?.['describe.description']).toBe(describe.outputs.description);
    expect(record?.['describe.run']).toBe('describe@detailed');
    expect(record?.['validate.variant']).toBe('lenient_top10');
    expect(JSON.parse(record?.['data.images'] ?? '')).toEqual(['data/images/KWG0007.png']);
  });

  it('export writes JSONL to a file, whole or not at all', async () => {
    const file = path.join(dir, 'out', 'evaluate.jsonl');
    const result = await runCli(dir, ['export', 'evaluate', '-o', file]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('wrote 252 rows (6 runs of evaluate)');
    const lines = (await readFile(file, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toHaveLength(252);
    expect(lines[0]['evaluate.score'].status).toBe('scored');
    expect(typeof lines[0]['validate.answer']).toBe('string');
    expect(await readdir(path.dirname(file))).toEqual(['evaluate.jsonl']);
  });

  it('ranks by compare.metric in the direction compare.higher_is_better gives', async () => {
    const file = path.join(dir, 'experiment.yaml');
    const original = await readFile(file, 'utf8');
    await writeFile(
      file,
      original.replace(
        'metric: recall_incorrect',
        'metric: big_parse_error_ratio\n  higher_is_better: false',
      ),
    );
    try {
      const result = await runCli(dir, ['compare']);
      expect(result.code).toBe(0);
      expect(result.stdout.split('\n')[0]).toBe(
        'Runs of evaluate, best first by big_parse_error_ratio (lower is better)',
      );
      const table = JSON.parse((await runCli(dir, ['compare', '--json'])).stdout) as CompareJson;
      expect(table.higherIsBetter).toBe(false);
      const ratios = table.runs.map((run) => run['big_parse_error_ratio'] as number);
      expect(ratios).toEqual([...ratios].sort((a, b) => a - b));
      // Equal values share the best rank.
      const best = table.runs.filter((run) => run['best']);
      expect(
        best.every((run) => run['rank'] === 1 && run['big_parse_error_ratio'] === ratios[0]),
      ).toBe(true);
    } finally {
      await writeFile(file, original);
    }
  });

  it('leaves stale runs out and says so after a prompt changes', async () => {
    const template = path.join(dir, 'flows/validate/top5.jinja2');
    await writeFile(template, `${await readFile(template, 'utf8')}\nBe brief.\n`);
    const result = await runCli(dir, ['compare', '--json']);
    expect(result.code).toBe(0);
    const table = JSON.parse(result.stdout) as CompareJson;
    expect(table.runs.map((run) => run['run'])).not.toContain(
      'evaluate~validate@strict_top5~describe@concise',
    );
    expect(table.runs).toHaveLength(4);
    expect(table.unbuilt.map((entry) => entry.run).sort()).toEqual([
      'evaluate~validate@strict_top5~describe@concise',
      'evaluate~validate@strict_top5~describe@detailed',
    ]);
    expect(table.unbuilt.every((entry) => entry.state === 'stale')).toBe(true);
    expect(result.stderr).toMatch(
      /not shown \(stale\): evaluate~validate@strict_top5~describe@concise/,
    );

    const exported = await runCli(dir, ['export', 'validate']);
    expect(exported.stdout.trim().split('\n')).toHaveLength(4 * 42);
    expect(existsSync(path.join(dir, 'cache/runs/validate@strict_top5~describe@concise'))).toBe(
      true,
    );
  });
});
