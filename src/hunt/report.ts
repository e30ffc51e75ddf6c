/**
 * The reports of a regression hunt, all built from one HuntReport: the terminal table, `--json`,
 * `--junit FILE` and the self-contained HTML page. Pure: services/hunt/report-files.ts reads Chart.js
 * and writes the files.
 */
import junitModule, { type Builder } from 'junit-report-builder';
import { shellCommand } from '../shell.js';
import type { CaseResult, HuntReport, ReleaseResult, Verdict } from './types.js';

// junit-report-builder is CommonJS whose types say `export default`: Node (and esbuild) give an ES
// module the builder itself as the default import, where TypeScript expects it under `.default`.
const junitReportBuilder = ((junitModule as unknown as { default?: Builder }).default ?? junitModule) as unknown as Builder;

const verdicts: readonly Verdict[] = ['good', 'bad', 'skip', 'error'];

/** What was tested, as one line: the probe's name or the command, quoted so it can be pasted into sh. */
export function testName(report: HuntReport): string {
  return 'probe' in report.test ? report.test.probe : shellCommand(report.test.command);
}

/** "5 releases: 3 good, 2 bad": the verdicts that occurred, in the order good, bad, skip, error. */
export function summary(report: HuntReport): string {
  const count = report.results.length;
  const noun = count === 1 ? 'release' : 'releases';
  const parts = verdicts.map((v) => [v, report.results.filter((r) => r.verdict === v).length] as const).filter(([, n]) => n > 0);
  return parts.length === 0 ? `0 ${noun}` : `${count} ${noun}: ${parts.map(([v, n]) => `${n} ${v}`).join(', ')}`;
}

/** A probe's figure, when it has one that can be drawn (NaN from 0/0 is not a figure). */
function figure(result: ReleaseResult): number | undefined {
  return result.value !== undefined && Number.isFinite(result.value) ? result.value : undefined;
}

/** True when some release has a figure, so the HTML report has a chart (and needs Chart.js). */
export function hasChart(report: HuntReport): boolean {
  return report.results.some((r) => figure(r) !== undefined);
}

/**
 * A command's output as one printable line: its colour codes and other escape sequences would repaint
 * our terminal, and control characters are not allowed in XML at all.
 */
export function printable(text: string): string {
  return (
    text
      // CSI (colours, cursor moves) and OSC (window titles, hyperlinks) sequences.
      // biome-ignore lint/suspicious/noControlCharactersInRegex: escape sequences are what this removes
      .replace(/\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]?/g, '')
      // A run of control characters (tabs, CR LF, NUL) and the spaces around it: one space.
      // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this removes
      .replace(/[\s\x00-\x1f\x7f-\x9f]*[\x00-\x1f\x7f-\x9f][\s\x00-\x1f\x7f-\x9f]*/g, ' ')
      .trim()
  );
}

/** The line a person reads for a release: why it is an error or a probe's summary, else the command's last line. */
function detailOf(result: ReleaseResult): string {
  return printable(result.detail ?? result.lastLine);
}

const formatSeconds = (seconds: number) => seconds.toFixed(1);

// SGR colours: 32 green, 31 red, 33 yellow, 35 magenta; 0 resets.
const ansiColour: Record<Verdict, string> = { good: '\x1b[32m', bad: '\x1b[31m', skip: '\x1b[33m', error: '\x1b[35m' };
const ansiReset = '\x1b[0m';

/** Cut to `max` characters (code points, so a surrogate pair is never split), ending in … when cut. */
function truncate(text: string, max: number): string {
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  if (max <= 0) return '';
  const kept = chars.slice(0, max - 1).join('');
  return `${kept.trimEnd()}…`;
}

/**
 * The table `be hunt` prints: release, verdict, seconds and the detail (or last line), then the
 * summary line. `width` (the terminal's columns) cuts the detail so no line wraps; colour goes only
 * on the verdict, so the columns line up the same with and without it.
 */
