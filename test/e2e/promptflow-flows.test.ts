import { readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildJson, runCli, sum, tempProject, type BuildJsonRun } from '../support/cli.js';

/**
 * Two flow folders written in promptflow's format (test/fixtures/promptflow/qa), built through
 * the real CLI against a local OpenAI-compatible endpoint, with their Python tools running in
 * the system's Python (numpy, pandas and jinja2 from the distribution's packages).
 */
const FIXTURE = fileURLToPath(new URL('../fixtures/promptflow/qa/', import.meta.url));
const API_KEY = 'sk-test-never-stored-4711';

interface ChatRequestSeen {
  model: string;
  temperature?: number;
  max_tokens?: number;
  messages: { role: string; content: string | { type: string; text?: string }[] }[];
}

/**
 * A minimal OpenAI-compatible chat endpoint: answers in one word or in a sentence, as the
 * system message asks, and describes a picture only when the request carries one.
 * NOTE: kept small so that a shared test server can replace it.
 */
async function startChatServer(): Promise<{
  url: string;
  seen: ChatRequestSeen[];
  server: Server;
}> {
  const seen: ChatRequestSeen[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const chat = JSON.parse(body) as ChatRequestSeen;
      seen.push(chat);
      const text = chat.messages
        .map((m) => (typeof m.content === 'string' ? m.content : JSON.stringify(m.content)))
        .join('\n');
      const fact = /France/.test(text)
        ? 'Paris'
        : /2 \+ 3/.test(text)
          ? '5'
          : /7 \* 6/.test(text)
            ? '42'
            : /image_url/.test(text)
              ? 'blue'
              : 'unknown';
      const content = /one word/.test(text) ? fact : `The answer is ${fact}.`;
      response.setHeader('content-type', 'application/json');
      response.end(
        JSON.stringify({
          id: `chat-${seen.length}`,
          object: 'chat.completion',
          model: chat.model,
          choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 10, completion_tokens: 2, total_tokens: 12 },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/v1`, seen, server };
}

async function readJsonl(file: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(file, 'utf8');
  return text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('promptflow flow folders', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let chat: Awaited<ReturnType<typeof startChatServer>>;
  const run = (id: string, file: string) => path.join(dir, 'cache/runs', id, file);
  const ids = (runs: readonly BuildJsonRun[], status: BuildJsonRun['status']) =>
    runs
      .filter((r) => r.status === status)
      .map((r) => r.id)
      .sort();

  beforeAll(async () => {
    chat = await startChatServer();
    ({ dir, cleanup } = await tempProject(['experiment.yaml', 'data', 'flows'], FIXTURE));
    await writeFile(path.join(dir, '.env'), `LLM_BASE_URL=${chat.url}\nLOCAL_LLM_KEY=${API_KEY}\n`);
  });
  afterAll(async () => {
    chat.server.close();
    await cleanup();
  });

  it('builds both flows, every variant, with the graders run on each answer run', async () => {
    const { code, report, stderr } = await buildJson(dir);
    // With --json, stdout holds the report and stderr only the human progress lines.
    expect(stderr).not.toMatch(/error|warning/i);
    expect(code).toBe(0);
    expect(ids(report.runs, 'executed')).toEqual([
      'answer@concise',
      'answer@detailed',
      'grade~answer@concise',
      'grade~answer@detailed',
    ]);
    expect(sum(report.runs, 'calls')).toBe(8);
    expect(chat.seen).toHaveLength(8);
  });

  it('runs python, prompt and llm nodes, with activate bypassing the calculator', async () => {
    const concise = await readJsonl(run('answer@concise', 'outputs.jsonl'));
    expect(concise.map((line) => line['outputs'])).toEqual([
      { answer: 'A: Paris', calculated: null, keywords: ['capital', 'france'] },
      { answer: 'A: 5', calculated: '5', keywords: ['2', '+', '3'] },
      // The concise variant sends no picture, so the model cannot tell.
      { answer: 'A: unknown', calculated: null, keywords: ['colour', 'sky', 'picture'] },
      { answer: 'A: 42', calculated: '42', keywords: ['7', '*', '6'] },
    ]);

    const trace = await readJsonl(run('answer@concise', 'trace.jsonl'));
    expect(trace[0]?.['bypassed']).toEqual(['calculate']);
    expect(trace[1]?.['bypassed']).toBeUndefined();
    const nodes = trace[0]?.['nodes'] as Record<string, Record<string, unknown>>;
    expect(nodes['context']).toBe('Look for: capital, france (2 keywords)\n');
    // The tool got the connection's endpoint and key; the key went nowhere else.
    expect(nodes['prepare']).toMatchObject({ endpoint_is_local: true, has_key: true });
  });

  it('sends model parameters written among the inputs and in the .prompty front matter', () => {
    const concise = chat.seen.find(
      (request) => request.model === 'qa-small' && JSON.stringify(request).includes('France'),
    );
    expect(concise).toMatchObject({ temperature: 0, max_tokens: 64 });
    expect(concise?.messages).toEqual([
      { role: 'system', content: 'Answer in one word.' },
      {
        role: 'user',
        content:
          'Look for: capital, france (2 keywords)\n\nQuestion: What is the capital of France?',
      },
    ]);

    const detailed = chat.seen.filter((request) => request.model === 'qa-large');
    expect(detailed).toHaveLength(4);
    expect(detailed[0]).toMatchObject({ temperature: 0.2, max_tokens: 128 });
    // The picture sits where the template wrote `![image](...)`, between its two lines.
    const withPicture = detailed.find(
      (request) => typeof request.messages[1]?.content !== 'string',
    );
    const parts = withPicture?.messages[1]?.content as { type: string; text?: string }[];
    expect(parts.map((part) => part.type)).toEqual(['text', 'image_url', 'text']);
    expect(parts[0]?.text).toBe('Question: What colour is the sky in this picture?\nPicture:');
    expect(parts[2]?.text).toBe('Say what you see.');
  });

  it('grades with tuples and numpy values, and logs pandas metrics as the run metrics', async () => {
    const grades = await readJsonl(run('grade~answer@concise', 'outputs.jsonl'));
    expect(grades[0]?.['outputs']).toEqual({
      score: 1,
      exact: true,
      details: { matched: ['Paris'], counts: [1, 1] },
    });

    const manifest = JSON.parse(
      await readFile(run('grade~answer@detailed', 'manifest.json'), 'utf8'),
    );
    // Merged: the node's returned dict, then what it logged with log_metric.
    expect(manifest.metrics).toEqual({ rows: 4, accuracy: 1, exact_rate: 0.5 });
    const metrics = JSON.parse(
      await readFile(run('grade~answer@detailed', 'metrics.json'), 'utf8'),
    );
    // A pandas DataFrame (describe() of the scores) becomes a list of records.
    expect(metrics.summary).toEqual([{ score: 1 }, { score: 1 }]);
  });

  it('runs rows in a few long-lived workers and stops them when the build ends', async () => {
    const trace = [
      ...(await readJsonl(run('answer@concise', 'trace.jsonl'))),
      ...(await readJsonl(run('answer@detailed', 'trace.jsonl'))),
    ];
    const workers = new Set(
      trace.map((line) => (line['nodes'] as Record<string, { worker: number }>)['prepare']?.worker),
    );
    expect(trace).toHaveLength(8);
    expect(workers.size).toBeGreaterThanOrEqual(1);
    expect(workers.size).toBeLessThanOrEqual(2);
    for (const pid of workers) expect(isAlive(Number(pid))).toBe(false);
  });

  it('never writes the API key into the cache', async () => {
    const files = await readdir(path.join(dir, 'cache'), { recursive: true, withFileTypes: true });
    const contents = await Promise.all(
      files
        .filter((entry) => entry.isFile())
        .map((entry) => readFile(path.join(entry.parentPath, entry.name))),
    );
    expect(contents.length).toBeGreaterThan(5);
    for (const bytes of contents) expect(bytes.includes(API_KEY)).toBe(false);
  });

  it('serves everything from cache on the next build', async () => {
    const { code, report } = await buildJson(dir);
    expect(code).toBe(0);
    expect(ids(report.runs, 'cached')).toHaveLength(4);
    expect(chat.seen).toHaveLength(8);
  });

  it('re-runs only the grade stage, with no LLM call, when the grader changes', async () => {
    const grader = path.join(dir, 'flows/grade/grade.py');
    const source = await readFile(grader, 'utf8');
    await writeFile(grader, source.replace('1.0 if found else 0.0', '1.0 if found else 0.5'));

    const { code, report } = await buildJson(dir);
    expect(code).toBe(0);
    expect(ids(report.runs, 'executed')).toEqual(['grade~answer@concise', 'grade~answer@detailed']);
    expect(ids(report.runs, 'cached')).toEqual(['answer@concise', 'answer@detailed']);
    expect(sum(report.runs, 'calls') + sum(report.runs, 'cachedCalls')).toBe(0);
    expect(chat.seen).toHaveLength(8);
  });

  it('serves the llm calls from the call cache when an input tool changes', async () => {
    const tool = path.join(dir, 'flows/answer/prepare.py');
    await writeFile(tool, `${await readFile(tool, 'utf8')}\n# a comment is a change\n`);

    const { code, report } = await buildJson(dir);
    expect(code).toBe(0);
    expect(ids(report.runs, 'executed')).toHaveLength(4);
    expect(sum(report.runs, 'calls')).toBe(0);
    expect(sum(report.runs, 'cachedCalls')).toBe(8);
    expect(chat.seen).toHaveLength(8);
  });

  it('`flow test` runs one input through a variant and prints every node', async () => {
    await writeFile(
      path.join(dir, 'inputs.json'),
      JSON.stringify({ question: 'What is 2 + 3?', image: null }),
    );
    const result = await runCli(dir, [
      'flow',
      'test',
      'flows/answer',
      '--inputs',
      'inputs.json',
      '--variant',
      'answer.detailed',
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('answer (llm, variant detailed)');
    expect(result.stdout).toContain('The answer is 5.');
    expect(result.stdout).toContain('calculate (python)');
    expect(result.stdout).toMatch(/outputs\s*\n[\s\S]*"answer": "A: 5"/);
  });
});
