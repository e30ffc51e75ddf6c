/**
 * A built-in test for `be hunt --probe NAME` and `be bisect --probe NAME`: instead of a user's command,
 * something be knows how to run and read. A probe may look at the BE's files without running anything
 * (manratio), or run a command through the runner and read what it left in the BE (kyua).
 */
import type { CaseResult, Verdict } from '../../src/hunt/types.js';
import type { Runner, RunRequest } from './runner.js';

export interface ProbeContext {
  /** The release being tested, e.g. 11.0-RELEASE, and its major number. */
  release: string;
  major: number;
  /** The runner, and a request for it with config, be, root, timeoutMs, onOutput and signal filled in: set `command` and run. */
  runner: Runner;
  request: Omit<RunRequest, 'command'>;
  /** Where the BE is mounted (= request.root). */
  root: string;
  /** Lines for the release's log (what the probe did, what it read). */
  log: (line: string) => void;
}

export interface ProbeOutcome {
  verdict: Verdict;
  /** The exit status of the command the probe ran, null when it ran none or it did not exit. */
  exitCode: number | null;
  /** A figure to chart across releases (manratio: the ratio, 0..1). */
  value?: number;
  /** One line for the table, e.g. "1234/1500 executables have a page" or "412 passed, 3 failed". */
  detail: string;
  cases?: CaseResult[];
}

export interface Probe {
  readonly name: string;
  /** What `value` measures, for the report's chart axis; absent for probes without a figure. */
  readonly valueLabel?: string;
  run(context: ProbeContext): Promise<ProbeOutcome>;
}
