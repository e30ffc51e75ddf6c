/**
 * Runs a bhyve guest the way share/examples/bhyve/vmrun.sh does: destroy any stale instance, then
 * load (bhyveload) and run (bhyve) until bhyve says something other than "reset". bhyve's exit status:
 * 0 reset (the guest rebooted: load it again), 1 powered off, 2 halted, 3 triple fault, anything else
 * an error. Unlike vmrun.sh, `bhyvectl --destroy` runs on every exit path, errors included, so no
 * /dev/vmm entry outlives the guest. Every command goes through the OS door.
 */
import { bhyveArgv, bhyveloadArgv, type GuestSpec } from '../../src/bhyve/guest.js';
import type { Logger } from '../log.js';
import { CommandError, run, type RunOptions } from '../os.js';

export type GuestOutcome = 'powered-off' | 'halted' | 'triple-fault' | 'error' | 'loader-failed' | 'stopped';

export interface GuestResult {
  outcome: GuestOutcome;
  /** bhyve's (or bhyveload's) last exit status; undefined when stopped by a signal. */
  status: number | undefined;
  /** How many times the guest was loaded. */
  boots: number;
}

export interface LaunchOptions {
  log: Logger;
  /** Stops the guest (bhyve gets SIGTERM) and ends the loop. */
  signal?: AbortSignal;
  /** Console on this terminal: bhyveload and bhyve inherit stdin/stdout/stderr. */
  interactive?: boolean;
  /** Environment for the commands (tests put stand-in executables first on PATH). */
  env?: Record<string, string>;
  /** Called on each state change, for the vmtab and `be vm list`. */
  onState?: (state: 'loading' | 'running' | 'rebooting' | GuestOutcome) => void;
}

const outcomes: Record<number, GuestOutcome> = { 1: 'powered-off', 2: 'halted', 3: 'triple-fault' };

async function step(argv: readonly string[], options: LaunchOptions): Promise<number | undefined> {
  const runOptions: RunOptions = {
    timeoutMs: 0, // a guest runs as long as it runs
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.env ? { env: options.env } : {}),
    ...(options.interactive ? { stdio: 'inherit' as const } : {}),
  };
  try {
    return (await run(argv[0]!, argv.slice(1), runOptions)).exitCode;
  } catch (err) {
    // Every exit status is an answer here (see the table above), not a failure.
    if (err instanceof CommandError && err.failure === 'exit') return err.exitCode;
    if (err instanceof CommandError && err.failure === 'aborted') return undefined;
    throw err;
  }
}

async function destroy(vm: string, options: LaunchOptions): Promise<void> {
  try {
    await run('bhyvectl', [`--vm=${vm}`, '--destroy'], { timeoutMs: 30_000, okExitCodes: [0, 1], ...(options.env ? { env: options.env } : {}) });
  } catch (err) {
    options.log.warn({ vm, err: (err as Error).message }, 'bhyvectl --destroy failed');
  }
}

export async function runGuest(spec: GuestSpec, options: LaunchOptions): Promise<GuestResult> {
  const log = options.log.child({ vm: spec.vm });
  const state = (next: Parameters<NonNullable<LaunchOptions['onState']>>[0]) => {
    log.info({ state: next }, `guest ${next}`);
    options.onState?.(next);
  };
  let boots = 0;
  let result: GuestResult;
  await destroy(spec.vm, options);
  try {
    for (;;) {
      state('loading');
      boots++;
      const loaded = await step(bhyveloadArgv(spec), options);
      if (loaded === undefined || options.signal?.aborted) {
        result = { outcome: 'stopped', status: undefined, boots };
        break;
      }
      if (loaded !== 0) {
        result = { outcome: 'loader-failed', status: loaded, boots };
        break;
      }
      state('running');
      const status = await step(bhyveArgv(spec), options);
      if (status === undefined || options.signal?.aborted) {
        result = { outcome: 'stopped', status, boots };
        break;
      }
      if (status === 0) {
        state('rebooting');
        continue;
      }
      result = { outcome: outcomes[status] ?? 'error', status, boots };
      break;
    }
  } finally {
    await destroy(spec.vm, options);
  }
  state(result.outcome);
  return result;
}
