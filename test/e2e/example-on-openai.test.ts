import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runCli, tempProject } from '../support/cli.js';
import { startOpenAiTestServer, type OpenAiTestServer } from '../support/openai-test-server.js';

/**
 * The example experiment on its `openai` connection, with OPENAI_BASE_URL pointing at a test
 * server that answers like the offline baseline: per stage through DESCRIBE_CONNECTION, then
 * wholly through `--connection openai` and KWGRAPH_CONNECTION.
 */
describe('the example on an openai connection', () => {
  let server: OpenAiTestServer;
  let dir: string;
  let cleanup: () => Promise<void>;
  let rows: number;

  beforeAll(async () => {
    server = await startOpenAiTestServer();
    ({ dir, cleanup } = await tempProject());
    // The example paces the openai connection for OpenAI's first usage tier (200,000 tokens a
    // minute: minutes for this build); the test server has no limits to respect.
    const file = path.join(dir, 'experiment.yaml');
    const experiment = await readFile(file, 'utf8');
    const unpaced = experiment.replace(/^ {4}limits: \{ concurrency: 8, .*\}\n/m, '');
    expect(unpaced).not.toBe(experiment);
    await writeFile(file, unpaced);
    const data = await readFile(path.join(dir, 'data/products.jsonl'), 'utf8');
    rows = data.split('\n').filter((line) => line.trim() !== '').length;
  });
  afterAll(async () => {
    await cleanup();
    await server.close();
  });

  const cli = (args: string[], env: Record<string, string | undefined> = {}) =>
    runCli(dir, args, {
      env: {
        OPENAI_BASE_URL: server.baseUrl(),
        OPENAI_API_KEY: 'sk-dummy-key-for-tests',
        DESCRIBE_CONNECTION: undefined,
        VALIDATE_CONNECTION: undefined,
        ...env,
      },
    });

  it('runs the vision stage on openai with DESCRIBE_CONNECTION=openai', async () => {
    const result = await cli(['build'], { DESCRIBE_CONNECTION: 'openai' });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/14 runs: 14 executed, 0 cached, 0 failed/);

    // One request per product and describe variant; validate ran on the offline baseline.
    expect(server.requests).toHaveLength(2 * rows);
    for (const request of server.requests) {
      expect(request.model).toBe('gpt-4o-mini');
      expect(request.images).toHaveLength(1);
      expect(request.images[0]?.detail).toBe('low');
      expect(request.images[0]?.url).toMatch(/^data:image\/png;base64,/);
    }
    expect(result.stdout).toMatch(/done\s+describe@concise\s.*tokens · ~\$/);
  });

  it('builds end to end on openai with --connection openai, sending only the new calls', async () => {
    server.clearRequests();
    const result = await cli(['build', '--connection', 'openai']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/14 runs: 12 executed, 2 cached, 0 failed/);

    // The describe runs were already built on openai; the validate runs change connection (and
    // the evaluate runs follow them, with no calls).
    expect(server.requests).toHaveLength(3 * 2 * rows);
    expect(server.requests.every((request) => request.images.length === 0)).toBe(true);
    expect(result.stdout).toMatch(
      /run\s+validate@strict_top5~describe@concise\s.*setting validate\.connection "baseline" → "openai"/,
    );
    const metrics = result.stdout
      .split('\n')
      .filter((line) => /^\s+evaluate~\S+\s+recall_incorrect \d/.test(line));
    expect(metrics).toHaveLength(6);
  });

  it('takes the same choice from KWGRAPH_CONNECTION, and status agrees', async () => {
    server.clearRequests();
    const again = await cli(['build'], { KWGRAPH_CONNECTION: 'openai' });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/14 runs: 0 executed, 14 cached, 0 failed/);
    expect(server.requests).toHaveLength(0);

    const fresh = await cli(['status', '--connection', 'openai']);
    expect(fresh.stdout).not.toMatch(/^stale/m);
    const stale = await cli(['status']);
    expect(stale.stdout).toMatch(
      /stale\s+describe@concise\s+setting describe\.connection "openai" → "baseline"/,
    );
  });
});
