/**
 * The report files of `be hunt --json FILE --junit FILE --html FILE`, and the Chart.js bundle the HTML
 * report inlines. The texts come from src/hunt/report.ts; this only reads and writes.
 */
import { readFile } from 'node:fs/promises';
// Not under its own name: the CLI bundle's banner (package.json, bundle) declares `createRequire` at the
// top of every chunk, and a second import of that name is a SyntaxError in the bundle.
import { createRequire as requireFrom } from 'node:module';
import { dirname, join } from 'node:path';
import { BeError } from '../../src/errors.js';
import { hasChart, toHtml, toJson, toJUnit } from '../../src/hunt/report.js';
import type { HuntReport } from '../../src/hunt/types.js';
import { writeAtomic } from '../atomic.js';

/**
 * Chart.js's UMD bundle (it defines the global `Chart`), to inline in the HTML report. The package's
 * `exports` map hides dist/, but its main entry (dist/chart.cjs) sits beside the bundle, so resolve
 * that. Resolution walks up from this module to node_modules, which works from the tsc output
 * (dist/services/hunt/) and from the esbuild bundle (dist/bin/) alike.
 */
export async function chartScript(): Promise<string> {
  const main = requireFrom(import.meta.url).resolve('chart.js');
  return readFile(join(dirname(main), 'chart.umd.min.js'), 'utf8');
}

export interface ReportFiles {
  json?: string;
  junit?: string;
  html?: string;
}

/** A path the user gave that cannot be written: a missing or read-only directory, a directory in the file's place. */
const pathErrors = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'EACCES', 'EPERM', 'EROFS']);

/**
 * Writes each report that has a file name, each atomically (a reader never sees half a report, a
 * rerun replaces the old one whole). Every text is built before the first file is written.
 */
export async function writeReports(report: HuntReport, files: ReportFiles): Promise<void> {
  const texts: { kind: string; file: string; text: string }[] = [];
  if (files.json) texts.push({ kind: 'JSON', file: files.json, text: JSON.stringify(toJson(report), null, 2) + '\n' });
  if (files.junit) texts.push({ kind: 'JUnit', file: files.junit, text: toJUnit(report) });
  if (files.html) texts.push({ kind: 'HTML', file: files.html, text: toHtml(report, { chartScript: hasChart(report) ? await chartScript() : '' }) });
  for (const { kind, file, text } of texts) {
    try {
      await writeAtomic(file, text);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // writeAtomic's error names its temporary file; the user knows the file they asked for.
      if (code && pathErrors.has(code)) throw new BeError('E_USAGE', `cannot write the ${kind} report ${file}: ${code}`, undefined, { cause: err });
      throw err;
    }
  }
}
