/**
 * The kyua probe: the JUnit reader on reports written by the real kyua (Debian's, the same 0.13 FreeBSD
 * has in base) for a small suite of plain and TAP test programs that pass, fail, break and skip; on
 * hand-written reports for what plain programs cannot produce (an expected failure) and for what is not
 * a report; and the probe end to end.
 *
 * End to end, the probe runs kyua through a Runner written here: it runs the probe's /bin/sh script on
 * the host, with the BE's paths (/usr/tests/, /tmp/) rewritten to the tree's, so the host's kyua runs the
 * tree's Kyuafile and leaves its report where the probe reads it. The real runners (jail, chroot, bhyve)
 * put the command inside the BE, and are tested with the runners, not here. (No atf-sh here: Debian's
 * kyua package does not bring it, so the suite has no ATF program.)
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/schema.js';
import { countCases, describeCases, KyuaReportError, kyuaPaths, kyuaScript, parseKyuaJunit } from '../../../src/hunt/kyua.js';
import type { ProbeContext } from '../../../services/hunt/probe.js';
import type { Runner, RunOutcome, RunRequest } from '../../../services/hunt/runner.js';
import { probeNamed, probes } from '../../../services/hunt/probes.js';
import { needPeers } from '../../lan/peers.js';

const scratch = mkdtempSync(join(tmpdir(), 'be-kyua-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Where the host's kyua writes its own files (~/.kyua): a HOME of the test's, checked to stay empty. */
const home = join(scratch, 'home');
mkdirSync(home);

function write(path: string, text: string, mode = 0o644): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text, { mode });
}

/** The suite: every kind of result plain and TAP programs give. */
function writeSuite(dir: string): void {
  write(
    join(dir, 'Kyuafile'),
    [
      'syntax(2)',
      "test_suite('be')",
      "plain_test_program{name='pass'}",
      "plain_test_program{name='fail'}",
      "plain_test_program{name='broken'}",
      "plain_test_program{name='needs-tool', required_programs='/nonexistent/be-hunt-tool'}",
      "include('sub/Kyuafile')",
      '',
    ].join('\n'),
  );
  write(join(dir, 'sub', 'Kyuafile'), "syntax(2)\ntest_suite('be')\ntap_test_program{name='tap.sh'}\n");
  write(join(dir, 'pass'), '#!/bin/sh\necho all good\nexit 0\n', 0o755);
  write(join(dir, 'fail'), '#!/bin/sh\necho "out <&> line"\necho "err line" >&2\nexit 1\n', 0o755);
  write(join(dir, 'broken'), '#!/bin/sh\nkill -9 $$\n', 0o755);
  write(join(dir, 'needs-tool'), '#!/bin/sh\nexit 0\n', 0o755);
  write(join(dir, 'sub', 'tap.sh'), '#!/bin/sh\necho 1..2\necho "ok 1 - one"\necho "ok 2 # SKIP no network"\n', 0o755);
}

function writePassingSuite(dir: string): void {
  write(join(dir, 'Kyuafile'), "syntax(2)\ntest_suite('be')\nplain_test_program{name='pass'}\nplain_test_program{name='also'}\n");
  write(join(dir, 'pass'), '#!/bin/sh\nexit 0\n', 0o755);
  write(join(dir, 'also'), '#!/bin/sh\nexit 0\n', 0o755);
}

const env = { HOME: home };

describe('kyuaScript', () => {
  it('runs the suite and the report with named files in /tmp, and exits with kyua test’s status', () => {
    expect(kyuaScript('/usr/bin/kyua').split('\n')).toEqual([
      'rm -f /tmp/be-hunt-kyua.db /tmp/be-hunt-kyua.xml',
      '/usr/bin/kyua --logfile=/tmp/be-hunt-kyua.log test --kyuafile=/usr/tests/Kyuafile --results-file=/tmp/be-hunt-kyua.db',
      'status=$?',
      '/usr/bin/kyua --logfile=/tmp/be-hunt-kyua.log report-junit --results-file=/tmp/be-hunt-kyua.db --output=/tmp/be-hunt-kyua.xml',
      'rm -f /tmp/be-hunt-kyua.db /tmp/be-hunt-kyua.log',
      'exit $status',
    ]);
  });
});