export function formatTable(report: HuntReport, options: { color: boolean; width?: number }): string {
  const header = ['RELEASE', 'VERDICT', 'SECONDS', 'DETAIL'] as const;
  const rows = report.results.map((r) => ({ release: r.release, verdict: r.verdict, seconds: formatSeconds(r.seconds), detail: detailOf(r) }));
  const releaseWidth = Math.max(header[0].length, ...rows.map((r) => r.release.length));
  const verdictWidth = Math.max(header[1].length, ...rows.map((r) => r.verdict.length));
  const secondsWidth = Math.max(header[2].length, ...rows.map((r) => r.seconds.length));
  const detailStart = releaseWidth + verdictWidth + secondsWidth + 3 * 2;
  // A detail column narrower than this says nothing; past it the line wraps rather than lose it all.
  const detailWidth = options.width === undefined ? Number.POSITIVE_INFINITY : Math.max(options.width - detailStart, 12);
  const line = (release: string, verdict: string, paintedVerdict: string, seconds: string, detail: string) =>
    `${release.padEnd(releaseWidth)}  ${paintedVerdict}${' '.repeat(verdictWidth - verdict.length)}  ${seconds.padStart(secondsWidth)}  ${truncate(detail, detailWidth)}`.trimEnd();
  const lines = [line(header[0], header[1], header[1], header[2], header[3])];
  for (const r of rows) {
    const painted = options.color ? `${ansiColour[r.verdict]}${r.verdict}${ansiReset}` : r.verdict;
    lines.push(line(r.release, r.verdict, painted, r.seconds, r.detail));
  }
  lines.push(summary(report));
  return lines.join('\n') + '\n';
}

/** One element of `be hunt --json`. */
export interface JsonResult {
  release: string;
  verdict: Verdict;
  exitCode: number | null;
  seconds: number;
  /** A numeric probe's figure; absent for commands, for releases the probe could not measure, and for NaN. */
  value?: number;
}

/** `be hunt --json`: one object per release, in release order, with exactly these keys. */
export function toJson(report: HuntReport): JsonResult[] {
  return report.results.map((r) => {
    const row: JsonResult = { release: r.release, verdict: r.verdict, exitCode: r.exitCode, seconds: r.seconds };
    const value = figure(r);
    if (value !== undefined) row.value = value;
    return row;
  });
}

/** The Jenkins JUnit schema's timestamp: date and time without a zone (we write UTC) and without fractions. */
function junitTimestamp(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toISOString().slice(0, 19);
}

/** The verdict a release's test cases imply (kyua's own rule: any failed or broken case fails the run). */
function verdictOfCases(cases: readonly CaseResult[]): Verdict {
  return cases.some((c) => c.outcome === 'failed' || c.outcome === 'broken') ? 'bad' : 'good';
}

/**
 * `be hunt --junit FILE`, written with junit-report-builder: one testsuite named after the test, with
 * the run, runner, start time and value label as properties.
 *
 * - A release is a testcase named after it, with classname `be.hunt.<probe>` (`be.hunt.command` for a
 *   command): a release name holds dots, and JUnit readers take the part before the last dot of a
 *   classname as a package. bad is a failure, error an error (both with the detail or last line as the
 *   message and the exit status as the type), skip is skipped; the last line goes to system-out.
 * - A release whose probe read test cases (kyua) is one testcase per case instead, classname
 *   `<release>.<case classname>`: failed is a failure, broken an error, skipped skipped. The release's
 *   own testcase is kept as well when the cases do not account for its verdict (a timeout, a skip, a
 *   bad run whose cases all passed), so the file never hides what the table shows.
 */
