/**
 * `be hunt` and the part of `be bisect` that tests one release: the BE `r<release>` is created (`-l
 * flat`) and installed from the mirror when it is missing, reused otherwise; the command (or probe) runs
 * in the runner with a timeout; the verdict, the seconds and the full log are kept under
 * `server.stateDir/hunt/<run>/<release>/`, so a run can be resumed (releases without a verdict, or
 * with `error`, run again) and re-reported without running anything.
 *
 * Layout of a run directory:
 *   run.json                the request: releases, test, runner, timeout, mirror, arch, started
 *   <release>/log           everything the command wrote, and be's own lines (prefixed "be: ")
 *   <release>/result.json   its ReleaseResult, written once it has a verdict
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../../src/config/schema.js';
import { BeError } from '../../src/errors.js';
import { environmentFor } from '../../src/hunt/releases.js';
import type { HuntReport, ReleaseResult, Verdict } from '../../src/hunt/types.js';
import { verdictOfStatus } from '../../src/hunt/verdict.js';
import { type Architecture, parseArchitecture, parseRelease, type Release } from '../../src/install/release.js';
import { readIfExists, writeAtomic } from '../atomic.js';
import { BeOps } from '../be/ops.js';
import { installRelease } from '../install/install.js';
import type { Probe, ProbeOutcome } from './probe.js';
import type { RunOutcome, Runner } from './runner.js';
import { mountForRun } from './runners.js';

export type HuntTest = { probe: Probe } | { command: string[] };

export interface HuntSettings {
  config: Config;
  arch: Architecture;
  /** The mirror root and the archive, as `be install` takes them. */
  mirror: string;
  archive: string | null;
  /** Sets to install into a missing BE; default: the release's defaults (base, kernel). */
  sets?: readonly string[] | undefined;
  runner: Runner;
  test: HuntTest;
  /** Per release; 0: no limit. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** What happens, for the CLI's progress. */
  onEvent?: (event: HuntEvent) => void;
  /** The clock for run ids and `started` (a seam: tests must not depend on the date). */
  now?: () => Date;
}

export type HuntEvent =
  | { kind: 'install'; release: string; be: string }
  | { kind: 'start'; release: string; be: string }
  | { kind: 'done'; result: ReleaseResult; reused: boolean };

/** What run.json holds. The test is stored by name (a probe) or argv, and found again on resume. */
interface RunRecord {
  run: string;
  started: string;
  releases: string[];
  test: { probe: string } | { command: string[] };
  runner: string;
  timeoutMs: number;
  mirror: string;
  archive: string | null;
  arch: string;
  sets: string[] | null;
  valueLabel?: string;
}

export function huntDirectory(config: Config): string {
  return join(config.server.stateDir, 'hunt');
}

const describeTest = (test: HuntTest): RunRecord['test'] => ('probe' in test ? { probe: test.probe.name } : { command: test.command });

/** A run id from the clock: 20261201-134502, with -2, -3... when that directory exists already. */
async function newRunId(root: string, now: Date): Promise<string> {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const taken = new Set(await readdir(root).catch(() => [] as string[]));
  for (let n = 1; ; n++) {
    const id = n === 1 ? stamp : `${stamp}-${n}`;
    if (!taken.has(id)) return id;
  }
}

/** One run: its directory, the results it holds so far, and how to test one release into it. */
export class HuntRun {
  private constructor(
    readonly settings: HuntSettings,
    readonly record: RunRecord,
    readonly directory: string,
  ) {}

  /** A new run directory for these releases. */
  static async create(settings: HuntSettings, releases: readonly Release[]): Promise<HuntRun> {
    const root = huntDirectory(settings.config);
    await mkdir(root, { recursive: true });
    const now = (settings.now ?? (() => new Date()))();
    const run = await newRunId(root, now);
    const record: RunRecord = {
      run,
      started: now.toISOString(),
      releases: releases.map((r) => r.name),
      test: describeTest(settings.test),
      runner: settings.runner.name,
      timeoutMs: settings.timeoutMs,
      mirror: settings.mirror,
      archive: settings.archive,
      arch: settings.arch.target,
      sets: settings.sets ? [...settings.sets] : null,
      ...('probe' in settings.test && settings.test.probe.valueLabel ? { valueLabel: settings.test.probe.valueLabel } : {}),
    };
    const directory = join(root, run);
    await mkdir(directory);
    await writeAtomic(join(directory, 'run.json'), `${JSON.stringify(record, null, 2)}\n`);
    return new HuntRun(settings, record, directory);
  }

