import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { formatTable, inlineScript, printable, summary, testName, toHtml, toJson, toJUnit } from '../../../src/hunt/report.js';
import type { CaseResult, HuntReport, ReleaseResult } from '../../../src/hunt/types.js';

const result = (release: string, fields: Partial<ReleaseResult>): ReleaseResult => ({
  release,
  verdict: 'good',
  exitCode: 0,
  seconds: 1,
  lastLine: '',
  log: `/var/db/be/hunt/run-1/${release}.log`,
  ...fields,
});

/** A user's command over five releases: every verdict, an ANSI-coloured last line, a timeout. */
const commandReport: HuntReport = {
  run: '20261201-134511-ls',
  test: { command: ['sh', '-c', 'ls /usr/bin | wc -l'] },
  runner: 'chroot',
  started: '2026-12-01T13:45:11.250Z',
  results: [
    result('12.4-RELEASE', { seconds: 2.04, lastLine: '1412' }),
    result('13.0-RELEASE', { seconds: 1.96, lastLine: '1409' }),
    result('13.2-RELEASE', { verdict: 'bad', exitCode: 1, seconds: 3.5, lastLine: '\x1b[31mls: /usr/bin: Input/output error\x1b[0m' }),
    result('14.0-RELEASE', { verdict: 'skip', exitCode: 125, seconds: 0.25, lastLine: 'cannot test this release' }),
    result('14.1-RELEASE', { verdict: 'error', exitCode: null, seconds: 30, lastLine: 'still running', detail: 'timed out after 30 s' }),
  ],
};

/** manratio: a figure per release. */
const probeReport: HuntReport = {
  run: '20261201-140000-manratio',
  test: { probe: 'manratio' },
  runner: 'jail',
  started: '2026-12-01T14:00:00.000Z',
  valueLabel: 'executables with a manual page',
  results: [
    result('13.0-RELEASE', { seconds: 4, value: 0.9512, detail: '1427/1500 executables have a page' }),
    result('14.0-RELEASE', { seconds: 4.2, value: 0.93, detail: '1395/1500 executables have a page' }),
    result('14.1-RELEASE', { verdict: 'error', exitCode: null, seconds: 0.1, detail: 'mount failed' }),
  ],
};

const kyuaCase = (classname: string, name: string, outcome: CaseResult['outcome'], message?: string): CaseResult => ({
  classname,
  name,
  outcome,
  seconds: 0.5,
  ...(message === undefined ? {} : { message }),
});

/** kyua: cases per release; the last release timed out with only part of its cases run. */
const kyuaReport: HuntReport = {
  run: 'run-kyua',
  test: { probe: 'kyua' },
  runner: 'bhyve',
  started: '2026-12-01T15:00:00Z',
  results: [
    result('13.0-RELEASE', {
      detail: '3 passed',
      cases: [
        kyuaCase('lib/libc/gen/dir2_test', 'telldir_after_seekdir', 'passed'),
        kyuaCase('lib/libc/gen/dir2_test', 'telldir_at_end_of_block', 'passed'),
        kyuaCase('bin/sh/builtins', 'cd1', 'passed'),
      ],
    }),
    result('14.0-RELEASE', {
      verdict: 'bad',
      exitCode: 1,
      detail: '1 passed, 1 failed, 1 skipped, 1 broken',
      cases: [
        kyuaCase('lib/libc/gen/dir2_test', 'telldir_after_seekdir', 'failed', 'telldir returned 12, expected 8 <&> "quoted" ]]>'),
        kyuaCase('lib/libc/gen/dir2_test', 'telldir_at_end_of_block', 'passed'),
        kyuaCase('bin/sh/builtins', 'cd1', 'skipped', 'requires root'),
        kyuaCase('bin/sh/builtins', 'cd2', 'broken', 'premature exit'),
      ],
    }),
    result('14.1-RELEASE', {
      verdict: 'error',
      exitCode: null,
      detail: 'timed out after 600 s',
      cases: [kyuaCase('lib/libc/gen/dir2_test', 'telldir_after_seekdir', 'passed')],
    }),
  ],
};

