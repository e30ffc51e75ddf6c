/**
 * Where a hunt's command runs: a jail (FreeBSD), a chroot (any host whose kernel runs the release's
 * binaries) or a bhyve guest booted from the BE over NFS. The hunt and `be jail` take a Runner as a
 * parameter and never ask which one it is.
 */
import type { Config } from '../../src/config/schema.js';

export type RunnerName = 'jail' | 'chroot' | 'bhyve';

export interface RunRequest {
  config: Config;
  /** The boot environment's name (the jail's name and host.hostname, the guest's name). */
  be: string;
  /** Where the BE is mounted with its nested datasets; the caller mounted it. */
  root: string;
  /** The argv to run inside (an absolute path or a name the release's PATH finds). */
  command: readonly string[];
  /** Kill the command after this long; 0: no limit. */
  timeoutMs: number;
  /** Every byte the command writes (stdout and stderr interleaved) is appended here. */
  onOutput?: (chunk: Buffer) => void;
  signal?: AbortSignal;
  /** jail(8) parameters from `-o PARAM=VALUE` (jail runner only; others refuse them). */
  parameters?: readonly string[];
  /** Connect the command to this process's terminal (`be jail` with no command: an interactive shell). */
  interactive?: boolean;
}

export type RunOutcome =
  /** The command exited by itself with this status. */
  | { kind: 'exited'; exitCode: number }
  /** It ran longer than timeoutMs and was killed. */
  | { kind: 'timeout' }
  /** The runner could not run it, or it was killed by a signal: `reason` is one line. */
  | { kind: 'failed'; reason: string };

export interface Runner {
  readonly name: RunnerName;
  /**
   * Runs the command in the BE and cleans up what it set up (jail removed, devfs/proc unmounted, guest
   * destroyed) on every path, failure and abort included.
   */
  run(request: RunRequest): Promise<RunOutcome>;
}