const xmlHead = '<?xml version="1.0" encoding="iso-8859-1"?>\n<testsuite>\n<properties>\n<property name="cwd" value="/"/>\n</properties>\n';

describe('parseKyuaJunit on hand-written reports', () => {
  it('an expected failure is a pass, with its reason', () => {
    const xml = `${xmlHead}<testcase classname="lib.libc.gen.dir2_test" name="telldir_after_seekdir" time="1.250">
<system-err>Expected failure result details
-------------------------------

PR 12345: seekdir is broken

Test case metadata
------------------
</system-err>
</testcase>
</testsuite>
`;
    expect(parseKyuaJunit(xml)).toEqual([
      { classname: 'lib.libc.gen.dir2_test', name: 'telldir_after_seekdir', outcome: 'passed', seconds: 1.25, message: 'PR 12345: seekdir is broken' },
    ]);
  });

  it('a suite with no cases is an empty list', () => {
    expect(parseKyuaJunit(`${xmlHead}</testsuite>\n`)).toEqual([]);
  });

  it.each([
    ['not XML', 'kyua: E: No previous results file found', /not well-formed XML/],
    ['a cut-off report', `${xmlHead}<testcase classname="a" name="b" time="0.1">`, /not well-formed XML/],
    ['another root', '<testsuites><testsuite/><testsuite/></testsuites>', /expected one <testsuite>/],
    ['a case without classname', `${xmlHead}<testcase name="b" time="0.1"/></testsuite>`, /testcase 1: no classname/],
    ['a case without a time', `${xmlHead}<testcase classname="a" name="b"/></testsuite>`, /testcase 1 \(a:b\): time undefined is not a number/],
  ])('%s: a KyuaReportError', (_what, xml, message) => {
    expect(() => parseKyuaJunit(xml)).toThrow(KyuaReportError);
    expect(() => parseKyuaJunit(xml)).toThrow(message);
  });

  it('describeCases', () => {
    expect(describeCases({ passed: 412, failed: 3, skipped: 20, broken: 0 })).toBe('412 passed, 3 failed, 20 skipped');
    expect(describeCases({ passed: 1, failed: 0, skipped: 0, broken: 2 })).toBe('1 passed, 0 failed, 0 skipped, 2 broken');
  });
});

