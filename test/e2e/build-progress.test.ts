import { spawn } from 'node:child_process';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { REPO_ROOT, runCli, tempProject } from '../support/cli.js';

const CLI = path.join(REPO_ROOT, 'bin', 'kwgraph.js');
const ESCAPE = '\u001b[';

/**
 * Runs a command on a pseudo-terminal (util-linux `script`), as a user's terminal would, and
 * returns everything the terminal received.
 */
function runOnTerminal(
  cwd: string,
  args: readonly string[],
): Promise<{ code: number; output: string }> {
  const command = [process.execPath, CLI, ...args].map((part) => `'${part}'`).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      cwd,
      env: {
        ...process.env,
        NO_COLOR: undefined,
        TERM: 'xterm-256color',
        KWGRAPH_CONNECTION: undefined,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, output }));
  });
}

/** The text without escape sequences and carriage returns: what a log file would keep. */
function plain(text: string): string {
  return text.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').replaceAll('\r', '');
}

/**
 * What a build prints while it runs: a live display on a terminal, plain lines in a pipe.
 * The first build starts from nothing; the others use --force, so every run executes again
 * (quickly, its rows served from the row cache) and reports its progress.
 */
describe('build progress', () => {
  let dir: string;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ dir, cleanup } = await tempProject());
  });
  afterAll(async () => cleanup());

  it('draws a live display on a terminal and collapses finished runs to one line', async () => {
    const { code, output } = await runOnTerminal(dir, ['build']);
    expect(code, output).toBe(0);

    // The display redraws in place: cursor movement and line erasing.
    expect(output).toContain(`${ESCAPE}2K`);
    expect(output).toMatch(/\u001b\[\d*A/);
    const text = plain(output);
    // One line per active run, and the overall bar with an ETA.
    expect(text).toMatch(
      /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] describe@concise {2}\d+\/42 rows · \d+ sent · \d+ cached · \d+ failed · [\d.]+ rows\/s/,
    );
    expect(text).toMatch(/[█░]{24} \d+% · \d+\/14 runs · \d+\/588 rows · ETA (…|\d+s|\d+m\d\ds)/);
    // Every run finishes as exactly one summary line.
    for (const run of [
      'describe@concise',
      'validate@strict_top5~describe@detailed',
      'evaluate~validate@lenient_top10~describe@concise',
    ]) {
      const done = text.split('\n').filter((line) => line.startsWith(`done    ${run}  `));
      expect(done, run).toHaveLength(1);
    }
    expect(text).toContain('14 runs: 14 executed, 0 cached, 0 failed');
  });

  it('prints plain lines with --quiet, even on a terminal', async () => {
    const { code, output } = await runOnTerminal(dir, ['build', '--quiet', '--force']);
    expect(code, output).toBe(0);
    expect(output).not.toContain(`${ESCAPE}2K`);
    expect(output).not.toMatch(/\u001b\[\d*A/);
    expect(plain(output)).toMatch(/^run {5}describe@concise {2}42 rows · --force$/m);
  });

  it('prints plain lines in a pipe: the start, progress, the finish', async () => {
    const result = await runCli(dir, ['build', '--force'], {
      env: { NO_COLOR: undefined, KWGRAPH_PROGRESS_INTERVAL: '0' },
    });
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain('\u001b');
    const lines = result.stdout.split('\n');
    const run = 'validate@lenient_top10~describe@detailed';
    const ofRun = lines.filter((line) => line.split(/\s+/)[1] === run);
    expect(ofRun[0]).toBe(`run     ${run}  42 rows · --force`);
    expect(ofRun.at(-1)?.startsWith(`done    ${run}  42 rows · 0 calls sent`)).toBe(true);
    const progress = ofRun.slice(1, -1);
    for (const line of progress) {
      expect(line).toMatch(
        /^… {7}\S+ {2}\d+\/42 rows · \d+ calls? sent · \d+ from call cache · \d+ failed · [\d.]+ rows\/s$/,
      );
    }
    // Progress counts only go up, and a run's last word is its summary.
    const done = progress.map((line) => Number(/ (\d+)\/42 rows/.exec(line)?.[1]));
    expect(done).toEqual([...done].sort((a, b) => a - b));
    expect(progress.length).toBeGreaterThan(0);
    expect(result.stdout).toMatch(/^14 runs: 14 executed, 0 cached, 0 failed · 0 calls sent/m);
  });

  it('keeps stdout machine-readable with --json and puts the human lines on stderr', async () => {
    const result = await runCli(dir, ['build', '--json', '--force']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).runs).toHaveLength(14);
    expect(result.stderr).toMatch(/^run {5}describe@concise {2}42 rows · --force$/m);
    expect(result.stderr).toMatch(
      /^done {4}evaluate~validate@strict_top5~describe@detailed {2}42 rows/m,
    );
  });
});
