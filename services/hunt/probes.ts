/**
 * The probes built into `be hunt --probe NAME` and `be bisect --probe NAME`:
 * - manratio reads the BE's files (readdir and lstat, nothing run), so it works for any release on any
 *   host; the rules of the count are in src/hunt/manratio.ts;
 * - kyua runs the release's own test suite (`kyua test -k /usr/tests/Kyuafile`) through the runner and
 *   reads the JUnit report kyua leaves in the BE's /tmp (src/hunt/kyua.ts).
 *
 * Paths inside the BE are resolved on the host under context.root, and only followed while they stay
 * under it: a BE's absolute symbolic link (`/tmp` -> `/var/tmp`) names the host's file, not the BE's.
 */
import { constants } from 'node:fs';
import { lstat, open, readdir, realpath, rm } from 'node:fs/promises';
import { basename, dirname, join, sep } from 'node:path';
import { BeError } from '../../src/errors.js';
import { countCases, describeCases, KyuaReportError, kyuaLocations, kyuaPaths, kyuaScript, parseKyuaJunit } from '../../src/hunt/kyua.js';
import {
  describeManRatio,
  type EntryKind,
  executableDirectories,
  isExecutable,
  type ManualSection,
  manRatio,
  manualDirectory,
  manualSections,
} from '../../src/hunt/manratio.js';
import type { Probe, ProbeContext, ProbeOutcome } from './probe.js';

export type ProbeName = 'manratio' | 'kyua';

/** The BE's root on the host, resolved once, and the paths inside it. */
class BeFiles {
  private constructor(private readonly realRoot: string) {}

  static async at(root: string): Promise<BeFiles> {
    return new BeFiles(await realpath(root));
  }

