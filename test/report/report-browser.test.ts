import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { builtExample } from '../support/built-example.js';
import { runCli } from '../support/cli.js';

/** Debian's chromium; CI installs it (`apt-get install -y chromium`). */
const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * The HTML report of the built example, opened in a real headless browser: it loads without a
 * console error or a single network request, shows the graph, the compare table and the charts,
 * and its row browser finds and shows a row. A screenshot is left in the test's temp folder.
 */
describe('kwgraph report in a browser', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let profile: string;
  let browser: BrowserContext;
  let report: string;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `no browser at ${CHROMIUM}: install Debian's chromium (apt-get install -y chromium)`,
      );
    }
    ({ dir, cleanup } = await builtExample());
    report = path.join(dir, 'out', 'report.html');
    const result = await runCli(dir, ['report', '-o', report]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('wrote out/report.html\n');

    profile = await mkdtemp(path.join(os.tmpdir(), 'kwgraph-chromium-'));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS,
      viewport: { width: 1400, height: 1000 },
    });
  });
  afterAll(async () => {
    await browser?.close();
    await rm(profile, { recursive: true, force: true });
    await cleanup();
  });

  it('loads offline with no console errors and shows the graph, the table and the charts', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') {
        problems.push(`${message.type()}: ${message.text()}`);
      }
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('request', (request) => {
      if (!request.url().startsWith('file:')) problems.push(`request: ${request.url()}`);
    });
    await page.goto(`file://${report}`);
    await page.waitForSelector('#row-list li');

    const compare = JSON.parse((await runCli(dir, ['compare', '--json'])).stdout);
    const graph = JSON.parse((await runCli(dir, ['graph', '--format', 'json'])).stdout);

    const rows = page.locator('table.compare tbody tr');
    expect(await rows.count()).toBe(6);
    expect(await rows.first().getAttribute('class')).toBe('best');
    expect(await rows.first().textContent()).toContain(compare.runs[0].run);
    const runColumn = await rows.evaluateAll((trs) =>
      trs.map((tr) => tr.lastElementChild?.textContent),
    );
    expect(runColumn).toEqual(compare.runs.map((run: { run: string }) => run.run));

    // The picture has every run and every edge of `kwgraph graph`, the best lineage marked.
    const drawn = await page
      .locator('svg.run-graph g.run')
      .evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-run')));
    expect(drawn.sort()).toEqual(graph.runs.map((run: { id: string }) => run.id).sort());
    expect(await page.locator('svg.run-graph path.edge').count()).toBe(graph.edges.length);
    expect(await page.locator('svg.run-graph g.run.best').count()).toBe(3);

    expect(await page.locator('svg.bar-chart g.bar').count()).toBe(6);
    expect(await page.locator('svg.bar-chart g.bar.best').count()).toBe(1);
    const visibleChart = page.locator('.threshold-chart:not([hidden])');
    expect(await visibleChart.count()).toBe(1);
    expect(await visibleChart.getAttribute('data-path')).toBe('micro.recall_incorrect');
    expect(await visibleChart.locator('g.series').count()).toBe(6);
    await page.selectOption('#threshold-metric', 'score');
    expect(await page.locator('.threshold-chart:not([hidden])').getAttribute('data-path')).toBe(
      'score',
    );

    expect(await page.locator('table.costs tbody tr').count()).toBe(15);

    const screenshot = path.join(dir, 'out', 'report.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    expect((await stat(screenshot)).size).toBeGreaterThan(50_000);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('finds a row by search and shows each stage side by side for the chosen lineages', async () => {
    const page = await browser.newPage();
    await page.goto(`file://${report}`);
    await page.waitForSelector('#row-list li');
    expect(await page.locator('#row-list li').count()).toBe(42);

    await page.fill('#row-search', 'kwg0004');
    expect(await page.locator('#row-list li').count()).toBe(1);
    expect(await page.textContent('#row-count')).toBe('1 of 42 rows');
    await page.click('#row-list li');
    expect(await page.textContent('#row-detail h3')).toBe('Row KWG0004');

    // Three lineages are picked to start with; picking a fourth adds a column.
    const heads = page.locator('#row-detail .cell.head');
    expect(await heads.count()).toBe(3);
    await page.locator('#lineage-picks input').nth(3).check();
    expect(await heads.count()).toBe(4);

    const lineage = JSON.parse(
      (await runCli(dir, ['show', (await heads.first().getAttribute('title')) ?? '', '--json']))
        .stdout,
    ).manifest.lineage as Record<string, string>;
    const describe = (
      await readFile(
        path.join(dir, 'cache/runs', lineage['describe'] ?? '', 'outputs.jsonl'),
        'utf8',
      )
    )
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
      .find((line) => line.key === 'KWG0004');
    const cells = await page
      .locator('#row-detail .side-by-side > .cell:not(.head)')
      .allTextContents();
    expect(cells[0]).toBe(`description${describe.outputs.description}`);
    expect(cells).toHaveLength(3 * 4);
    await page.close();
  });

  it('draws the same lineage `kwgraph graph --format mermaid` and `dot` print', async () => {
    const html = await readFile(report, 'utf8');
    const unescape = (text: string) =>
      text
        .replaceAll('&lt;', '<')
        .replaceAll('&gt;', '>')
        .replaceAll('&quot;', '"')
        .replaceAll('&#39;', "'")
        .replaceAll('&amp;', '&');
    const blocks = [...html.matchAll(/<pre>([\s\S]*?)<\/pre>/g)].map((match) =>
      unescape(match[1] ?? ''),
    );
    expect(blocks).toContain((await runCli(dir, ['graph', '--format', 'mermaid'])).stdout);
    expect(blocks).toContain((await runCli(dir, ['graph', '--format', 'dot'])).stdout);
    expect(html).not.toMatch(/(src|href)="https?:/);
  });

  it('--open hands the file to the desktop opener', async () => {
    const bin = path.join(dir, 'fake-bin');
    const seen = path.join(dir, 'opened.txt');
    await mkdir(bin, { recursive: true });
    await writeFile(path.join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s' "$1" > '${seen}'\n`);
    await chmod(path.join(bin, 'xdg-open'), 0o755);
    const result = await runCli(dir, ['report', '--open'], {
      env: { PATH: `${bin}:${process.env['PATH'] ?? ''}` },
    });
    expect(result.code).toBe(0);
    // The opener runs detached; wait for it rather than for a fixed time.
    for (let attempt = 0; attempt < 100 && !existsSync(seen); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(await readFile(seen, 'utf8')).toBe(path.join(dir, 'report.html'));
  });
});
