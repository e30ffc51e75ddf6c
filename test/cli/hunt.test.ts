/**
 * `be hunt` and `be bisect` end to end with the real chroot runner: releases built as real dist sets
 * (test/lan/hunt-mirror.ts: Debian's static busybox as the userland, and /usr/bin/regress, which
 * regresses in some releases), installed by `be install`'s own path from a local mirror into dir-backend
 * BEs, the test run in a chroot of each. The JUnit file is read back with an XML parser.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { XMLParser } from 'fast-xml-parser';
import { parse as parseJUnit, type TestSuites } from 'junit2json';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installSettings } from '../lan/mirror.js';
import { buildHuntMirror, regressCommand } from '../lan/hunt-mirror.js';
import { staticBusybox } from '../lan/debian.js';
import { needPeers } from '../lan/peers.js';
import { waitFor } from '../lan/wait.js';
import { be, beMain } from './be.js';

const peers = needPeers('be hunt and be bisect (chroot runner)', ['tar', 'xz', 'chroot', 'apt-get', 'dpkg'], { root: true });

interface JsonResult {
  release: string;
  verdict: string;
  exitCode: number | null;
  seconds: number;
  value?: number;
}

describe.skipIf(peers.skip)('be hunt with the chroot runner', { timeout: 240_000 }, () => {
  let dir: string;
  let mirror: string;
  let flags: string[];
  const run = async (args: string[]) => {
    const r = await be([...flags, ...args], { timeout: 200_000 });
    return { code: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
  };
  const five = '13.0,13.1,13.2,13.3,13.4';
  const runs = () => readdirSync(join(dir, 'state', 'hunt')).sort();

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'be-hunt-'));
    mirror = buildHuntMirror(join(dir, 'mirror'), join(dir, 'work'), staticBusybox(), [
      // good, good, bad, bad, good: the regression of the third, fixed in the fifth.
      { version: '13.0', regress: 'works', tools: { count: 4, withPage: 1 } },
      { version: '13.1', regress: 'works', tools: { count: 4, withPage: 2 } },
      { version: '13.2', regress: 'regressed', tools: { count: 4, withPage: 3 } },
      { version: '13.3', regress: 'regressed', tools: { count: 4, withPage: 3 } },
      { version: '13.4', regress: 'works', tools: { count: 4, withPage: 4 } },
      // For bisect and skip: 12.x all good but 12.3, which cannot run the test.
      { version: '12.0', regress: 'works' },
      { version: '12.1', regress: 'works' },
      { version: '12.2', regress: 'works' },
      { version: '12.3', regress: 'absent' },
      { version: '12.4', regress: 'works' },
    ]);
    flags = installSettings(dir);
  }, 240_000);
  afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('creates and installs each release, runs the test in a chroot of it: good, good, bad, bad, good; logs kept; exit 1', async () => {
    const result = await run(['hunt', '--releases', five, '-p', mirror, '--runner', 'chroot', '--json', '--', ...regressCommand]);
    expect(result.code, result.stderr).toBe(1);
    const results = JSON.parse(result.stdout) as JsonResult[];
    expect(results.map((r) => [r.release, r.verdict, r.exitCode])).toEqual([
      ['13.0-RELEASE', 'good', 0],
      ['13.1-RELEASE', 'good', 0],
      ['13.2-RELEASE', 'bad', 1],
      ['13.3-RELEASE', 'bad', 1],
      ['13.4-RELEASE', 'good', 0],
    ]);
    for (const r of results) expect(Object.keys(r).sort()).toEqual(['exitCode', 'release', 'seconds', 'verdict']);
    // Each release in its own BE, installed by be install and recorded.
    const listed = JSON.parse((await run(['list', '--json'])).stdout) as { name: string; release: string | null }[];
    expect(listed.filter((b) => b.name.startsWith('r13.')).map((b) => [b.name, b.release])).toEqual([
      ['r13.0', '13.0-RELEASE'],
      ['r13.1', '13.1-RELEASE'],
      ['r13.2', '13.2-RELEASE'],
      ['r13.3', '13.3-RELEASE'],
      ['r13.4', '13.4-RELEASE'],
    ]);
    const [runId] = runs();
    const log = readFileSync(join(dir, 'state', 'hunt', runId!, '13.2-RELEASE', 'log'), 'utf8');
    expect(log).toContain('telldir after seekdir: returned the wrong entry (13.2-RELEASE)');
    expect(log).toContain('be: installing 13.2-RELEASE into r13.2');
    expect(existsSync(join(dir, 'state', 'hunt', runId!, 'report.html'))).toBe(true);
    // Nothing of the chroot is left mounted.
    expect(readFileSync('/proc/self/mounts', 'utf8')).not.toContain(dir);
  });

  it('--jobs 2 on a fresh appliance (BEs created and installed two at a time) gives the same verdicts; the table names each release', async () => {
    const fresh = installSettings(join(dir, 'jobs2'));
    const r = await be([...fresh, 'hunt', '--releases', five, '-p', mirror, '--runner', 'chroot', '--jobs', '2', '--', ...regressCommand], {
      timeout: 200_000,
    });
    const result = { code: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr.match(/installing into r13\.\d/g)).toHaveLength(5);
    const listed = JSON.parse(String((await be([...fresh, 'list', '--json'])).stdout)) as { name: string; release: string | null }[];
    expect(listed.map((b) => b.release)).toEqual(['13.0-RELEASE', '13.1-RELEASE', '13.2-RELEASE', '13.3-RELEASE', '13.4-RELEASE']);
    // Reused on the next run: nothing installed again.
    const again = await be([...fresh, 'hunt', '--releases', five, '-p', mirror, '--runner', 'chroot', '--jobs', '2', '--', ...regressCommand], {
      timeout: 200_000,
    });
    expect(String(again.stderr)).not.toContain('installing');
    const rows = result.stdout.split('\n').filter((l) => /^\s*1[23]\.\d-RELEASE/.test(l));
    expect(rows.map((l) => l.trim().split(/\s+/).slice(0, 2))).toEqual([
      ['13.0-RELEASE', 'good'],
      ['13.1-RELEASE', 'good'],
      ['13.2-RELEASE', 'bad'],
      ['13.3-RELEASE', 'bad'],
      ['13.4-RELEASE', 'good'],
    ]);
    expect(rows[2]).toContain('returned the wrong entry');
  });

  it('--junit writes one testcase per release, the bad ones failures; --report prints a run again without running', async () => {
    const junit = join(dir, 'hunt.xml');
    const result = await run(['hunt', '--releases', five, '-p', mirror, '--runner', 'chroot', '--junit', junit, '--', ...regressCommand]);
    expect(result.code).toBe(1);
    // Read by a JUnit library as a CI would, then by a plain XML parser for the structure.
    const suitesRead = (await parseJUnit(readFileSync(junit, 'utf8'))) as TestSuites;
    expect(suitesRead).toMatchObject({ tests: 5, failures: 2 });
    expect(suitesRead.testsuite?.[0]?.testcase?.map((c) => c.name)).toEqual(['13.0-RELEASE', '13.1-RELEASE', '13.2-RELEASE', '13.3-RELEASE', '13.4-RELEASE']);
    const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(readFileSync(junit, 'utf8'));
    const suites = xml.testsuites.testsuite;
    const suite = Array.isArray(suites) ? suites[0] : suites;
    const cases = suite.testcase as { name: string; failure?: unknown }[];
    expect(cases).toHaveLength(5);
    expect(cases.filter((c) => c.failure !== undefined).map((c) => c.name)).toEqual([
      expect.stringContaining('13.2-RELEASE'),
      expect.stringContaining('13.3-RELEASE'),
    ]);

    const runId = runs().at(-1)!;
    const logFile = join(dir, 'state', 'hunt', runId, '13.0-RELEASE', 'log');
    const before = readFileSync(logFile, 'utf8');
    const again = await run(['hunt', '--report', runId, '--json']);
    expect(again.code).toBe(1);
    expect((JSON.parse(again.stdout) as JsonResult[]).map((r) => r.verdict)).toEqual(['good', 'good', 'bad', 'bad', 'good']);
    expect(readFileSync(logFile, 'utf8')).toBe(before);
    expect(runs().at(-1)).toBe(runId);
  });

  it('exit 125 is skip, a test past --timeout is error (not bad), and no chroot process or mount is left', async () => {
    const skip = await run(['hunt', '--releases', '12.3,12.4', '-p', mirror, '--runner', 'chroot', '--json', '--', ...regressCommand]);
    expect(skip.code, skip.stderr).toBe(0);
    expect((JSON.parse(skip.stdout) as JsonResult[]).map((r) => [r.release, r.verdict, r.exitCode])).toEqual([
      ['12.3-RELEASE', 'skip', 125],
      ['12.4-RELEASE', 'good', 0],
    ]);
    const slow = await run([
      'hunt',
      '--releases',
      '12.4',
      '-p',
      mirror,
      '--runner',
      'chroot',
      '--timeout',
      '1',
      '--json',
      '--',
      '/bin/sh',
      '-c',
      'echo started; sleep 30',
    ]);
    expect(slow.code).toBe(1);
    expect(JSON.parse(slow.stdout)).toEqual([{ release: '12.4-RELEASE', verdict: 'error', exitCode: null, seconds: expect.any(Number) }]);
    expect((await execa('pgrep', ['-f', 'sleep 31'], { reject: false })).stdout).toBe('');
    expect(readFileSync('/proc/self/mounts', 'utf8')).not.toContain(dir);
  });

  it('--probe manratio charts the figure of each release from its files', async () => {
    const result = await run(['hunt', '--releases', five, '-p', mirror, '--runner', 'chroot', '--probe', 'manratio', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const values = (JSON.parse(result.stdout) as JsonResult[]).map((r) => r.value);
    // The ratio rises with each release's pages (1, 2, 3, 3, 4 of the 4 tools).
    expect(values.every((v) => typeof v === 'number' && v > 0 && v <= 1)).toBe(true);
    expect(values[0]!).toBeLessThan(values[1]!);
    expect(values[1]!).toBeLessThan(values[2]!);
    expect(values[2]).toBe(values[3]);
    expect(values[3]!).toBeLessThan(values[4]!);
    const html = readFileSync(join(dir, 'state', 'hunt', runs().at(-1)!, 'report.html'), 'utf8');
    expect(html).toContain('<canvas');
  });

  it('a run cut by SIGINT is resumed: kept results are not run again', async () => {
    const releasesFile = join(dir, 'releases.txt');
    writeFileSync(releasesFile, '# the hunt of the talk\n13.0\n13.1\n13.2\n');
    const command = ['/bin/sh', '-c', 'sleep 1; exec /usr/bin/regress'];
    const child = execa('node', [beMain, ...flags, 'hunt', '--releases', releasesFile, '-p', mirror, '--runner', 'chroot', '--', ...command], {
      reject: false,
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    await waitFor(() => stderr.includes('be: 13.0-RELEASE: good'), 'the first release done', { timeoutMs: 60_000, intervalMs: 20 });
    child.kill('SIGINT');
    const cut = await child;
    expect(cut.exitCode, stderr).toBe(130);
    const runId = runs().at(-1)!;
    const resumed = await run(['hunt', '--resume', runId, '--json']);
    expect(resumed.code, resumed.stderr).toBe(1);
    expect(resumed.stderr).toContain('be: 13.0-RELEASE: good (exit 0)');
    expect(resumed.stderr).toMatch(/13\.0-RELEASE: good .*\(kept from before\)/);
    expect(resumed.stderr).not.toMatch(/13\.1-RELEASE: .*kept from before/);
    expect((JSON.parse(resumed.stdout) as JsonResult[]).map((r) => r.verdict)).toEqual(['good', 'good', 'bad']);
    expect(readFileSync('/proc/self/mounts', 'utf8')).not.toContain(dir);
  });

  it('refuses in one line, exit 2: no test, both a probe and a command, an unknown probe, a bad release, no releases', async () => {
    const refusals: [string[], RegExp][] = [
      [['hunt', '--releases', five], /^be: name the test: --probe NAME, or -- COMMAND\.\.\.$/],
      [['hunt', '--releases', five, '--probe', 'manratio', '--', 'true'], /^be: --probe and a command after -- are one or the other$/],
      [['hunt', '--releases', five, '--probe', 'nope'], /^be: .*nope.*manratio/],
      [['hunt', '--releases', '13.0,fourteen', '--', 'true'], /^be: --releases: -r fourteen: not a release/],
      [['hunt', '--releases', join(dir, 'missing.txt'), '--', 'true'], /^be: --releases .*missing\.txt: no such file$/],
      [['hunt', '--', 'true'], /^be: be hunt: --releases FILE or R1,R2,\.\.\. is required$/],
      [['hunt', '--report', '20260101-000000'], /^be: no hunt run 20260101-000000 in /],
    ];
    for (const [args, expected] of refusals) {
      const result = await run(args);
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toMatch(expected);
    }
  });
});

describe.skipIf(peers.skip)('be bisect with the chroot runner', { timeout: 240_000 }, () => {
  let dir: string;
  let mirror: string;
  let flags: string[];
  const nine = ['12.0', '12.1', '12.2', '12.3', '12.4', '13.0', '13.1', '13.2', '13.3'];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'be-bisect-'));
    // The first bad release is 13.0; 12.3 cannot run the test (125).
    mirror = buildHuntMirror(
      join(dir, 'mirror'),
      join(dir, 'work'),
      staticBusybox(),
      nine.map((version) => ({ version, regress: version === '12.3' ? 'absent' : version >= '13.0' ? 'regressed' : 'works' })),
    );
    flags = installSettings(dir);
  }, 240_000);
  afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('over nine releases finds the first bad one in at most ceil(log2 9) + 2 runs, the ends first, stepping past a skip', async () => {
    const result = await be(
      [...flags, 'bisect', '--releases', nine.join(','), '--good', '12.0', '--bad', '13.3', '-p', mirror, '--runner', 'chroot', '--', ...regressCommand],
      {
        timeout: 200_000,
      },
    );
    expect(result.exitCode, String(result.stderr)).toBe(0);
    const lines = String(result.stdout).trim().split('\n');
    const steps = lines.filter((l) => l.startsWith('step '));
    expect(steps[0]).toMatch(/^step 1: 12\.0-RELEASE good/);
    expect(steps[1]).toMatch(/^step 2: 13\.3-RELEASE bad/);
    expect(steps.length).toBeLessThanOrEqual(Math.ceil(Math.log2(9)) + 2);
    expect(lines.at(-1)).toBe('first bad release: 13.0-RELEASE; last good: 12.4-RELEASE');
  });

  it('refuses ends that are not among the releases, or in the wrong order, exit 2, before making a run', async () => {
    const before = existsSync(join(dir, 'state', 'hunt')) ? readdirSync(join(dir, 'state', 'hunt')).length : 0;
    for (const [good, bad, expected] of [
      ['11.4', '13.3', /^be: --good 11\.4-RELEASE: not among the releases/],
      ['13.3', '12.0', /^be: --good 13\.3-RELEASE must be older than --bad 12\.0-RELEASE$/],
    ] as const) {
      const result = await be([
        ...flags,
        'bisect',
        '--releases',
        nine.join(','),
        '--good',
        good,
        '--bad',
        bad,
        '-p',
        mirror,
        '--runner',
        'chroot',
        '--',
        'true',
      ]);
      expect(result.exitCode).toBe(2);
      expect(String(result.stderr)).toMatch(expected);
    }
    expect(existsSync(join(dir, 'state', 'hunt')) ? readdirSync(join(dir, 'state', 'hunt')).length : 0).toBe(before);
  });

  it('without --releases takes what the mirror offers; refuses a good end that tests bad', async () => {
    const result = await be([...flags, 'bisect', '--good', '13.0', '--bad', '13.3', '-p', mirror, '--runner', 'chroot', '--json', '--', ...regressCommand], {
      timeout: 200_000,
    });
    expect(result.exitCode).toBe(1);
    expect(String(result.stderr).trimEnd().split('\n').at(-1)).toBe('be: --good 13.0-RELEASE is not good: it tested bad');
    const json = JSON.parse(String(result.stdout));
    expect(json).toMatchObject({ kind: 'refused', steps: [{ release: '13.0-RELEASE', verdict: 'bad' }] });
  });
});
