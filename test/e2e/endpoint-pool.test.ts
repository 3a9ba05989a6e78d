import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runCli } from '../support/cli.js';
import { startOpenAiTestServer, type OpenAiTestServer } from '../support/openai-test-server.js';
import { products, readManifest, remoteProject } from '../support/remote-project.js';

/**
 * A connection with three endpoints (three path prefixes of one test server): calls are spread
 * over all of them within each endpoint's limits, and an endpoint that answers 429 is paused
 * without holding the others back.
 */

const KEY = 'sk-pool-test-0123456789abcdef';
const ENDPOINTS = ['east', 'west', 'north'];

let server: OpenAiTestServer;
beforeAll(async () => {
  server = await startOpenAiTestServer();
});
afterAll(async () => server.close());

function pool(balance: 'least_busy' | 'round_robin'): string {
  return `  remote:
    kind: openai
    api_key_env: TEST_API_KEY
    balance: ${balance}
    backoff_seconds: 0.05
    limits: { concurrency: 2 }
    endpoints:
${ENDPOINTS.map((name) => `      - { name: ${name}, base_url: ${server.baseUrl(name)} }`).join('\n')}`;
}

async function build(dir: string) {
  const result = await runCli(dir, ['build'], { env: { TEST_API_KEY: KEY } });
  expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
  return result;
}

describe('a connection with three endpoints', () => {
  it.each(['least_busy', 'round_robin'] as const)(
    'spreads calls over all three (%s), each within its concurrency limit',
    async (balance) => {
      const { dir, cleanup } = await remoteProject({
        connections: pool(balance),
        products: products(12),
        concurrency: 12,
      });
      try {
        server.clearRequests();
        // Slow answers keep requests in flight long enough for the limits to matter.
        server.inject({ kind: 'slow', delayMs: 150 }, { times: Infinity });
        await build(dir);

        const byEndpoint = countBy(server.requests.map((request) => request.endpoint));
        expect(Object.keys(byEndpoint).sort()).toEqual([...ENDPOINTS].sort());
        expect(Object.values(byEndpoint).reduce((sum, count) => sum + count, 0)).toBe(12);
        for (const name of ENDPOINTS) expect(server.maxInFlight(name), name).toBeLessThanOrEqual(2);

        const manifest = await readManifest(dir, 'describe');
        const endpoints = manifest['endpoints'] as Record<string, { calls: number }>;
        expect(Object.fromEntries(Object.entries(endpoints).map(([n, e]) => [n, e.calls]))).toEqual(
          byEndpoint,
        );
      } finally {
        server.clearFaults();
        await cleanup();
      }
    },
  );

  it('keeps the other two going while one answers every request with 429', async () => {
    const { dir, cleanup } = await remoteProject({
      connections: pool('least_busy'),
      products: products(12),
      concurrency: 12,
    });
    try {
      server.clearRequests();
      server.inject(
        { kind: 'status', status: 429, retryAfterMs: 1_500, message: 'Rate limit reached' },
        { endpoint: 'west', times: Infinity },
      );
      server.inject({ kind: 'slow', delayMs: 100 }, { times: Infinity });
      await build(dir);

      const west = server.requests.filter((request) => request.endpoint === 'west');
      const others = server.requests.filter((request) => request.endpoint !== 'west');
      expect(west.length).toBeGreaterThan(0);
      expect(west.every((request) => request.outcome === '429')).toBe(true);
      // Every row was answered, by the two endpoints that were not refusing.
      expect(others.filter((request) => request.outcome === 'slow 200')).toHaveLength(12);

      // West was asked again only once its Retry-After had passed: before that it saw at most
      // the requests already in flight when the first refusal came back (its limit is 2)...
      const firstRefusal = Math.min(...west.map((request) => request.arrivedAt));
      const pauseEnds = firstRefusal + 1_500;
      expect(west.filter((request) => request.arrivedAt < pauseEnds).length).toBeLessThanOrEqual(2);
      // ...while east and north took new requests during the pause, at their own limits.
      const duringPause = others.filter(
        (request) => request.arrivedAt > firstRefusal && request.arrivedAt < pauseEnds,
      );
      expect(countBy(duringPause.map((request) => request.endpoint))).toEqual({
        east: expect.any(Number),
        north: expect.any(Number),
      });
      expect(server.maxInFlight('east')).toBeLessThanOrEqual(2);
      expect(server.maxInFlight('north')).toBeLessThanOrEqual(2);

      const manifest = await readManifest(dir, 'describe');
      expect(manifest['status']).toBe('succeeded');
      expect(Object.keys(manifest['endpoints'] as object).sort()).toEqual(['east', 'north']);
    } finally {
      server.clearFaults();
      await cleanup();
    }
  });
});

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
