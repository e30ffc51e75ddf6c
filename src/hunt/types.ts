/**
 * What a regression hunt produces, shared by the hunt, the bisection and the reports.
 *
 * Verdicts follow `git bisect run`: a command that exits 0 is good, 125 skip (this release cannot be
 * tested), any other status bad. A timeout or a runner that could not run the command at all is
 * `error`: it says nothing about the release, so it is never counted as bad.
 */
export type Verdict = 'good' | 'bad' | 'skip' | 'error';

/** One test case a probe reported inside a release's run (kyua's JUnit report). */
export interface CaseResult {
  /** kyua's test program as its JUnit names it, its path with dots: `lib.libc.gen.dir2_test`. */
  classname: string;
  /** The test case, e.g. `telldir_after_seekdir`. */
  name: string;
  outcome: 'passed' | 'failed' | 'skipped' | 'broken';
  seconds: number;
  /** The failure or skip reason, when there is one. */
  message?: string;
}

/** The result of one release, as each release's result.json keeps it (`--json` prints five of its fields: src/hunt/report.ts toJson). */
export interface ReleaseResult {
  /** e.g. 14.1-RELEASE. */
  release: string;
  verdict: Verdict;
  /** The command's exit status; null when it did not exit by itself (timeout, runner failure, signal). */
  exitCode: number | null;
  seconds: number;
  /** A numeric probe's figure (manratio: the ratio, 0..1). */
  value?: number;
  /** The last non-empty line of the command's output, for the table. */
  lastLine: string;
  /** Why the verdict is error (e.g. "timed out after 30 s"), or a probe's summary (kyua: "412 passed, 3 failed"). */
  detail?: string;
  /** Test cases a probe read (kyua), one JUnit testcase each. */
  cases?: CaseResult[];
  /** The full log of this release's run (under server.stateDir/hunt/RUN/). */
  log: string;
}

/** A whole hunt: what ran, where, and every release's result in release order (oldest first). */
export interface HuntReport {
  /** The run's id, the name of its directory under server.stateDir/hunt/. */
  run: string;
  /** What was tested: a probe's name (`manratio`) or the command's argv. */
  test: { probe: string } | { command: string[] };
  runner: string;
  /** ISO 8601, from the hunt's clock. */
  started: string;
  /** What a numeric probe's value measures, e.g. "executables with a manual page", for the chart's axis. */
  valueLabel?: string;
  results: ReleaseResult[];
}