  /** The run.json of an earlier run; `settings` gives what cannot be stored (the runner, the probe). */
  static async readRecord(config: Config, run: string): Promise<RunRecord> {
    if (!/^[0-9]{8}-[0-9]{6}(-[0-9]+)?$/.test(run)) throw new BeError('E_USAGE', `--resume/--report ${run}: not a run id (e.g. 20261201-134502)`);
    const file = join(huntDirectory(config), run, 'run.json');
    const text = await readIfExists(file);
    if (text === undefined) throw new BeError('E_USAGE', `no hunt run ${run} in ${huntDirectory(config)}`);
    try {
      return JSON.parse(text) as RunRecord;
    } catch (err) {
      throw new BeError('E_CONFIG', `${file}: ${(err as Error).message}`);
    }
  }

  /** An earlier run, to resume or report. */
  static async open(settings: HuntSettings, record: RunRecord): Promise<HuntRun> {
    return new HuntRun(settings, record, join(huntDirectory(settings.config), record.run));
  }

  get releases(): Release[] {
    return this.record.releases.map((name) => parseRelease(name, /-(CURRENT|STABLE|PRERELEASE|ALPHA\d*)$/.test(name) ? 'snapshot' : 'release'));
  }

  private resultFile(release: string): string {
    return join(this.directory, release, 'result.json');
  }

  /** The result kept for a release, if it has one. */
  async kept(release: string): Promise<ReleaseResult | undefined> {
    const file = this.resultFile(release);
    const text = await readIfExists(file);
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text) as ReleaseResult;
    } catch (err) {
      throw new BeError('E_CONFIG', `${file}: ${(err as Error).message}: remove it to test ${release} again`);
    }
  }

  /** Every release's kept result, in the run's order (releases without one are left out). */
  async results(): Promise<ReleaseResult[]> {
    const results: ReleaseResult[] = [];
    for (const release of this.record.releases) {
      const kept = await this.kept(release);
      if (kept) results.push(kept);
    }
    return results;
  }

  async report(): Promise<HuntReport> {
    const { run, test, runner, started, valueLabel } = this.record;
    return { run, test, runner, started, ...(valueLabel ? { valueLabel } : {}), results: await this.results() };
  }

  /**
   * Tests one release, or gives back its kept result when it has a verdict other than error (a resumed
   * run, or a bisection step a hunt already made).
   */
  async test(release: Release): Promise<ReleaseResult> {
    const kept = await this.kept(release.name);
    if (kept && kept.verdict !== 'error') {
      this.settings.onEvent?.({ kind: 'done', result: kept, reused: true });
      return kept;
    }
    const dir = join(this.directory, release.name);
    await mkdir(dir, { recursive: true });
    const logFile = join(dir, 'log');
    const log = createWriteStream(logFile, { flags: 'w' });
    // A log that cannot be written (a full disk) fails this release's result, not the process.
    let logError: Error | undefined;
    log.on('error', (err) => {
      logError ??= err;
    });
    const tail = new LastLine();
    const write = (chunk: Buffer | string) => {
      log.write(chunk);
      tail.feed(chunk.toString());
    };
    const note = (line: string) => log.write(`be: ${line}\n`);
    const begin = performance.now();
    let result: ReleaseResult;
    try {
      const outcome = await this.evaluate(release, write, note);
      result = { release: release.name, ...outcome, seconds: round((performance.now() - begin) / 1000), lastLine: tail.line, log: logFile };
    } catch (err) {
      if (this.settings.signal?.aborted) throw err;
      const detail = oneLine((err as Error).message);
      note(`error: ${detail}`);
      result = {
        release: release.name,
        verdict: 'error',
        exitCode: null,
        seconds: round((performance.now() - begin) / 1000),
        lastLine: tail.line,
        detail,
        log: logFile,
      };
    } finally {
      await closeStream(log);
    }
    if (logError) throw new BeError('E_EXEC', `${logFile}: ${logError.message}`);
    await writeAtomic(this.resultFile(release.name), `${JSON.stringify(result, null, 2)}\n`);
    this.settings.onEvent?.({ kind: 'done', result, reused: false });
    return result;
  }

  private async evaluate(
    release: Release,
    write: (chunk: Buffer | string) => void,
    note: (line: string) => void,
  ): Promise<Pick<ReleaseResult, 'verdict' | 'exitCode' | 'value' | 'detail' | 'cases'>> {
    const { config, signal } = this.settings;
    const be = environmentFor(release);
    const ops = await BeOps.open(config);
    const listing = (await ops.list()).find((b) => b.name === be);
    if (!listing) {
      note(`creating ${be} (-l flat)`);
      await ops.create(be, 'flat');
    }
    if (!listing?.release) {
      this.settings.onEvent?.({ kind: 'install', release: release.name, be });
      note(`installing ${release.name} into ${be} from ${this.settings.mirror}`);
      const arch = parseArchitecture(this.settings.arch.target, release);
      const summary = await installRelease(config, be, {
        release,
        arch,
        mirror: this.settings.mirror,
        archive: this.settings.archive,
        sets: this.settings.sets,
        ...(signal ? { signal } : {}),
        progress: { download: () => {}, extract: () => {}, note },
      });
      note(`installed ${summary.sets.map((s) => `${s.set}${s.fromCache ? ' (cache)' : ''}`).join(', ')} in ${summary.seconds.toFixed(1)} s`);
    } else if (listing.release !== release.name || (listing.arch !== null && listing.arch !== this.settings.arch.target)) {
      throw new BeError(
        'E_USAGE',
        `${be} holds ${listing.release} ${listing.arch ?? ''}, not ${release.name} ${this.settings.arch.target}: destroy it or rename it`,
      );
    }
    // Mounted for the run and unmounted after it, unless it was mounted already (be install leaves it mounted).
    const mount = await mountForRun(config, be);
    try {
      return await this.runTest(release, be, mount.root, write, note);
    } finally {
      await mount.release().catch((err: Error) => note(`unmounting ${be}: ${err.message}`));
    }
  }

  private async runTest(
    release: Release,
    be: string,
    root: string,
    write: (chunk: Buffer | string) => void,
    note: (line: string) => void,
  ): Promise<Pick<ReleaseResult, 'verdict' | 'exitCode' | 'value' | 'detail' | 'cases'>> {
    const { config, runner, test, signal, timeoutMs } = this.settings;
    this.settings.onEvent?.({ kind: 'start', release: release.name, be });
    const request = {
      config,
      be,
      root,
      timeoutMs,
      onOutput: (chunk: Buffer) => write(chunk),
      ...(signal ? { signal } : {}),
    };
    if ('probe' in test) {
      note(`probe ${test.probe.name} in ${root}`);
      const outcome: ProbeOutcome = await test.probe.run({ release: release.name, major: release.major, runner, request, root, log: note });
      return {
        verdict: outcome.verdict,
        exitCode: outcome.exitCode,
        detail: outcome.detail,
        ...(outcome.value !== undefined ? { value: outcome.value } : {}),
        ...(outcome.cases ? { cases: outcome.cases } : {}),
      };
    }
    note(`${runner.name}: ${test.command.join(' ')} in ${root}`);
    const outcome = await runner.run({ ...request, command: test.command });
    signal?.throwIfAborted();
    return judge(outcome, timeoutMs);
  }
}

