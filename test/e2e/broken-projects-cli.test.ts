import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { runCli } from '../support/cli.js';

/**
 * Broken projects of test/fixtures/broken (test/config/broken-projects.test.ts checks every
 * message) through the real CLI: `kwgraph build` exits 2, prints each problem as
 * `file:line:col error: …`, shows no stack trace, and leaves nothing behind (no cache/
 * folder), since nothing was built.
 *
 * A CLI start costs most of a second, so by default one case of each phase that can fail is
 * run; `KWGRAPH_BROKEN_CLI=all npx vitest run test/e2e/broken-projects-cli.test.ts` runs the
 * whole corpus.
 */
const BROKEN = fileURLToPath(new URL('../fixtures/broken/', import.meta.url));
const ONE_OF_EACH_PHASE = [
  'yaml-syntax-error', // parsing experiment.yaml
  'yaml-syntax-error-in-flow', // parsing a flow
  'missing-env-var', // ${NAME} interpolation
  'unknown-key-top-level', // the schema, with "did you mean"
  'wrong-type-integer', // the schema: types
  'flow-input-not-mapped', // flow ↔ stage checks
  'stage-cycle', // the stage graph
  'unknown-node-reference', // references inside a flow
  'template-syntax-error', // templates
  'code-module-escaping-root', // paths leaving the project
  'missing-dataset-file', // files named by the experiment
  'bad-jsonl-line', // reading the dataset, when the build starts
  'csv-unclosed-quote', // reading a CSV dataset
];
const all = readdirSync(BROKEN, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();
const cases = process.env['KWGRAPH_BROKEN_CLI'] === 'all' ? all : ONE_OF_EACH_PHASE;

function expectedLocations(name: string): string[] {
  return readFileSync(path.join(BROKEN, name, 'expected.txt'), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    .map((line) => line.slice(0, line.indexOf(' ')));
}

describe.concurrent('broken projects through the CLI', () => {
  it('samples cases that exist', () => {
    for (const name of ONE_OF_EACH_PHASE) expect(all).toContain(name);
  });

  it.each(cases)('%s exits 2 with file:line:col and writes nothing', async (name) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kwgraph-broken-'));
    try {
      await cp(path.join(BROKEN, name), dir, { recursive: true });
      const result = await runCli(dir, ['build'], { env: { EXPERIMENT_NAME: undefined } });

      expect(result.code, result.stderr).toBe(2);
      for (const location of expectedLocations(name)) {
        expect(result.stderr).toContain(location === '-' ? 'error: ' : `${location} error: `);
      }
      expect(result.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
      expect(result.stderr).not.toContain('internal error');
      expect(result.stdout).toBe('');
      expect(existsSync(path.join(dir, 'cache'))).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
