/**
 * The HTML report of `be hunt` in a real browser: Debian's Chromium, headless, driven by puppeteer-core.
 * The files are written by writeReports (so with the Chart.js bundle read from node_modules) and opened
 * by file:// URL. The page must show the matrix, draw the chart, raise no error and ask for nothing
 * beyond its own file: every other request is aborted and counted.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { execa } from 'execa';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HuntReport, ReleaseResult } from '../../src/hunt/types.js';
import { chartScript, writeReports } from '../../services/hunt/report-files.js';
import { packageRoot } from '../../services/config.js';
import { needPeers } from '../lan/peers.js';

const peers = needPeers('hunt HTML report in Chromium', ['chromium']);

const result = (release: string, fields: Partial<ReleaseResult>): ReleaseResult => ({
  release,
  verdict: 'good',
  exitCode: 0,
  seconds: 1,
  lastLine: '',
  log: `/var/db/be/hunt/run/${release}.log`,
  ...fields,
});

const commandReport: HuntReport = {
  run: '20261201-134511-ls',
  test: { command: ['sh', '-c', 'ls /usr/bin | wc -l'] },
  runner: 'chroot',
  started: '2026-12-01T13:45:11Z',
  results: [
    result('12.4-RELEASE', { lastLine: '1412' }),
    result('13.2-RELEASE', { verdict: 'bad', exitCode: 1, lastLine: 'FAIL </script><b>bold</b><script>window.injected = 1</script>' }),
    result('14.0-RELEASE', { verdict: 'skip', exitCode: 125, lastLine: 'cannot test' }),
    result('14.1-RELEASE</script><b>', { verdict: 'error', exitCode: null, detail: 'timed out after 30 s' }),
  ],
};

const probeReport: HuntReport = {
  run: '20261201-140000-manratio',
  test: { probe: 'manratio' },
  runner: 'jail',
  started: '2026-12-01T14:00:00Z',
  valueLabel: 'executables with a manual page',
  results: [
    result('11.4-RELEASE', { value: 0.97, detail: '1455/1500' }),
    result('12.4-RELEASE', { value: 0.955, detail: '1432/1500' }),
    result('13.2-RELEASE', { verdict: 'bad', exitCode: 1, value: 0.81, detail: '1215/1500' }),
    result('14.1-RELEASE', { verdict: 'bad', exitCode: 1, value: 0.8, detail: '1200/1500' }),
  ],
};

/** What the page did wrong while it loaded and ran. */
interface Problems {
  errors: string[];
  requests: string[];
}

// The checks run in the page; the test's tsconfig has no DOM library, so this is the little they use.
interface ChartGlobal {
  Chart?: { getChart(canvas: unknown): { data: { labels: string[]; datasets: { data: (number | null)[] }[] } } | undefined };
  injected?: number;
}