describe('the terminal table', () => {
  it('lines up release, verdict, seconds and the detail or last line, then the summary', () => {
    expect(formatTable(commandReport, { color: false })).toBe(
      [
        'RELEASE       VERDICT  SECONDS  DETAIL',
        '12.4-RELEASE  good         2.0  1412',
        '13.0-RELEASE  good         2.0  1409',
        '13.2-RELEASE  bad          3.5  ls: /usr/bin: Input/output error',
        '14.0-RELEASE  skip         0.3  cannot test this release',
        '14.1-RELEASE  error       30.0  timed out after 30 s',
        '5 releases: 2 good, 1 bad, 1 skip, 1 error',
        '',
      ].join('\n'),
    );
  });

  it('paints only the verdict on a terminal: good green, bad red, skip yellow, error magenta', () => {
    const green = '\x1b[32m';
    const red = '\x1b[31m';
    const yellow = '\x1b[33m';
    const magenta = '\x1b[35m';
    const reset = '\x1b[0m';
    expect(formatTable(commandReport, { color: true })).toBe(
      [
        'RELEASE       VERDICT  SECONDS  DETAIL',
        `12.4-RELEASE  ${green}good${reset}         2.0  1412`,
        `13.0-RELEASE  ${green}good${reset}         2.0  1409`,
        `13.2-RELEASE  ${red}bad${reset}          3.5  ls: /usr/bin: Input/output error`,
        `14.0-RELEASE  ${yellow}skip${reset}         0.3  cannot test this release`,
        `14.1-RELEASE  ${magenta}error${reset}       30.0  timed out after 30 s`,
        '5 releases: 2 good, 1 bad, 1 skip, 1 error',
        '',
      ].join('\n'),
    );
  });

  it('cuts the detail to the terminal width, and never prints the command’s own escape sequences', () => {
    const table = formatTable(commandReport, { color: false, width: 50 });
    expect(table.split('\n')[3]).toBe('13.2-RELEASE  bad          3.5  ls: /usr/bin: Inp…');
    for (const line of table.split('\n')) expect(Array.from(line).length).toBeLessThanOrEqual(50);
    expect(formatTable(commandReport, { color: false, width: 50 })).not.toContain('\x1b');
    expect(formatTable(probeReport, { color: false, width: 60 })).toBe(
      [
        'RELEASE       VERDICT  SECONDS  DETAIL',
        '13.0-RELEASE  good         4.0  1427/1500 executables have…',
        '14.0-RELEASE  good         4.2  1395/1500 executables have…',
        '14.1-RELEASE  error        0.1  mount failed',
        '3 releases: 2 good, 1 error',
        '',
      ].join('\n'),
    );
  });

  it('counts in the summary only the verdicts that occurred', () => {
    expect(summary({ ...commandReport, results: commandReport.results.slice(0, 1) })).toBe('1 release: 1 good');
    expect(summary({ ...commandReport, results: [] })).toBe('0 releases');
    expect(formatTable({ ...commandReport, results: [] }, { color: true })).toBe('RELEASE  VERDICT  SECONDS  DETAIL\n0 releases\n');
  });

  it('names the test by the probe or by the command quoted for sh', () => {
    expect(testName(probeReport)).toBe('manratio');
    expect(testName(commandReport)).toBe(`sh -c 'ls /usr/bin | wc -l'`);
  });

  it('turns control characters and escape sequences into one printable line', () => {
    expect(printable('\x1b[1;31mred\x1b[0m\tand\r\nbold\x1b]0;title\x07 \x00end ')).toBe('red and bold end');
  });
});