export function toJUnit(report: HuntReport): string {
  const builder = junitReportBuilder.newBuilder();
  const suite = builder
    .testSuite()
    .name(testName(report))
    .timestamp(junitTimestamp(report.started))
    .time(report.results.reduce((sum, r) => sum + r.seconds, 0))
    .property('run', report.run)
    .property('runner', report.runner)
    .property('started', report.started);
  if (report.valueLabel !== undefined) suite.property('valueLabel', report.valueLabel);
  const releaseClass = 'probe' in report.test ? `be.hunt.${report.test.probe}` : 'be.hunt.command';

  for (const result of report.results) {
    const cases = result.cases ?? [];
    for (const c of cases) {
      const testCase = suite.testCase().className(`${result.release}.${c.classname}`).name(c.name).time(c.seconds);
      const message = c.message === undefined ? undefined : printable(c.message);
      if (c.outcome === 'failed') testCase.failure(message);
      else if (c.outcome === 'broken') testCase.error(message);
      else if (c.outcome === 'skipped') testCase.skipped();
    }
    if (cases.length > 0 && verdictOfCases(cases) === result.verdict) continue;
    const testCase = suite.testCase().className(releaseClass).name(result.release).time(result.seconds);
    const message = detailOf(result) || undefined;
    const type = result.exitCode === null ? undefined : `exit status ${result.exitCode}`;
    if (result.verdict === 'bad') testCase.failure(message, type);
    else if (result.verdict === 'error') testCase.error(message, type);
    else if (result.verdict === 'skip') testCase.skipped();
    const lastLine = printable(result.lastLine);
    if (lastLine) testCase.standardOutput(lastLine);
  }
  return builder.build() + '\n';
}

const htmlEntities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for an HTML element or a quoted attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => htmlEntities[c]!);
}

/**
 * Script text inlined in a <script> element. The HTML parser ends the element at the first `</script`
 * whatever the JavaScript around it means, and `<!--` can start an escaped state that swallows the
 * real end tag (HTML 13.2.5.4). `<\/` and `<\!` mean the same in a JavaScript string or comment.
 */
