/**
 * Running the command itself (jexec, chroot) for a runner, through the OS door: either on this
 * process's terminal (`interactive`, `be jail`'s shell) or with its output streamed to onOutput, killed
 * at the time limit, ended by the AbortSignal; and the answer as a RunOutcome, never a throw.
 */
import { CommandError, run, start } from '../../os.js';
import type { RunOutcome } from '../runner.js';

export interface CommandOptions {
  /** 0: no limit. */
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  onOutput?: ((chunk: Buffer) => void) | undefined;
  interactive?: boolean | undefined;
  /**
   * Called once when the command is being stopped (time limit, abort), after it is signalled: ends
   * what it left behind (a background process still holding its output open would keep the run
   * waiting for the end of that output).
   */
  onStop?: (() => Promise<void>) | undefined;
}

export const aborted = 'aborted';

function notFound(file: string): RunOutcome {
  return { kind: 'failed', reason: `${file}: command not found` };
}

async function onTerminal(argv: readonly string[], options: CommandOptions): Promise<RunOutcome> {
  try {
    const result = await run(argv[0]!, argv.slice(1), {
      timeoutMs: options.timeoutMs,
      stdio: 'inherit',
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return { kind: 'exited', exitCode: result.exitCode };
  } catch (err) {
    if (!(err instanceof CommandError)) throw err;
    switch (err.failure) {
      case 'exit':
        return { kind: 'exited', exitCode: err.exitCode! };
      case 'timeout':
        return { kind: 'timeout' };
      case 'aborted':
        return { kind: 'failed', reason: aborted };
      case 'not-found':
        return notFound(argv[0]!);
      default:
        return { kind: 'failed', reason: err.message.slice(argv.join(' ').length + 2) };
    }
  }
}

async function streamed(argv: readonly string[], options: CommandOptions): Promise<RunOutcome> {
  if (options.signal?.aborted) return { kind: 'failed', reason: aborted };
  const child = start(argv[0]!, argv.slice(1), options.signal ? { signal: options.signal } : {});
  const forward = (chunk: Buffer) => options.onOutput?.(chunk);
  child.stdout?.on('data', forward);
  child.stderr?.on('data', forward);
  let timedOut = false;
  let stopping = false;
  const stopRest = () => {
    if (stopping) return;
    stopping = true;
    options.onStop?.().catch(() => {});
  };
  const timer =
    options.timeoutMs > 0
      ? setTimeout(() => {
          timedOut = true;
          child.kill(); // SIGTERM, then SIGKILL 2 s later (os.ts: forceKillAfterDelay)
          stopRest();
        }, options.timeoutMs)
      : undefined;
  options.signal?.addEventListener('abort', stopRest);
  try {
    const result = await child;
    if (timedOut) return { kind: 'timeout' };
    if (result.isCanceled || options.signal?.aborted) return { kind: 'failed', reason: aborted };
    const code = (result.cause as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'ENOENT') return notFound(argv[0]!);
    if (result.exitCode !== undefined) return { kind: 'exited', exitCode: result.exitCode };
    return { kind: 'failed', reason: result.signal ? `killed by ${result.signal}` : `could not run (${code ?? 'unknown error'})` };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', stopRest);
  }
}

/** Runs argv to its end and says how it ended. */
export function runCommand(argv: readonly string[], options: CommandOptions): Promise<RunOutcome> {
  return options.interactive ? onTerminal(argv, options) : streamed(argv, options);
}

/** One line for a CommandError from a set-up or clean-up step: the program and what it said. */
export function stepFailure(err: unknown): string {
  if (err instanceof CommandError) {
    const said = err.stderr.trim().split('\n')[0];
    if (err.failure === 'not-found') return `${err.argv[0]}: command not found`;
    return `${err.argv.slice(0, 2).join(' ')}: ${err.failure === 'exit' ? `exit status ${err.exitCode}${said ? `: ${said}` : ''}` : err.message}`;
  }
  return (err as Error).message;
}