describe('--json', () => {
  it('is exactly release, verdict, exitCode, seconds and value, in release order', () => {
    expect(toJson(probeReport)).toStrictEqual([
      { release: '13.0-RELEASE', verdict: 'good', exitCode: 0, seconds: 4, value: 0.9512 },
      { release: '14.0-RELEASE', verdict: 'good', exitCode: 0, seconds: 4.2, value: 0.93 },
      { release: '14.1-RELEASE', verdict: 'error', exitCode: null, seconds: 0.1 },
    ]);
    const rows = JSON.parse(JSON.stringify(toJson(commandReport))) as Record<string, unknown>[];
    expect(rows.map((r) => Object.keys(r))).toStrictEqual(Array(5).fill(['release', 'verdict', 'exitCode', 'seconds']));
    expect(rows.map((r) => r.verdict)).toEqual(['good', 'good', 'bad', 'skip', 'error']);
  });

  it('leaves out a value that is not a number JSON can carry (NaN from 0/0)', () => {
    const nan = { ...probeReport, results: [result('13.0-RELEASE', { value: Number.NaN })] };
    expect(JSON.stringify(toJson(nan))).toBe('[{"release":"13.0-RELEASE","verdict":"good","exitCode":0,"seconds":1}]');
  });
});

// The JUnit XML as fast-xml-parser reads it, with the elements that repeat always as arrays.
interface XmlCase {
  classname: string;
  name: string;
  time?: string;
  failure?: { message?: string; type?: string };
  error?: { message?: string; type?: string };
  skipped?: unknown;
  'system-out'?: string;
}
interface XmlSuite {
  name: string;
  tests: string;
  failures: string;
  errors: string;
  skipped: string;
  timestamp: string;
  properties: { property: { name: string; value: string }[] };
  testcase: XmlCase[];
}

function parseJUnit(xml: string): { testsuites: Record<string, string> & { testsuite: XmlSuite[] } } {
  expect(XMLValidator.validate(xml)).toBe(true);
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    parseTagValue: false,
    isArray: (name) => ['testsuite', 'testcase', 'property'].includes(name),
  });
  return parser.parse(xml);
}

/**
 * The subset of the Jenkins JUnit schema (junit-10.xsd) these reports use: the elements and
 * attributes it allows where it allows them, and its timestamp pattern (no zone, no fraction).
 */
