/**
 * A command's exit status as `git bisect run` reads it (git-bisect(1), "bisect run"): 0 good, 125
 * skip (the release cannot be tested), any other status bad. git stops a bisection on a status of 128
 * or more; here a command the shell reports as killed by a signal (128 + n, a crash) is a result about
 * the release, so it is bad too. What says nothing about the release (a timeout, a runner that could
 * not run the command) is `error`, decided by the caller, never from a status.
 */
import type { Verdict } from './types.js';

export const skipStatus = 125;

export function verdictOfStatus(status: number): Exclude<Verdict, 'error'> {
  if (status === 0) return 'good';
  if (status === skipStatus) return 'skip';
  return 'bad';
}
