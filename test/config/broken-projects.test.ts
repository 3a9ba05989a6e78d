import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { loadProject } from '../../src/config/load-project.js';
import type { Diagnostic } from '../../src/diagnostics/diagnostic.js';
import { formatDiagnostics } from '../../src/diagnostics/format-diagnostic.js';
import { readDataset } from '../../src/data/read-dataset.js';

/**
 * Each folder under test/fixtures/broken is a tiny project with one mistake. Its expected.txt
 * holds a `# description` line and one line per expected diagnostic:
 * `file:line:col <a distinctive part of the message>`. The project must produce exactly those
 * diagnostics: one mistake, one message, no follow-on noise.
 *
 * A project that loads is then checked the way a build reads it: each dataset is read, so bad
 * data rows are covered by the same table.
 */
const BROKEN = fileURLToPath(new URL('../fixtures/broken/', import.meta.url));
const cases = readdirSync(BROKEN, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

async function diagnose(root: string): Promise<Diagnostic[]> {
  // An empty environment, so `${NAME}` cases do not depend on the machine running the tests.
  const loaded = await loadProject(root, { env: {} });
  if (!loaded.ok) return loaded.error;
  const diagnostics: Diagnostic[] = [];
  for (const dataset of Object.values(loaded.value.experiment.datasets)) {
    const read = await readDataset(root, dataset);
    if (!read.ok) diagnostics.push(...read.error);
  }
  return diagnostics;
}

function parseExpected(text: string): { location: string; message: string }[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    .map((line) => {
      const space = line.indexOf(' ');
      return { location: line.slice(0, space), message: line.slice(space + 1) };
    });
}

describe('broken projects', () => {
  it('has a corpus of at least 30 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  it.each(cases)('%s', async (name) => {
    const root = path.join(BROKEN, name);
    const expected = parseExpected(readFileSync(path.join(root, 'expected.txt'), 'utf8'));
    const diagnostics = await diagnose(root);

    const actual = diagnostics.map((diagnostic) => {
      const at = diagnostic.position;
      const location = at === undefined ? '-' : `${at.file}:${at.line}:${at.column}`;
      return `${location} ${diagnostic.message}`;
    });
    expect(actual).toHaveLength(expected.length);
    expected.forEach(({ location, message }, index) => {
      expect(actual[index]).toContain(`${location} `);
      expect(actual[index]).toContain(message);
    });

    // Every diagnostic renders with its source line and an underline.
    const readSource = (file: string) => readFileSync(path.join(root, file), 'utf8');
    const rendered = formatDiagnostics(diagnostics, readSource, { color: false });
    for (const { location } of expected) expect(rendered).toContain(`${location} error: `);
    expect(rendered).toContain('^');
  });
});
