/**
 * The kyua probe's pure half: the shell script that runs a release's test suite, and the reading of the
 * JUnit report kyua writes (one CaseResult per test case).
 *
 * What `kyua report-junit` writes (kyua's drivers/report_junit.cpp, FreeBSD's contrib/kyua; checked
 * against the output of Debian's kyua 0.13):
 * - `<?xml version="1.0" encoding="iso-8859-1"?>`, then one `<testsuite>` (no `<testsuites>`) holding
 *   `<properties>` (the run's cwd and environment) and a `<testcase classname name time>` per case;
 * - classname: the test program's path relative to the top Kyuafile with `/` replaced by `.`
 *   (`lib.libc.gen.dir2_test`). It is kept as written: FreeBSD's own test directories have dots
 *   (`usr.bin/grep/grep_test` is `usr.bin.grep.grep_test`), so the slashes cannot be put back;
 * - time: seconds, three decimals;
 * - failed: `<failure message="REASON"/>`; broken, and any result kyua does not name otherwise:
 *   `<error message="REASON"/>`; skipped: `<skipped/>`, whose reason is only in `<system-err>`, after
 *   "Skipped result details" and its underline; an expected failure has no element (it is a pass) and
 *   its reason sits in `<system-err>` the same way, after "Expected failure result details";
 * - `<system-out>`: the case's stdout, when not empty; `<system-err>`: those details, the metadata, the
 *   timing, then the case's stderr. Text is escaped by text::escape_xml: the five named entities, and
 *   `&amp;#N;` for control characters; other bytes are written raw, so read the file as latin1.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { CaseResult } from './types.js';

export class KyuaReportError extends Error {
  override readonly name = 'KyuaReportError';
}

/** Where the probe's files are inside the BE (the runner's view); the probe reads the report from the host's side. */
export const kyuaPaths = {
  kyuafile: '/usr/tests/Kyuafile',
  report: '/tmp/be-hunt-kyua.xml',
  results: '/tmp/be-hunt-kyua.db',
  log: '/tmp/be-hunt-kyua.log',
} as const;

/**
 * Where a BE may have kyua: in base (usr.bin/kyua, part of the tests package, imported into head in
 * r359260, March 2020: 13.0 and later), or from the devel/kyua package on older releases (as FreeBSD's
 * CI scripts `pkg install devel/kyua` into the images they test). The probe looks, not the release number.
 */
export const kyuaLocations = ['/usr/bin/kyua', '/usr/local/bin/kyua'] as const;

/**
 * The script the runner runs with /bin/sh -c. It exits with kyua test's status: 0 when every case
 * passed, 1 when one failed or was broken (kyua-test(1)), above 1 when kyua itself failed (kyua(1):
 * 2 unexpected error, 3 usage error). The results database and kyua's log go to /tmp, named, so that
 * nothing lands in the BE's ~/.kyua, and are removed; the report stays for the probe to read and remove.
 */
export function kyuaScript(kyua: string): string {
  const { kyuafile, report, results, log } = kyuaPaths;
  return [
    `rm -f ${results} ${report}`,
    `${kyua} --logfile=${log} test --kyuafile=${kyuafile} --results-file=${results}`,
    'status=$?',
    `${kyua} --logfile=${log} report-junit --results-file=${results} --output=${report}`,
    `rm -f ${results} ${log}`,
    'exit $status',
  ].join('\n');
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  isArray: (tag) => tag === 'testcase' || tag === 'testsuite',
});

type Node = Record<string, unknown>;

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The reason kyua put in <system-err> after a heading ("Skipped result details"), up to the blank line it appends. */
function detailAfter(heading: string, systemErr: unknown): string | undefined {
  if (typeof systemErr !== 'string') return undefined;
  const marker = `${heading}\n${'-'.repeat(heading.length)}\n\n`;
  const start = systemErr.indexOf(marker);
  if (start < 0) return undefined;
  const rest = systemErr.slice(start + marker.length);
  const end = rest.indexOf('\n\n');
  return end < 0 ? rest.trimEnd() : rest.slice(0, end);
}

function messageOf(element: unknown): string | undefined {
  return isNode(element) && typeof element['@message'] === 'string' ? element['@message'] : undefined;
}

function readCase(node: Node, index: number): CaseResult {
  const where = `testcase ${index + 1}`;
  const classname = node['@classname'];
  const name = node['@name'];
  if (typeof classname !== 'string' || classname === '') throw new KyuaReportError(`${where}: no classname`);
  if (typeof name !== 'string' || name === '') throw new KyuaReportError(`${where} (${classname}): no name`);
  const time = node['@time'];
  const seconds = typeof time === 'string' && time.trim() !== '' ? Number(time) : Number.NaN;
  if (!Number.isFinite(seconds) || seconds < 0)
    throw new KyuaReportError(`${where} (${classname}:${name}): time ${JSON.stringify(time)} is not a number of seconds`);
  const base = { classname, name, seconds };
  const systemErr = node['system-err'];
  if ('failure' in node) return withMessage({ ...base, outcome: 'failed' }, messageOf(node.failure));
  if ('error' in node) return withMessage({ ...base, outcome: 'broken' }, messageOf(node.error));
  if ('skipped' in node) return withMessage({ ...base, outcome: 'skipped' }, detailAfter('Skipped result details', systemErr));
  return withMessage({ ...base, outcome: 'passed' }, detailAfter('Expected failure result details', systemErr));
}

function withMessage(result: CaseResult, message: string | undefined): CaseResult {
  return message === undefined ? result : { ...result, message };
}

/** Reads kyua's JUnit report; throws KyuaReportError naming what is wrong when it is not one. */
export function parseKyuaJunit(xml: string): CaseResult[] {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new KyuaReportError(`not well-formed XML: line ${valid.err.line}: ${valid.err.msg}`);
  const document: unknown = parser.parse(xml);
  const suites = isNode(document) ? document.testsuite : undefined;
  if (!Array.isArray(suites) || suites.length !== 1) throw new KyuaReportError('expected one <testsuite> at the top, as kyua report-junit writes');
  const suite: unknown = suites[0];
  const cases: unknown[] = isNode(suite) && Array.isArray(suite.testcase) ? suite.testcase : [];
  return cases.map((node, index) => {
    if (!isNode(node)) throw new KyuaReportError(`testcase ${index + 1}: no attributes`);
    return readCase(node, index);
  });
}

export interface CaseCounts {
  passed: number;
  failed: number;
  skipped: number;
  broken: number;
}

export function countCases(cases: readonly CaseResult[]): CaseCounts {
  const counts: CaseCounts = { passed: 0, failed: 0, skipped: 0, broken: 0 };
  for (const result of cases) counts[result.outcome] += 1;
  return counts;
}

/** "412 passed, 3 failed, 20 skipped", with ", 1 broken" when a case was. */
export function describeCases(counts: CaseCounts): string {
  const line = `${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`;
  return counts.broken > 0 ? `${line}, ${counts.broken} broken` : line;
}
