import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runCli, type CliResult } from '../support/cli.js';
import {
  startOpenAiTestServer,
  type OpenAiTestServer,
  type RecordedRequest,
} from '../support/openai-test-server.js';
import {
  filesUnder,
  products,
  readManifest,
  readOutputLines,
  remoteProject,
} from '../support/remote-project.js';

/**
 * `openai` and `azure_openai` connections through the real CLI, against a chat-completions
 * server on 127.0.0.1 that records every request and fails some on demand.
 */

const KEY = 'sk-test-5f3c9a1e7b2d4c6f8a0e1b3d5c7f9a2e';

let server: OpenAiTestServer;
beforeAll(async () => {
  server = await startOpenAiTestServer();
});
afterAll(async () => server.close());

/** Every output of every CLI run in this file, to search for the key at the end. */
const outputs: string[] = [];

async function cli(dir: string, args: string[], env: Record<string, string | undefined> = {}) {
  const result = await runCli(dir, args, {
    env: { TEST_API_KEY: KEY, TEST_BASE_URL: server.baseUrl(), ...env },
  });
  outputs.push(result.stdout, result.stderr);
  return result;
}

function expectBuilt(result: CliResult, code = 0): void {
  expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(code);
}

/** The connection under test; short waits keep the tests quick. */
function remote(timeoutSeconds = 10): string {
  return `  remote:
    kind: openai
    base_url: \${TEST_BASE_URL}
    api_key_env: TEST_API_KEY
    timeout_seconds: ${timeoutSeconds}
    backoff_seconds: 0.2
    pricing: { gpt-4o-mini: { input: 0.15, output: 0.6 } }`;
}
const REMOTE = remote();

/** Requests that arrived after `from` and carry `text`. */
function requestsFor(from: number, text: string): RecordedRequest[] {
  return server.requests.slice(from).filter((request) => request.text.includes(text));
}

