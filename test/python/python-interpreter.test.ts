import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import { describe, expect, it } from 'vitest';

import { pythonInterpreter, pythonRuntimeDir } from '../../src/python/python-interpreter.js';
import { REPO_ROOT } from '../support/cli.js';

describe('the Python interpreter', () => {
  it('is KWGRAPH_PYTHON, then the experiment setting, then the system python3', () => {
    const system = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
    expect(pythonInterpreter('/p', 'python3.12', { KWGRAPH_PYTHON: '/opt/py/bin/python' })).toBe(
      '/opt/py/bin/python',
    );
    expect(pythonInterpreter('/p', '.venv/bin/python', {})).toBe('/p/.venv/bin/python');
    expect(pythonInterpreter('/p', 'python3.12', {})).toBe('python3.12');
    expect(pythonInterpreter('/p', undefined, {})).toBe(system);
  });
});

describe('the Python runtime folder', () => {
  it('is found from the sources', () => {
    expect(pythonRuntimeDir()).toBe(path.join(REPO_ROOT, 'src/python/runtime'));
  });

  it('is found from an installed package, which ships src/ next to dist/', async () => {
    const temp = await mkdtemp(path.join(os.tmpdir(), 'kwgraph-installed-'));
    try {
      const installed = path.join(temp, 'node_modules/kwgraph');
      await mkdir(path.join(installed, 'dist/python'), { recursive: true });
      await writeFile(
        path.join(installed, 'package.json'),
        JSON.stringify({ name: 'kwgraph', type: 'module' }),
      );
      await cp(
        path.join(REPO_ROOT, 'dist/python/python-interpreter.js'),
        path.join(installed, 'dist/python/python-interpreter.js'),
      );
      await cp(
        path.join(REPO_ROOT, 'src/python/runtime'),
        path.join(installed, 'src/python/runtime'),
        {
          recursive: true,
        },
      );
      const module = (await import(
        pathToFileURL(path.join(installed, 'dist/python/python-interpreter.js')).href
      )) as { pythonRuntimeDir: () => string };
      expect(module.pythonRuntimeDir()).toBe(path.join(installed, 'src/python/runtime'));
    } finally {
      await rm(temp, { recursive: true, force: true });
    }
  });
});