describe.skipIf(peers.skip)('the hunt HTML report in headless Chromium', { timeout: 60_000 }, () => {
  let browser: Browser | undefined;
  let dir = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'be-hunt-report-'));
    await writeReports(commandReport, { html: join(dir, 'command.html') });
    await writeReports(probeReport, { html: join(dir, 'manratio.html'), json: join(dir, 'manratio.json'), junit: join(dir, 'manratio.xml') });
    browser = await puppeteer.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      // A pipe, not a DevTools port: the test opens no socket. Puppeteer's defaults already turn off
      // background networking, component updates and sync.
      pipe: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-proxy-server', '--disable-features=Translate,OptimizationHints,MediaRouter'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function open(file: string): Promise<{ page: Page; problems: Problems }> {
    const page = await browser!.newPage();
    const problems: Problems = { errors: [], requests: [] };
    page.on('console', (message) => {
      if (message.type() === 'error') problems.errors.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (err) => problems.errors.push(`pageerror: ${String(err)}`));
    page.on('requestfailed', (request) => problems.errors.push(`requestfailed: ${request.url()} ${request.failure()?.errorText ?? ''}`));
    await page.setRequestInterception(true);
    const own = pathToFileURL(file).href;
    page.on('request', (request) => {
      if (request.url() === own) return void request.continue();
      problems.requests.push(request.url());
      return void request.abort();
    });
    await page.goto(own, { waitUntil: 'load' });
    return { page, problems };
  }

  it('shows the matrix: a row per release with its verdict, and markup in the output stays text', async () => {
    const { page, problems } = await open(join(dir, 'command.html'));
    try {
      const rows = await page.$$eval('#hunt-matrix tbody tr', (trs) =>
        trs.map((tr) => {
          const verdict = tr.querySelector('td.verdict');
          return {
            release: tr.querySelector('td.release')?.textContent,
            verdict: verdict?.textContent,
            classes: verdict?.className,
            detail: tr.querySelector('td.detail')?.textContent,
          };
        }),
      );
      expect(rows.map((r) => [r.release, r.verdict, r.classes])).toEqual(
        commandReport.results.map((r) => [r.release, r.verdict, `verdict verdict-${r.verdict}`]),
      );
      expect(rows[1]!.detail).toBe('FAIL </script><b>bold</b><script>window.injected = 1</script>');
      expect(rows[3]!.detail).toBe('timed out after 30 s');
      expect(await page.$$eval('body b', (bs) => bs.length)).toBe(0);
      expect(await page.evaluate(() => (globalThis as ChartGlobal).injected)).toBeUndefined();
      expect(await page.$eval('h1', (h) => h.textContent)).toBe(`be hunt: sh -c 'ls /usr/bin | wc -l'`);
      expect(await page.$eval('.runner', (d) => d.textContent)).toBe('chroot');
      expect(await page.$eval('.run', (d) => d.textContent)).toBe('20261201-134511-ls');
      expect(await page.$eval('.summary', (p) => p.textContent)).toBe('4 releases: 1 good, 1 bad, 1 skip, 1 error');
      // No figure, no chart, and no Chart.js either.
      expect(await page.$('#hunt-chart')).toBeNull();
      expect(await page.evaluate(() => typeof (globalThis as ChartGlobal).Chart)).toBe('undefined');
      const embedded = await page.$eval('#hunt-data', (s) => JSON.parse(s.textContent ?? 'null'));
      expect(embedded).toStrictEqual(JSON.parse(JSON.stringify(commandReport)));
      expect(problems).toEqual({ errors: [], requests: [] });
    } finally {
      await page.close();
    }
  });

  it('draws the value per release with Chart.js', async () => {
    const { page, problems } = await open(join(dir, 'manratio.html'));
    try {
      const chart = await page.$eval('#hunt-chart', (canvas) => {
        const drawn = (globalThis as ChartGlobal).Chart?.getChart(canvas);
        const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let painted = 0;
        for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
        return { labels: drawn?.data.labels, values: drawn?.data.datasets[0]?.data, width: canvas.width, height: canvas.height, painted };
      });
      expect(chart.labels).toEqual(probeReport.results.map((r) => r.release));
      expect(chart.values).toEqual(probeReport.results.map((r) => r.value));
      expect(chart.width).toBeGreaterThan(0);
      expect(chart.height).toBeGreaterThan(0);
      // Axes, line and points: a good share of the canvas is ink, not a blank bitmap.
      expect(chart.painted).toBeGreaterThan(1000);
      const values = await page.$$eval('#hunt-matrix tbody td.value', (tds) => tds.map((td) => td.textContent));
      expect(values).toEqual(['0.97', '0.955', '0.81', '0.8']);
      expect(await page.$$eval('#hunt-matrix tbody td.verdict', (tds) => tds.map((td) => td.className))).toEqual([
        'verdict verdict-good',
        'verdict verdict-good',
        'verdict verdict-bad',
        'verdict verdict-bad',
      ]);
      expect(problems).toEqual({ errors: [], requests: [] });
    } finally {
      await page.close();
    }
  });

  it('has no URL of its own: the only ones in the file are in the Chart.js licence comments', async () => {
    const html = readFileSync(join(dir, 'manratio.html'), 'utf8');
    const script = await chartScript();
    expect(html).toContain(script.slice(0, 200));
    const urls = html.match(/https?:\/\/[^\s"'<>)]+/g) ?? [];
    for (const url of urls) expect(script).toContain(`* ${url}`);
    expect(JSON.parse(readFileSync(join(dir, 'manratio.json'), 'utf8'))).toHaveLength(4);
    expect(readFileSync(join(dir, 'manratio.xml'), 'utf8')).toContain('<testsuite name="manratio"');
  });

  it('finds Chart.js from the compiled module too (dist/, as the installed command runs)', async () => {
    const compiled = (await import(join(packageRoot(), 'dist', 'services', 'hunt', 'report-files.js'))) as { chartScript: () => Promise<string> };
    expect(await compiled.chartScript()).toBe(await chartScript());
  });

  it('finds Chart.js from an esbuild bundle beside dist/bin, built with the command bundle’s banner', async () => {
    const bundleScript = (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { scripts: { bundle: string } }).scripts.bundle;
    const banner = /--banner:js="([^"]*)"/.exec(bundleScript)?.[1];
    expect(banner).toContain('createRequire');
    const entry = join(dir, 'entry.ts');
    writeFileSync(
      entry,
      `import { chartScript } from ${JSON.stringify(join(packageRoot(), 'services', 'hunt', 'report-files.ts'))};\nprocess.stdout.write(String((await chartScript()).length));\n`,
    );
    // Where import.meta.url points in the shipped bundle: a directory of dist/, resolving node_modules upwards.
    const outdir = join(packageRoot(), 'dist', `.hunt-report-bundle-${process.pid}`);
    mkdirSync(outdir, { recursive: true });
    try {
      await build({
        entryPoints: [entry],
        bundle: true,
        platform: 'node',
        target: 'node20.19',
        format: 'esm',
        splitting: true,
        outdir,
        outExtension: { '.js': '.mjs' },
        banner: { js: banner! },
        logLevel: 'warning',
      });
      const run = await execa('node', [join(outdir, 'entry.mjs')], { reject: false });
      expect(run.stderr).toBe('');
      expect(Number(run.stdout)).toBe((await chartScript()).length);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
