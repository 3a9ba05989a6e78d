import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildJson, REPO_ROOT, runCli, tempProject } from '../support/cli.js';

/** How python nodes fail, and that their workers never outlive kwgraph. */
const FILES: Record<string, string> = {
  'experiment.yaml': `name: python-nodes
datasets:
  items: { path: items.jsonl, key: id }
defaults: { concurrency: 2 }
stages:
  divide:
    flow: flows/divide
    rows: items
    inputs: { a: "\${data.a}", b: "\${data.b}" }
  needs_package:
    flow: flows/needs_package
    rows: items
    inputs: { a: "\${data.a}" }
  untagged:
    flow: flows/untagged
    rows: items
    inputs: { a: "\${data.a}" }
  slow:
    flow: flows/slow
    rows: items
    inputs: { a: "\${data.a}" }
`,
  'items.jsonl': '{"id": "one", "a": "4", "b": 2}\n{"id": "two", "a": "1", "b": 0}\n',
  'flows/divide/flow.dag.yaml': `additional_includes: [../common/units.py]
inputs:
  a: { type: int }
  b: { type: int }
outputs:
  ratio: { reference: "\${divide.output}" }
nodes:
- name: divide
  type: python
  source: { type: code, path: divide.py }
  inputs: { a: "\${inputs.a}", b: "\${inputs.b}" }
`,
  'flows/divide/divide.py': `from promptflow import tool

from helper import ratio
from units import percent


@tool
def divide(a: int, b: int) -> float:
    return percent(ratio(a, b))
`,
  'flows/common/units.py': `def percent(fraction):
    return fraction * 100
`,
  'flows/divide/helper.py': `def ratio(a, b):
    return a / b
`,
  'flows/needs_package/flow.dag.yaml': `inputs:
  a: { type: string }
outputs:
  out: { reference: "\${use.output}" }
nodes:
- name: use
  type: python
  source: { type: code, path: use.py }
  inputs: { a: "\${inputs.a}" }
`,
  'flows/needs_package/use.py': `import kwgraph_surely_not_installed
from promptflow import tool


@tool
def use(a):
    return a
`,
  'flows/needs_package/requirements.txt': 'kwgraph_surely_not_installed\n',
  'flows/untagged/flow.dag.yaml': `inputs:
  a: { type: string }
outputs:
  out: { reference: "\${plain.output}" }
nodes:
- name: plain
  type: python
  source: { type: code, path: plain.py }
  inputs: { a: "\${inputs.a}" }
`,
  'flows/untagged/plain.py': `def plain(a):
    return a
`,
  'flows/slow/flow.dag.yaml': `inputs:
  a: { type: string }
outputs:
  out: { reference: "\${wait.output}" }
nodes:
- name: wait
  type: python
  source: { type: code, path: wait.py }
  inputs: { a: "\${inputs.a}" }
`,
  'flows/slow/wait.py': `import os
import time

from promptflow import tool


@tool
def wait(a):
    with open(os.path.join(os.path.dirname(__file__), f"pid-{os.getpid()}"), "w") as file:
        file.write("running")
    time.sleep(60)
    return a
`,
};

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until<T>(check: () => Promise<T | undefined>, what: string): Promise<T> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const found = await check();
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`gave up waiting for ${what}`);
}

describe('python nodes', () => {
  let dir: string;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ dir, cleanup } = await tempProject([]));
    for (const [file, text] of Object.entries(FILES)) {
      await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
      await writeFile(path.join(dir, file), text);
    }
  });
  afterAll(async () => cleanup());

  it('fail a row with the exception and the last lines of its traceback', async () => {
    const { code, report } = await buildJson(dir, ['divide']);
    expect(code).toBe(1);
    const [run] = report.runs;
    expect(run?.errors).toHaveLength(1);
    expect(run?.errors[0]).toEqual({
      row: 'two',
      node: 'divide',
      error: [
        'ZeroDivisionError: division by zero',
        '  at flows/divide/divide.py:9 in divide: return percent(ratio(a, b))',
        '  at flows/divide/helper.py:2 in ratio: return a / b',
      ].join('\n'),
    });
    // The other row ran, with the text "4" converted for the int input, and the included
    // module imported as if it sat in the flow folder.
    const outputs = await readFile(path.join(dir, 'cache/runs/divide/outputs.jsonl'), 'utf8');
    expect(JSON.parse(outputs.split('\n')[0] ?? '')).toMatchObject({ outputs: { ratio: 200 } });
  });

  it('point at the flow requirements when a module is missing, and install nothing', async () => {
    const { code, report } = await buildJson(dir, ['needs_package']);
    expect(code).toBe(1);
    const errors = report.runs[0]?.errors ?? [];
    expect(errors).toHaveLength(2);
    expect(errors[0]?.error).toContain(
      "ModuleNotFoundError: No module named 'kwgraph_surely_not_installed'",
    );
    expect(errors[0]?.error).toContain('pip install -r flows/needs_package/requirements.txt');
  });

  it('say when a file has no @tool function', async () => {
    const { report } = await buildJson(dir, ['untagged']);
    expect(report.runs[0]?.errors[0]?.error).toBe(
      'flows/untagged/plain.py has no function decorated with @tool: ' +
        'add `from promptflow import tool` and `@tool` above the function',
    );
  });

  it('say which interpreter could not be found', async () => {
    const result = await runCli(dir, ['build', 'divide', '--force', '--json'], {
      env: { KWGRAPH_PYTHON: '/no/such/python3' },
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('cannot run Python: \\"/no/such/python3\\" was not found');
  });

  it('stop their workers when kwgraph is interrupted', async () => {
    const child = spawn(
      process.execPath,
      [path.join(REPO_ROOT, 'bin/kwgraph.js'), 'build', 'slow'],
      {
        cwd: dir,
        env: { ...process.env, NO_COLOR: '1' },
        stdio: 'ignore',
      },
    );
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code) => resolve(code)),
    );

    // Both rows are inside their tool, in two workers, when the interrupt comes.
    const pids = await until(async () => {
      const { readdir } = await import('node:fs/promises');
      const files = (await readdir(path.join(dir, 'flows/slow'))).filter((f) =>
        f.startsWith('pid-'),
      );
      return files.length === 2 ? files.map((file) => Number(file.slice(4))) : undefined;
    }, 'both workers to start');
    for (const pid of pids) expect(isAlive(pid)).toBe(true);

    // The first Ctrl-C lets rows in flight finish (these sleep for a minute); the second quits
    // at once, and the workers must not outlive kwgraph.
    child.kill('SIGINT');
    await new Promise((resolve) => setTimeout(resolve, 500));
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    await until(
      async () => (pids.every((pid) => !isAlive(pid)) ? true : undefined),
      'the workers to stop',
    );
  });
});