export function inlineScript(source: string): string {
  return source.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

/** JSON inside <script type="application/json">: `\u003c` is `<` to JSON.parse, and nothing for the HTML parser to end the element on. */
function inlineJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

const formatValue = (value: number) => String(Math.round(value * 10_000) / 10_000);

/** The chart: the hunt's own data, read back from the JSON block, drawn by Chart.js's UMD global. */
const chartBuilder = `(function () {
  var canvas = document.getElementById('hunt-chart');
  if (!canvas || typeof Chart === 'undefined') return;
  var report = JSON.parse(document.getElementById('hunt-data').textContent);
  var colours = { good: '#2e7d32', bad: '#c62828', skip: '#f9a825', error: '#8e24aa' };
  var label = report.valueLabel || 'value';
  new Chart(canvas, {
    type: 'line',
    data: {
      labels: report.results.map(function (r) { return r.release; }),
      datasets: [{
        label: label,
        data: report.results.map(function (r) { return typeof r.value === 'number' && isFinite(r.value) ? r.value : null; }),
        spanGaps: true,
        borderColor: '#607d8b',
        pointRadius: 5,
        pointBackgroundColor: report.results.map(function (r) { return colours[r.verdict]; }),
        pointBorderColor: report.results.map(function (r) { return colours[r.verdict]; })
      }]
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      plugins: { legend: { display: false } },
      scales: { x: { title: { display: true, text: 'release' } }, y: { title: { display: true, text: label } } }
    }
  });
})();`;

const css = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #222; background: #fff; }
h1 { font-size: 1.3rem; margin: 0 0 .5rem; }
h2 { font-size: 1.05rem; margin: 1.5rem 0 .5rem; }
code { font-family: ui-monospace, monospace; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .1rem 1rem; margin: 0 0 .75rem; }
dl.meta dt { color: #666; }
dl.meta dd { margin: 0; }
.summary { font-weight: 600; }
.chart { position: relative; height: 320px; max-width: 960px; }
table { border-collapse: collapse; }
th, td { border: 1px solid #ccc; padding: .25rem .6rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
td.detail { font-family: ui-monospace, monospace; white-space: pre-wrap; word-break: break-word; }
td.detail .last-line { color: #666; }
td.verdict { font-weight: 600; color: #fff; }
td.verdict-good { background: #2e7d32; }
td.verdict-bad { background: #c62828; }
td.verdict-skip { background: #f9a825; color: #222; }
td.verdict-error { background: #8e24aa; }
`;

function matrixRow(result: ReleaseResult, withValues: boolean): string {
  const value = figure(result);
  const detail = detailOf(result);
  const lastLine = printable(result.lastLine);
  const failedCases = (result.cases ?? []).filter((c) => c.outcome === 'failed' || c.outcome === 'broken');
  let detailHtml = escapeHtml(detail);
  if (result.detail !== undefined && lastLine && lastLine !== detail) detailHtml += `\n<span class="last-line">${escapeHtml(lastLine)}</span>`;
  if (failedCases.length > 0) {
    const items = failedCases.map((c) => `<li>${escapeHtml(`${c.classname}:${c.name} ${c.outcome}${c.message ? `: ${printable(c.message)}` : ''}`)}</li>`);
    detailHtml += `\n<details><summary>${failedCases.length} failed or broken</summary><ul>${items.join('')}</ul></details>`;
  }
  const cells = [
    `<td class="release" title="${escapeHtml(`log: ${result.log}`)}">${escapeHtml(result.release)}</td>`,
    `<td class="verdict verdict-${escapeHtml(result.verdict)}">${escapeHtml(result.verdict)}</td>`,
    `<td class="number exit-code">${result.exitCode ?? ''}</td>`,
    `<td class="number seconds">${formatSeconds(result.seconds)}</td>`,
    ...(withValues ? [`<td class="number value">${value === undefined ? '' : formatValue(value)}</td>`] : []),
    `<td class="detail">${detailHtml}</td>`,
  ];
  return `<tr data-release="${escapeHtml(result.release)}" data-verdict="${escapeHtml(result.verdict)}">${cells.join('')}</tr>`;
}

/**
 * The HTML report: one file that opens anywhere, the appliance having no internet: no external URL,
 * CSS and scripts inline. The header names the test, runner, run and start; the matrix
 * (`#hunt-matrix`) has a row per release; when a probe measured a figure a Chart.js line chart
 * (`#hunt-chart`) draws it per release. The whole HuntReport is embedded as JSON in `#hunt-data`, which
 * the chart is drawn from and tools can read. `chartScript` is Chart.js's UMD bundle (unused without a figure).
 */
export function toHtml(report: HuntReport, options: { chartScript: string }): string {
  const name = testName(report);
  const chart = hasChart(report);
  const valueLabel = report.valueLabel ?? 'value';
  const chartSection = chart
    ? `<section>
<h2>${escapeHtml(valueLabel)}</h2>
<div class="chart"><canvas id="hunt-chart" role="img" aria-label="${escapeHtml(`${valueLabel} per release`)}"></canvas></div>
</section>
`
    : '';
  const headings = ['release', 'verdict', 'exit', 'seconds', ...(chart ? [valueLabel] : []), 'detail'];
  const scripts = chart ? `<script>${inlineScript(options.chartScript)}</script>\n<script>${inlineScript(chartBuilder)}</script>\n` : '';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(`be hunt: ${name} (${report.run})`)}</title>
<style>${css}</style>
</head>
<body>
<header>
<h1>be hunt: <code class="test">${escapeHtml(name)}</code></h1>
<dl class="meta">
<dt>runner</dt><dd class="runner">${escapeHtml(report.runner)}</dd>
<dt>run</dt><dd class="run">${escapeHtml(report.run)}</dd>
<dt>started</dt><dd class="started"><time datetime="${escapeHtml(report.started)}">${escapeHtml(report.started)}</time></dd>
</dl>
<p class="summary">${escapeHtml(summary(report))}</p>
</header>
<main>
${chartSection}<section>
<h2>releases</h2>
<table id="hunt-matrix">
<thead><tr>${headings.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead>
<tbody>
${report.results.map((r) => matrixRow(r, chart)).join('\n')}
</tbody>
</table>
</section>
</main>
<script type="application/json" id="hunt-data">${inlineJson(report)}</script>
${scripts}</body>
</html>
`;
}