/** A runner's outcome as a verdict: an exit status by git bisect run's rule, anything else an error. */
export function judge(outcome: RunOutcome, timeoutMs: number): { verdict: Verdict; exitCode: number | null; detail?: string } {
  if (outcome.kind === 'exited') return { verdict: verdictOfStatus(outcome.exitCode), exitCode: outcome.exitCode };
  if (outcome.kind === 'timeout') return { verdict: 'error', exitCode: null, detail: `timed out after ${timeoutMs / 1000} s` };
  return { verdict: 'error', exitCode: null, detail: outcome.reason };
}

/**
 * Tests every release of the run, `jobs` at a time (in the run's order: the first `jobs` start at
 * once, each finished one starts the next). Returns the report, results in release order.
 */
export async function huntAll(run: HuntRun, jobs: number): Promise<HuntReport> {
  const releases = run.releases;
  let next = 0;
  // The first failure stops the other workers from taking more releases; each finishes (and cleans up) what it runs.
  let failed = false;
  const worker = async () => {
    while (next < releases.length && !failed) {
      run.settings.signal?.throwIfAborted();
      try {
        await run.test(releases[next++]!);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  const outcomes = await Promise.allSettled(Array.from({ length: Math.max(1, Math.min(jobs, releases.length)) }, worker));
  const rejected = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (rejected) throw rejected.reason;
  return run.report();
}

/** The last non-empty line of what a command wrote, kept without holding the whole output. */
class LastLine {
  private pending = '';
  line = '';
  feed(text: string): void {
    const lines = (this.pending + text).split('\n');
    this.pending = lines.pop() ?? '';
    if (this.pending.length > 4096) this.pending = this.pending.slice(-4096);
    for (let i = lines.length - 1; i >= 0; i--) {
      const line = lines[i]!.trim();
      if (line !== '') {
        this.line = line;
        break;
      }
    }
    if (this.pending.trim() !== '') this.line = this.pending.trim();
  }
}

const round = (seconds: number) => Math.round(seconds * 1000) / 1000;
const oneLine = (text: string) => text.replace(/\s*\n\s*/g, ' ').trim();

function closeStream(stream: WriteStream): Promise<void> {
  return new Promise((resolve) => stream.end(() => resolve()));
}