describe('an openai connection', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, cleanup } = await remoteProject({ connections: REMOTE, products: products(3) }));
  });
  afterAll(async () => cleanup());

  it('sends one request per uncached call, with the messages, model, parameters and image', async () => {
    const from = server.requests.length;
    const result = await cli(dir, ['build']);
    expectBuilt(result);

    const sent = server.requests.slice(from);
    expect(sent).toHaveLength(3);
    for (const [index, request] of sent.sort((a, b) => a.text.localeCompare(b.text)).entries()) {
      const image = await readFile(path.join(dir, `data/images/p${index + 1}.png`));
      expect(request.api).toBe('openai');
      expect(request.key).toBe(KEY);
      expect(request.model).toBe('gpt-4o-mini');
      expect(request.params).toEqual({ max_tokens: 60, temperature: 0, seed: 7, stream: false });
      expect(request.messages).toEqual([
        { role: 'system', content: 'You describe products for a catalogue.' },
        {
          role: 'user',
          content: [
            {
              type: 'text',
              text:
                'Write a concise description of the product in the image.\n' +
                `Mandatory attributes:\n- title: product ${index + 1} ${['mug', 'lamp', 'kettle'][index]}`,
            },
            {
              type: 'image_url',
              image_url: {
                url: `data:image/png;base64,${image.toString('base64')}`,
                detail: 'low',
              },
            },
          ],
        },
      ]);
    }

    const manifest = await readManifest(dir, 'describe');
    const usage = sent.reduce((total, request) => total + request.text.length, 0);
    expect(usage).toBeGreaterThan(0);
    expect(manifest['calls']).toEqual({ sent: 3, cached: 0, retries: 0 });
    const tokens = manifest['tokens'] as { prompt: number; completion: number; total: number };
    expect(tokens.total).toBeGreaterThan(0);
    expect(manifest['cost']).toEqual({
      sent: expect.closeTo((tokens.prompt * 0.15 + tokens.completion * 0.6) / 1e6, 6),
      used: expect.closeTo((tokens.prompt * 0.15 + tokens.completion * 0.6) / 1e6, 6),
    });
    const host = new URL(server.url).host;
    expect(manifest['endpoints']).toEqual({
      [host]: { calls: 3, tokens: tokens.total, retries: 0, meanLatencyMs: expect.any(Number) },
    });
    expect(result.stdout).toMatch(/done\s+describe\s+3 rows · 3 calls sent .*tokens · ~\$/);
    expect(result.stdout).toMatch(
      /3 calls sent, 0 from call cache · [\d,]+ tokens · ~\$\S+ \(estimated\)/,
    );

    const trace = (await readFile(path.join(dir, 'cache/runs/describe/trace.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { calls: Record<string, unknown>[] });
    expect(trace[0]?.calls[0]).toMatchObject({
      node: 'describe',
      cached: false,
      model: 'gpt-4o-mini',
      endpoint: host,
      latencyMs: expect.any(Number),
      usage: { prompt_tokens: expect.any(Number) },
    });
  });

  it('sends nothing when every call is cached, even when forced', async () => {
    const from = server.requests.length;
    expectBuilt(await cli(dir, ['build']));
    const forced = await cli(dir, ['build', '--force', '--json']);
    expectBuilt(forced);
    expect(server.requests.length).toBe(from);
    const report = JSON.parse(forced.stdout) as { runs: { calls: number; cost?: number }[] };
    expect(report.runs[0]?.calls).toBe(0);
  });

  it('retries 429s, 500s, dropped connections and slow answers, honouring the waits', async () => {
    const { dir: faulty, cleanup: done } = await remoteProject({
      connections: remote(1),
      products: products(5),
      concurrency: 1,
    });
    try {
      const from = server.requests.length;
      const only = (text: string) => ({
        match: (request: RecordedRequest) => request.text.includes(text),
      });
      server.inject({ kind: 'status', status: 429, retryAfter: '1' }, only('product 1 mug'));
      server.inject({ kind: 'status', status: 429, retryAfterMs: 300 }, only('product 2 lamp'));
      server.inject(
        { kind: 'status', status: 500, message: 'upstream hiccup' },
        only('product 3 kettle'),
      );
      server.inject({ kind: 'drop' }, only('product 4 scarf'));
      server.inject({ kind: 'slow', delayMs: 3_000 }, only('product 5 chair'));

      const result = await cli(faulty, ['build']);
      expectBuilt(result);

      // Each faulted call was sent twice, the same request both times, and the second time no
      // sooner than the wait the first one asked for: Retry-After, retry-after-ms, a backoff
      // of at least half of backoff_seconds, and the 1 s timeout plus a backoff.
      const minimumWait: [string, string, number][] = [
        ['product 1 mug', '429', 1_000],
        ['product 2 lamp', '429', 300],
        ['product 3 kettle', '500', 100],
        ['product 4 scarf', 'dropped', 100],
        ['product 5 chair', 'slow', 1_000 + 100],
      ];
      for (const [text, outcome, wait] of minimumWait) {
        const attempts = requestsFor(from, text);
        expect(
          attempts.map((attempt) => attempt.outcome),
          text,
        ).toEqual([outcome, '200']);
        expect(attempts[1]?.callId).toBe(attempts[0]?.callId);
        expect(
          (attempts[1]?.arrivedAt ?? 0) - (attempts[0]?.arrivedAt ?? 0),
          text,
        ).toBeGreaterThanOrEqual(wait);
      }

      const manifest = await readManifest(faulty, 'describe');
      expect(manifest['status']).toBe('succeeded');
      expect(manifest['calls']).toEqual({ sent: 5, cached: 0, retries: 5 });
    } finally {
      server.clearFaults();
      await done();
    }
  });

  it('fails only the row whose request gets a 400, caches nothing for it, and re-sends only it', async () => {
    const { dir: project, cleanup: done } = await remoteProject({
      connections: REMOTE,
      products: products(3),
    });
    try {
      const from = server.requests.length;
      server.inject(
        { kind: 'status', status: 400, message: 'Invalid image: the picture is too small' },
        { match: (request) => request.text.includes('product 2 lamp') },
      );
      const result = await cli(project, ['build']);
      expectBuilt(result, 1);
      expect(result.stdout).toMatch(/failed\s+describe\s+1 of 3 rows failed/);
      expect(result.stdout).toContain(
        `row p2 in describe: ${new URL(server.url).host}: HTTP 400: Invalid image: the picture is too small`,
      );
      // A 400 is final: sent once, not retried.
      expect(requestsFor(from, 'product 2 lamp').map((request) => request.outcome)).toEqual([
        '400',
      ]);
      expect(server.requests.length - from).toBe(3);

      const manifest = await readManifest(project, 'describe');
      expect(manifest['status']).toBe('failed');
      const lines = await readOutputLines(project, 'describe');
      expect(lines.map((line) => [line.key, line.status])).toEqual([
        ['p1', 'ok'],
        ['p2', 'failed'],
        ['p3', 'ok'],
      ]);

      const again = server.requests.length;
      const retry = await cli(project, ['build']);
      expectBuilt(retry);
      const resent = server.requests.slice(again);
      expect(resent).toHaveLength(1);
      expect(resent[0]?.text).toContain('product 2 lamp');
    } finally {
      server.clearFaults();
      await done();
    }
  });

  it('fetches image URLs itself, and fails the row of one that cannot be fetched', async () => {
    const picture = await readFile(path.join(dir, 'data/images/p1.png'));
    const url = server.serveImage('shelf.png', picture);
    const { dir: project, cleanup: done } = await remoteProject({
      connections: REMOTE,
      products: [
        { id: 'u1', title: 'remote mug', image: url },
        { id: 'u2', title: 'missing lamp', image: `${server.url}/images/missing.png?sig=s3cr3t` },
      ],
    });
    try {
      const from = server.requests.length;
      const result = await cli(project, ['build']);
      expectBuilt(result, 1);
      expect(result.stdout).toContain(
        `row u2 in describe: image ${server.url}/images/missing.png?…: could not be fetched: HTTP 404 Not Found`,
      );
      const sent = server.requests.slice(from);
      expect(sent).toHaveLength(1);
      expect(sent[0]?.images).toEqual([
        { url: `data:image/png;base64,${picture.toString('base64')}`, detail: 'low' },
      ]);
    } finally {
      await done();
    }
  });

  it('stops sending to an endpoint once it refuses the key', async () => {
    const { dir: project, cleanup: done } = await remoteProject({
      connections: remote(1),
      products: products(4),
      concurrency: 1,
    });
    try {
      const from = server.requests.length;
      server.inject(
        { kind: 'status', status: 401, message: 'Incorrect API key provided.' },
        { times: Infinity },
      );
      const result = await cli(project, ['build']);
      expectBuilt(result, 1);
      // One refusal is enough to know: the other rows fail without a request.
      expect(server.requests.length - from).toBe(1);
      expect(result.stdout).toContain('HTTP 401: Incorrect API key provided.');
      expect(result.stdout).toContain('(not sent: it refused the key before)');
    } finally {
      server.clearFaults();
      await done();
    }
  });

  it('never writes the key: not in cache/, manifests, traces, stdout or stderr', async () => {
    const { dir: project, cleanup: done } = await remoteProject({
      connections: REMOTE,
      products: products(2),
    });
    try {
      // A server that quotes the key back in an error message.
      server.inject(
        { kind: 'status', status: 401, message: `Incorrect API key provided: ${KEY}.` },
        { match: (request) => request.text.includes('product 1 mug') },
      );
      const failed = await cli(project, ['build', '--json']);
      expectBuilt(failed, 1);
      expect(failed.stdout).toContain('HTTP 401: Incorrect API key provided: ***.');
      expectBuilt(await cli(project, ['build']));
      expect(server.requests.at(-1)?.key).toBe(KEY);

      const needle = Buffer.from(KEY);
      for (const folder of [dir, project]) {
        const files = await filesUnder(path.join(folder, 'cache'));
        expect(files.map((file) => path.basename(file.file))).toContain('kwgraph.sqlite');
        for (const { file, bytes } of files) expect(bytes.includes(needle), file).toBe(false);
      }
      for (const output of outputs) expect(output).not.toContain(KEY);
    } finally {
      server.clearFaults();
      await done();
    }
  });

  it('fails before any request when the key is not set, naming the variable', async () => {
    const from = server.requests.length;
    const { dir: project, cleanup: done } = await remoteProject({
      connections: REMOTE,
      products: products(2),
    });
    try {
      const result = await cli(project, ['build'], { TEST_API_KEY: undefined });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(
        'experiment.yaml:5:3 error: connection "remote" needs an API key in TEST_API_KEY, which is not set',
      );
      expect(server.requests.length).toBe(from);
    } finally {
      await done();
    }
  });

  it('needs no key for a remote connection the build does not use', async () => {
    const { dir: project, cleanup: done } = await remoteProject({
      connections: `${REMOTE}\n  offline:\n    kind: module\n    module: models/echo.ts`,
      products: products(2),
      connection: 'offline',
    });
    try {
      const result = await cli(project, ['build'], { TEST_API_KEY: undefined });
      expectBuilt(result);
      const overridden = await cli(project, ['build', '--connection', 'remote'], {
        TEST_API_KEY: undefined,
      });
      expect(overridden.code).toBe(2);
      expect(overridden.stderr).toContain('needs an API key in TEST_API_KEY');
    } finally {
      await done();
    }
  });
});

describe('an azure_openai connection', () => {
  it('calls the deployment path with the API version and the key (from .env) in api-key', async () => {
    const { dir, cleanup } = await remoteProject({
      connections: `  remote:
    kind: azure_openai
    endpoint: ${server.azureEndpoint('sweden')}
    deployment: gpt-4o-mini-prod
    api_version: 2024-10-21
    api_key_env: TEST_API_KEY`,
      products: products(2),
    });
    try {
      await writeFile(path.join(dir, '.env'), `TEST_API_KEY=${KEY}\n`);
      const from = server.requests.length;
      const result = await cli(dir, ['build'], { TEST_API_KEY: undefined });
      expectBuilt(result);
      const sent = server.requests.slice(from);
      expect(sent).toHaveLength(2);
      for (const request of sent) {
        expect(request).toMatchObject({
          api: 'azure',
          endpoint: 'sweden',
          deployment: 'gpt-4o-mini-prod',
          apiVersion: '2024-10-21',
          key: KEY,
          model: 'gpt-4o-mini',
        });
      }
      const manifest = await readManifest(dir, 'describe');
      expect(Object.keys(manifest['endpoints'] as object)).toEqual([
        `${new URL(server.url).host}/gpt-4o-mini-prod`,
      ]);
    } finally {
      await cleanup();
    }
  });
});