/** A Runner that runs the probe's command on the host, with the BE's /usr/tests/ and /tmp/ mapped into root. */
function hostRunner(calls: RunRequest[] = []): Runner {
  return {
    name: 'chroot',
    async run(request: RunRequest): Promise<RunOutcome> {
      calls.push(request);
      const [file, ...args] = request.command.map((arg) => arg.replace(/\/(usr\/tests|tmp)\//g, (path) => request.root + path));
      const result = await execa(file!, args, { reject: false, env, timeout: request.timeoutMs || undefined, all: true });
      if (result.all) request.onOutput?.(Buffer.from(result.all));
      if (result.timedOut) return { kind: 'timeout' };
      if (result.exitCode === undefined) return { kind: 'failed', reason: `killed by ${result.signal}` };
      return { kind: 'exited', exitCode: result.exitCode };
    },
  };
}

const stubRunner = (outcome: RunOutcome, calls: RunRequest[] = []): Runner => ({
  name: 'chroot',
  run: async (request) => {
    calls.push(request);
    return outcome;
  },
});

/** A BE with the suite at usr/tests and kyua where base has it (a link to the host's). */
function makeBe(name: string, suite: ((dir: string) => void) | undefined, kyua = true): string {
  const root = join(scratch, name);
  mkdirSync(join(root, 'tmp'), { recursive: true });
  suite?.(join(root, 'usr', 'tests'));
  if (kyua) {
    mkdirSync(join(root, 'usr', 'bin'), { recursive: true });
    symlinkSync('/usr/bin/kyua', join(root, 'usr', 'bin', 'kyua'));
  }
  return root;
}

function contextFor(root: string, runner: Runner, lines: string[] = []): ProbeContext {
  const request = { config: {} as Config, be: 'test', root, timeoutMs: 60_000 };
  return { release: '13.2-RELEASE', major: 13, runner, request, root, log: (line) => lines.push(line) };
}

describe('the kyua probe without kyua running', () => {
  it('no /usr/tests/Kyuafile: skip, nothing run', async () => {
    const calls: RunRequest[] = [];
    const outcome = await probes.kyua.run(contextFor(makeBe('no-tests', undefined), stubRunner({ kind: 'exited', exitCode: 0 }, calls)));
    expect(outcome).toEqual({ verdict: 'skip', exitCode: null, detail: 'no /usr/tests/Kyuafile: the release has no tests set (tests.txz, 11.0 and later)' });
    expect(calls).toEqual([]);
  });

  it('tests but no kyua in the BE (before 13.0, without the package): skip, nothing run', async () => {
    const calls: RunRequest[] = [];
    const outcome = await probes.kyua.run(contextFor(makeBe('no-kyua', writePassingSuite, false), stubRunner({ kind: 'exited', exitCode: 0 }, calls)));
    expect(outcome).toMatchObject({
      verdict: 'skip',
      exitCode: null,
      detail: expect.stringContaining('no kyua in the BE (/usr/bin/kyua or /usr/local/bin/kyua)'),
    });
    expect(calls).toEqual([]);
  });

  it.each([
    [{ kind: 'timeout' } as const, 'kyua timed out after 60 s', null],
    [{ kind: 'failed', reason: 'jail: cannot create' } as const, 'jail: cannot create', null],
    [{ kind: 'exited', exitCode: 2 } as const, 'kyua exited with status 2 (an unexpected error)', 2],
    [{ kind: 'exited', exitCode: 127 } as const, 'kyua exited with status 127 (kyua not found)', 127],
    [{ kind: 'exited', exitCode: 0 } as const, 'kyua report-junit left no report at /tmp/be-hunt-kyua.xml', 0],
  ])('runner outcome %j: error "%s"', async (runOutcome, detail, exitCode) => {
    const root = makeBe(`outcome-${runOutcome.kind}-${'exitCode' in runOutcome ? runOutcome.exitCode : ''}`, writePassingSuite);
    // A report an earlier run left must not be read as this one's, and is gone afterwards.
    writeFileSync(join(root, kyuaPaths.report), `${xmlHead}</testsuite>\n`);
    const calls: RunRequest[] = [];
    expect(await probes.kyua.run(contextFor(root, stubRunner(runOutcome, calls)))).toEqual({ verdict: 'error', exitCode, detail });
    expect(calls.map((request) => request.command.slice(0, 2))).toEqual([['/bin/sh', '-c']]);
    expect(readdirSync(join(root, 'tmp'))).toEqual([]);
  });

  it('a report that is not one: error naming the file', async () => {
    const root = makeBe('garbage', writePassingSuite);
    const runner: Runner = {
      name: 'chroot',
      run: async () => {
        writeFileSync(join(root, kyuaPaths.report), 'kyua: E: something\n');
        return { kind: 'exited', exitCode: 0 };
      },
    };
    expect(await probes.kyua.run(contextFor(root, runner))).toMatchObject({
      verdict: 'error',
      exitCode: 0,
      detail: expect.stringMatching(/^\/tmp\/be-hunt-kyua.xml: not well-formed XML/),
    });
    expect(existsSync(join(root, kyuaPaths.report))).toBe(false);
  });

  it('a symbolic link where the report should be is not followed out of the BE: error', async () => {
    const root = makeBe('report-link', writePassingSuite);
    const secret = join(scratch, 'host-file.xml');
    writeFileSync(secret, `${xmlHead}</testsuite>\n`);
    const runner: Runner = {
      name: 'chroot',
      run: async () => {
        symlinkSync(secret, join(root, kyuaPaths.report));
        return { kind: 'exited', exitCode: 0 };
      },
    };
    expect(await probes.kyua.run(contextFor(root, runner))).toMatchObject({ verdict: 'error', exitCode: 0, detail: expect.stringContaining('ELOOP') });
    expect(existsSync(secret)).toBe(true);
    expect(readdirSync(join(root, 'tmp'))).toEqual([]);
  });

  it('probeNamed finds it; it has no figure', () => {
    expect(probeNamed('kyua')).toBe(probes.kyua);
    expect(probes.kyua.valueLabel).toBeUndefined();
  });
});

const peers = needPeers('kyua probe', ['kyua']);

describe.skipIf(peers.skip)('with the real kyua (Debian)', () => {
  it('parseKyuaJunit reads what kyua report-junit writes: names, outcomes, reasons, times', async () => {
    const dir = join(scratch, 'direct');
    writeSuite(dir);
    const kyua = (...args: string[]) => execa('kyua', [`--logfile=${join(dir, 'kyua.log')}`, ...args], { reject: false, env, cwd: dir });
    const test = await kyua('test', `--kyuafile=${join(dir, 'Kyuafile')}`, `--results-file=${join(dir, 'results.db')}`);
    expect(test.exitCode, test.stderr).toBe(1); // kyua-test(1): 1 when a case failed
    const report = await kyua('report-junit', `--results-file=${join(dir, 'results.db')}`, `--output=${join(dir, 'report.xml')}`);
    expect(report.exitCode, report.stderr).toBe(0);

    const cases = parseKyuaJunit(readFileSync(join(dir, 'report.xml'), 'latin1'));
    expect(cases.map(({ seconds, ...rest }) => rest)).toEqual([
      { classname: 'broken', name: 'main', outcome: 'broken', message: 'Received signal 9' },
      { classname: 'fail', name: 'main', outcome: 'failed', message: 'Returned non-success exit status 1' },
      { classname: 'needs-tool', name: 'main', outcome: 'skipped', message: "Required program '/nonexistent/be-hunt-tool' not found" },
      { classname: 'pass', name: 'main', outcome: 'passed' },
      // sub/tap.sh: kyua writes the program's path with dots for slashes.
      { classname: 'sub.tap.sh', name: 'main', outcome: 'passed' },
    ]);
    for (const { seconds } of cases) expect(seconds).toBeGreaterThanOrEqual(0);
    expect(countCases(cases)).toEqual({ passed: 2, failed: 1, skipped: 1, broken: 1 });
    expect(readdirSync(home)).toEqual([]); // --logfile and --results-file: nothing in ~/.kyua
  });

  it('the probe end to end: a failing suite is bad, with every case; nothing left in /tmp', async () => {
    const root = makeBe('e2e-failing', writeSuite);
    const calls: RunRequest[] = [];
    const lines: string[] = [];
    const output: Buffer[] = [];
    const context = contextFor(root, hostRunner(calls), lines);
    const outcome = await probes.kyua.run({ ...context, request: { ...context.request, onOutput: (chunk) => output.push(chunk) } });
    expect(outcome).toMatchObject({ verdict: 'bad', exitCode: 1, detail: '2 passed, 1 failed, 1 skipped, 1 broken' });
    expect(outcome.cases?.map((c) => `${c.classname}:${c.name} ${c.outcome}`)).toEqual([
      'broken:main broken',
      'fail:main failed',
      'needs-tool:main skipped',
      'pass:main passed',
      'sub.tap.sh:main passed',
    ]);
    expect(calls[0]?.command).toEqual(['/bin/sh', '-c', kyuaScript('/usr/bin/kyua')]);
    expect(Buffer.concat(output).toString()).toContain('3/5 passed (2 failed)');
    expect(lines).toContain('kyua: failed: fail:main: Returned non-success exit status 1');
    expect(lines).toContain('kyua: broken: broken:main: Received signal 9');
    expect(readdirSync(join(root, 'tmp'))).toEqual([]);
    expect(readdirSync(home)).toEqual([]);
  });

  it('the probe end to end: a passing suite is good', async () => {
    const outcome = await probes.kyua.run(contextFor(makeBe('e2e-passing', writePassingSuite), hostRunner()));
    expect(outcome).toMatchObject({ verdict: 'good', exitCode: 0, detail: '2 passed, 0 failed, 0 skipped' });
    expect(outcome.cases).toHaveLength(2);
  });

  it('a Kyuafile kyua cannot load: kyua exits 2, an error of the run, not a bad release', async () => {
    const root = makeBe('e2e-unloadable', (dir) =>
      write(join(dir, 'Kyuafile'), "syntax(2)\ntest_suite('be')\nplain_test_program{name='x', required_programs={'a'}}\n"),
    );
    expect(await probes.kyua.run(contextFor(root, hostRunner()))).toEqual({
      verdict: 'error',
      exitCode: 2,
      detail: 'kyua exited with status 2 (an unexpected error)',
    });
    expect(readdirSync(join(root, 'tmp'))).toEqual([]);
  });
});