  /** Where a directory of the BE (absolute inside it) is on the host; undefined when absent or leading out of the BE. */
  async directory(path: string): Promise<string | undefined> {
    let real: string;
    try {
      real = await realpath(join(this.realRoot, path));
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
    return real === this.realRoot || real.startsWith(this.realRoot + sep) ? real : undefined;
  }

  /** Where a file of the BE is on the host: its directory resolved, its own name not followed (callers lstat or O_NOFOLLOW). */
  async file(path: string): Promise<string | undefined> {
    const parent = await this.directory(dirname(path));
    return parent === undefined ? undefined : join(parent, basename(path));
  }
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

interface Entry {
  name: string;
  kind: EntryKind;
  mode: number;
}

/** A directory of the BE (relative to its root), entry by entry as lstat sees them; undefined when absent. */
async function listDirectory(be: BeFiles, directory: string): Promise<Entry[] | undefined> {
  const dir = await be.directory(directory);
  if (dir === undefined) return undefined;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
  return Promise.all(
    names.map(async (name) => {
      const stats = await lstat(join(dir, name));
      const kind: EntryKind = stats.isFile() ? 'file' : stats.isSymbolicLink() ? 'symlink' : stats.isDirectory() ? 'directory' : 'other';
      return { name, kind, mode: stats.mode };
    }),
  );
}

/** Page file names of a section: man<S>/ and its machine subdirectories (man8/amd64/), which man.sh searches too. */
async function pageFiles(be: BeFiles, section: ManualSection): Promise<string[] | undefined> {
  const directory = manualDirectory(section);
  const entries = await listDirectory(be, directory);
  if (entries === undefined) return undefined;
  const isPage = (entry: Entry) => entry.kind === 'file' || entry.kind === 'symlink';
  const names = entries.filter(isPage).map((entry) => entry.name);
  for (const machine of entries.filter((entry) => entry.kind === 'directory')) {
    const inside = await listDirectory(be, `${directory}/${machine.name}`);
    names.push(...(inside ?? []).filter(isPage).map((entry) => entry.name));
  }
  return names;
}

async function runManratio(context: ProbeContext): Promise<ProbeOutcome> {
  const { log } = context;
  const be = await BeFiles.at(context.root);
  const executables: Record<string, string[]> = {};
  for (const directory of executableDirectories) {
    const entries = await listDirectory(be, directory);
    if (entries === undefined) {
      log(`manratio: no ${directory}/`);
      continue;
    }
    executables[directory] = entries.filter((entry) => isExecutable(entry.kind, entry.mode)).map((entry) => entry.name);
    log(`manratio: ${directory}/: ${executables[directory].length} executables of ${entries.length} entries`);
  }
  if (Object.keys(executables).length === 0) {
    return { verdict: 'error', exitCode: null, detail: `none of ${executableDirectories.join(', ')} in the BE: not a FreeBSD root` };
  }
  const pages: Partial<Record<ManualSection, string[]>> = {};
  for (const section of manualSections) {
    const files = await pageFiles(be, section);
    log(files === undefined ? `manratio: no ${manualDirectory(section)}/` : `manratio: ${manualDirectory(section)}/: ${files.length} page files`);
    if (files !== undefined) pages[section] = files;
  }
  const figure = manRatio({ executables, pages });
  if (figure.executables === 0) return { verdict: 'error', exitCode: null, detail: `no executables in ${executableDirectories.join(', ')}` };
  if (figure.missing.length > 0) log(`manratio: without a page: ${figure.missing.join(' ')}`);
  return { verdict: 'good', exitCode: null, value: figure.ratio, detail: describeManRatio(figure) };
}

function errorOutcome(detail: string, exitCode: number | null = null): ProbeOutcome {
  return { verdict: 'error', exitCode, detail };
}

/** kyua(1), EXIT STATUS: above 1, kyua itself failed; 127 is sh's "not found". */
function kyuaFailure(exitCode: number): string {
  const meaning: Record<number, string> = { 2: 'an unexpected error', 3: 'a usage error', 127: 'kyua not found' };
  return `kyua exited with status ${exitCode}${meaning[exitCode] ? ` (${meaning[exitCode]})` : ''}`;
}

async function exists(be: BeFiles, path: string): Promise<boolean> {
  const host = await be.file(path);
  if (host === undefined) return false;
  try {
    await lstat(host);
    return true;
  } catch (err) {
    if (isMissing(err)) return false;
    throw err;
  }
}

/** The report as kyua wrote it (latin1: its declared encoding), never through a symbolic link; undefined when absent. */
async function readReport(be: BeFiles): Promise<string | undefined> {
  const host = await be.file(kyuaPaths.report);
  if (host === undefined) return undefined;
  try {
    const handle = await open(host, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      return await handle.readFile('latin1');
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
}

async function removeKyuaFiles(be: BeFiles): Promise<void> {
  for (const path of [kyuaPaths.report, kyuaPaths.results, kyuaPaths.log]) {
    const host = await be.file(path);
    if (host !== undefined) await rm(host, { force: true });
  }
}

async function runKyua(context: ProbeContext): Promise<ProbeOutcome> {
  const { log } = context;
  const be = await BeFiles.at(context.root);
  if (!(await exists(be, kyuaPaths.kyuafile))) {
    return { verdict: 'skip', exitCode: null, detail: `no ${kyuaPaths.kyuafile}: the release has no tests set (tests.txz, 11.0 and later)` };
  }
  let kyua: string | undefined;
  for (const location of kyuaLocations) if (kyua === undefined && (await exists(be, location))) kyua = location;
  if (kyua === undefined) {
    return {
      verdict: 'skip',
      exitCode: null,
      detail: `no kyua in the BE (${kyuaLocations.join(' or ')}): base has it from 13.0; add the kyua package to older releases`,
    };
  }
  // A report left by an earlier run must not be read as this one's.
  await removeKyuaFiles(be);
  try {
    log(`kyua: ${kyua} test --kyuafile=${kyuaPaths.kyuafile}, then report-junit --output=${kyuaPaths.report}`);
    const outcome = await context.runner.run({ ...context.request, command: ['/bin/sh', '-c', kyuaScript(kyua)] });
    // An aborted hunt stops here, as a command's run does (services/hunt/hunt.ts), rather than recording an error.
    context.request.signal?.throwIfAborted();
    if (outcome.kind === 'timeout') return errorOutcome(`kyua timed out after ${context.request.timeoutMs / 1000} s`);
    if (outcome.kind === 'failed') return errorOutcome(outcome.reason);
    // kyua-test(1): 0 when every case passed, 1 when one failed; a failed test is the release's verdict, not the probe's error.
    const { exitCode } = outcome;
    if (exitCode !== 0 && exitCode !== 1) return errorOutcome(kyuaFailure(exitCode), exitCode);
    let xml: string | undefined;
    try {
      xml = await readReport(be);
    } catch (err) {
      // ELOOP: something in the BE put a symbolic link where kyua writes its report.
      return errorOutcome(`${kyuaPaths.report}: ${(err as Error).message}`, exitCode);
    }
    if (xml === undefined) return errorOutcome(`kyua report-junit left no report at ${kyuaPaths.report}`, exitCode);
    let cases;
    try {
      cases = parseKyuaJunit(xml);
    } catch (err) {
      if (err instanceof KyuaReportError) return errorOutcome(`${kyuaPaths.report}: ${err.message}`, exitCode);
      throw err;
    }
    for (const result of cases) {
      if (result.outcome === 'failed' || result.outcome === 'broken')
        log(`kyua: ${result.outcome}: ${result.classname}:${result.name}: ${result.message ?? ''}`);
    }
    const counts = countCases(cases);
    const verdict = counts.failed + counts.broken > 0 ? 'bad' : 'good';
    return { verdict, exitCode, detail: describeCases(counts), cases };
  } finally {
    await removeKyuaFiles(be);
  }
}

export const probes: Readonly<Record<ProbeName, Probe>> = {
  manratio: { name: 'manratio', valueLabel: 'executables with a manual page', run: runManratio },
  kyua: { name: 'kyua', run: runKyua },
};

export const probeNames = Object.keys(probes) as ProbeName[];

/** The probe `--probe NAME` names; a usage error naming the known ones otherwise. */
export function probeNamed(name: string): Probe {
  if (Object.hasOwn(probes, name)) return probes[name as ProbeName];
  throw new BeError('E_USAGE', `unknown probe "${name}": the probes are ${probeNames.join(', ')}`);
}