function expectJenkinsSchema(doc: ReturnType<typeof parseJUnit>): void {
  for (const suite of doc.testsuites.testsuite) {
    expect(
      Object.keys(suite).filter((k) => !['name', 'timestamp', 'time', 'tests', 'failures', 'errors', 'skipped', 'properties', 'testcase'].includes(k)),
    ).toEqual([]);
    expect(suite.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
    for (const c of suite.testcase) {
      expect(Object.keys(c).filter((k) => !['name', 'classname', 'time', 'failure', 'error', 'skipped', 'system-out'].includes(k))).toEqual([]);
      if (c.time !== undefined) expect(Number(c.time)).not.toBeNaN();
      expect([c.failure, c.error, c.skipped].filter((x) => x !== undefined).length).toBeLessThanOrEqual(1);
    }
  }
}

describe('--junit', () => {
  it('is one testsuite named after the test with a testcase per release: bad a failure, skip skipped, error an error', () => {
    const doc = parseJUnit(toJUnit(commandReport));
    expectJenkinsSchema(doc);
    expect(doc.testsuites).toMatchObject({ tests: '5', failures: '1', errors: '1', skipped: '1' });
    const [suite] = doc.testsuites.testsuite;
    expect(doc.testsuites.testsuite).toHaveLength(1);
    expect(suite).toMatchObject({
      name: `sh -c 'ls /usr/bin | wc -l'`,
      tests: '5',
      failures: '1',
      errors: '1',
      skipped: '1',
      timestamp: '2026-12-01T13:45:11',
    });
    expect(suite!.properties.property).toEqual([
      { name: 'run', value: '20261201-134511-ls' },
      { name: 'runner', value: 'chroot' },
      { name: 'started', value: '2026-12-01T13:45:11.250Z' },
    ]);
    const cases = suite!.testcase;
    expect(cases.map((c) => [c.classname, c.name])).toEqual(commandReport.results.map((r) => ['be.hunt.command', r.release]));
    expect(cases[0]).toEqual({ classname: 'be.hunt.command', name: '12.4-RELEASE', time: '2.04', 'system-out': '1412' });
    expect(cases[2]!.failure).toEqual({ message: 'ls: /usr/bin: Input/output error', type: 'exit status 1' });
    expect(cases[3]!.skipped).toBeDefined();
    expect(cases[4]!.error).toEqual({ message: 'timed out after 30 s' });
  });

  it('names a probe’s testcases be.hunt.<probe> and records the value label', () => {
    const [suite] = parseJUnit(toJUnit(probeReport)).testsuites.testsuite;
    expect(suite!.name).toBe('manratio');
    expect(suite!.testcase.map((c) => c.classname)).toEqual(Array(3).fill('be.hunt.manratio'));
    expect(suite!.properties.property).toContainEqual({ name: 'valueLabel', value: 'executables with a manual page' });
  });

  it('gives kyua one testcase per case, classname <release>.<program>, and keeps a release whose cases do not explain its verdict', () => {
    const doc = parseJUnit(toJUnit(kyuaReport));
    expectJenkinsSchema(doc);
    const [suite] = doc.testsuites.testsuite;
    // 3 + 4 cases, 1 of 14.1's before the timeout, and 14.1 itself as the error.
    expect(suite).toMatchObject({ name: 'kyua', tests: '9', failures: '1', errors: '2', skipped: '1' });
    expect(suite!.testcase.map((c) => `${c.classname} ${c.name}`)).toEqual([
      '13.0-RELEASE.lib/libc/gen/dir2_test telldir_after_seekdir',
      '13.0-RELEASE.lib/libc/gen/dir2_test telldir_at_end_of_block',
      '13.0-RELEASE.bin/sh/builtins cd1',
      '14.0-RELEASE.lib/libc/gen/dir2_test telldir_after_seekdir',
      '14.0-RELEASE.lib/libc/gen/dir2_test telldir_at_end_of_block',
      '14.0-RELEASE.bin/sh/builtins cd1',
      '14.0-RELEASE.bin/sh/builtins cd2',
      '14.1-RELEASE.lib/libc/gen/dir2_test telldir_after_seekdir',
      'be.hunt.kyua 14.1-RELEASE',
    ]);
    const [failed, , skipped, broken] = suite!.testcase.slice(3);
    expect(failed!.failure?.message).toBe('telldir returned 12, expected 8 <&> "quoted" ]]>');
    expect(skipped!.skipped).toBeDefined();
    expect(broken!.error?.message).toBe('premature exit');
    expect(suite!.testcase.at(-1)!.error?.message).toBe('timed out after 600 s');
  });

  it('keeps odd output well-formed XML: markup, quotes, CDATA ends, control characters', () => {
    const odd = '<b>&amp; "it\'s" ]]> \x1b[31mred\x1b[0m \x00\x07\x0b done';
    const report: HuntReport = {
      ...commandReport,
      test: { command: ['./t.sh', '--name=<x & "y">'] },
      results: [result('14.0-RELEASE <&>', { verdict: 'bad', exitCode: 2, lastLine: odd })],
    };
    const xml = toJUnit(report);
    const [suite] = parseJUnit(xml).testsuites.testsuite;
    expect(suite!.name).toBe(`./t.sh '--name=<x & "y">'`);
    const [testCase] = suite!.testcase;
    expect(testCase!.name).toBe('14.0-RELEASE <&>');
    expect(testCase!.failure?.message).toBe('<b>&amp; "it\'s" ]]> red done');
    expect(testCase!['system-out']).toBe('<b>&amp; "it\'s" ]]> red done');
    // No raw control character reached the file: XML 1.0 forbids them.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for them
    expect(xml).not.toMatch(/[\x00-\x08\x0b\x0c\x0e-\x1f]/);
  });
});

/** The report embedded in the page, read back as a browser would. */
function embeddedReport(html: string): unknown {
  const match = /<script type="application\/json" id="hunt-data">([^<]*)<\/script>/.exec(html);
  expect(match).not.toBeNull();
  return JSON.parse(match![1]!);
}

describe('the HTML report', () => {
  const hostile = result('14.2-RELEASE</script><b>', {
    verdict: 'bad',
    exitCode: 1,
    value: 0.5,
    lastLine: 'FAIL </script><b>bold</b> <!-- <script>alert(1)</script>',
  });
  const hostileReport: HuntReport = {
    ...probeReport,
    test: { command: ['echo', '<i>&</i>'] },
    runner: 'chroot<script>',
    results: [...probeReport.results, hostile],
  };
  const fakeChart = 'window.Chart = function () {}; /* a comment that says </script> and <!-- */';

  it('refers to nothing outside the file', () => {
    for (const report of [commandReport, probeReport, kyuaReport, hostileReport]) {
      const html = toHtml(report, { chartScript: fakeChart });
      expect(html).not.toMatch(/https?:\/\//i);
      expect(html).not.toMatch(/<(link|img|iframe)\b|\bsrc=|@import|url\(/i);
    }
  });

  it('names the test, runner, run and start, and has the matrix: one row per release with its verdict class', () => {
    const html = toHtml(commandReport, { chartScript: fakeChart });
    expect(html).toContain('<h1>be hunt: <code class="test">sh -c &#39;ls /usr/bin | wc -l&#39;</code></h1>');
    expect(html).toContain('<dd class="runner">chroot</dd>');
    expect(html).toContain('<dd class="run">20261201-134511-ls</dd>');
    expect(html).toContain('<time datetime="2026-12-01T13:45:11.250Z">');
    expect(html).toContain('<p class="summary">5 releases: 2 good, 1 bad, 1 skip, 1 error</p>');
    const rows = [...html.matchAll(/<tr data-release="([^"]*)" data-verdict="(\w+)">.*?<td class="verdict verdict-(\w+)">(\w+)<\/td>/g)];
    expect(rows.map((m) => [m[1], m[2], m[3], m[4]])).toEqual(commandReport.results.map((r) => [r.release, r.verdict, r.verdict, r.verdict]));
  });

  it('has a chart and Chart.js only when a probe measured a figure', () => {
    const plain = toHtml(commandReport, { chartScript: fakeChart });
    expect(plain).not.toContain('<canvas');
    expect(plain).not.toContain('window.Chart');
    const charted = toHtml(probeReport, { chartScript: fakeChart });
    expect(charted).toContain('<canvas id="hunt-chart"');
    expect(charted).toContain('window.Chart = function () {};');
    expect(charted).toContain('<td class="number value">0.9512</td>');
    expect(charted).toContain('<th>executables with a manual page</th>');
  });

  it('escapes everything the user controls, and inlined scripts cannot end their element early', () => {
    const html = toHtml(hostileReport, { chartScript: fakeChart });
    expect(html).not.toContain('<b>');
    expect(html).not.toContain('<i>');
    expect(html).not.toContain('<script>alert');
    expect(html).toContain(
      '<td class="release" title="log: /var/db/be/hunt/run-1/14.2-RELEASE&lt;/script&gt;&lt;b&gt;.log">14.2-RELEASE&lt;/script&gt;&lt;b&gt;</td>',
    );
    expect(html).toContain('FAIL &lt;/script&gt;&lt;b&gt;bold&lt;/b&gt; &lt;!-- &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('<dd class="runner">chroot&lt;script&gt;</dd>');
    // Every </script in the page closes one of its three scripts: data, Chart.js, the chart builder.
    expect(html.match(/<\/script/gi)).toHaveLength(3);
    expect(html).toContain('/* a comment that says <\\/script> and <\\!-- */');
    expect(inlineScript('a</SCRIPT>b<!--c')).toBe('a<\\/SCRIPT>b<\\!--c');
  });

  it('embeds the whole report as JSON that parses back to it', () => {
    for (const report of [commandReport, probeReport, kyuaReport, hostileReport]) {
      expect(embeddedReport(toHtml(report, { chartScript: fakeChart }))).toStrictEqual(JSON.parse(JSON.stringify(report)));
    }
  });
});
