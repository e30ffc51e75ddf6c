/**
 * The one door to the operating system (STYLE.md principle 6). Every external command (zfs, mount,
 * service, bhyveload, bhyve, tcpdump in tests) goes through here: an argv array, never a shell
 * string; a timeout; an AbortSignal; and a typed error that keeps the command, exit code and stderr.
 */
import { execa, type ResultPromise } from 'execa';
import { BeError } from '../src/errors.js';

export type CommandFailure = 'exit' | 'timeout' | 'aborted' | 'not-found' | 'spawn';

export class CommandError extends BeError {
  constructor(
    readonly argv: readonly string[],
    readonly failure: CommandFailure,
    readonly exitCode: number | undefined,
    readonly stderr: string,
    detail: string,
  ) {
    super('E_EXEC', `${argv.join(' ')}: ${detail}`);
  }
}

export interface RunOptions {
  /** Milliseconds before the command is killed (SIGTERM, then SIGKILL 2 s later). Default 30 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
  input?: string;
  cwd?: string;
  env?: Record<string, string>;
  /** Exit codes that count as success (default [0]), for tools that use 1 for "nothing found". */
  okExitCodes?: readonly number[];
  /** 'inherit': the command uses this process's terminal (a guest's console); no output is captured. */
  stdio?: 'inherit';
}

export interface RunResult {
  argv: readonly string[];
  stdout: string;
  stderr: string;
  exitCode: number;
}

const defaultTimeoutMs = 30_000;

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}

/**
 * Run a command to completion and return its output; throws CommandError unless it exits with an
 * accepted code. timeoutMs 0 means no timeout (a guest runs as long as it runs).
 */
export async function run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const argv = [file, ...args];
  if (options.signal?.aborted) throw new CommandError(argv, 'aborted', undefined, '', 'aborted before it started');
  const result = await execa(file, args, {
    reject: false,
    timeout: options.timeoutMs ?? defaultTimeoutMs,
    forceKillAfterDelay: 2000,
    ...(options.signal ? { cancelSignal: options.signal } : {}),
    ...(options.stdio === 'inherit' ? { stdio: 'inherit' as const } : options.input !== undefined ? { input: options.input } : { stdin: 'ignore' as const }),
    ...(options.cwd ? { cwd: options.cwd } : {}),
    ...(options.env ? { env: options.env, extendEnv: true } : {}),
  });
  const stderr = String(result.stderr ?? '');
  if (result.timedOut) {
    throw new CommandError(argv, 'timeout', undefined, stderr, `timed out after ${options.timeoutMs ?? defaultTimeoutMs} ms`);
  }
  if (result.isCanceled) throw new CommandError(argv, 'aborted', undefined, stderr, 'aborted');
  const spawnCode = (result.cause as NodeJS.ErrnoException | undefined)?.code;
  if (spawnCode === 'ENOENT') throw new CommandError(argv, 'not-found', undefined, '', 'command not found');
  if (result.exitCode === undefined) {
    const why = result.signal ? `killed by ${result.signal}` : `could not run (${spawnCode ?? 'unknown error'})`;
    throw new CommandError(argv, 'spawn', undefined, stderr, why);
  }
  if (!(options.okExitCodes ?? [0]).includes(result.exitCode)) {
    const why = firstLine(stderr) || firstLine(String(result.stdout ?? '')) || 'no output';
    throw new CommandError(argv, 'exit', result.exitCode, stderr, `exit status ${result.exitCode}: ${why}`);
  }
  return { argv, stdout: String(result.stdout ?? ''), stderr, exitCode: result.exitCode };
}

/**
 * Start a long-running command (bhyve, tcpdump) and hand back the subprocess. The caller owns it and
 * must end it; a pending AbortSignal ends it too.
 */
export function start(
  file: string,
  args: readonly string[],
  options: Omit<RunOptions, 'timeoutMs' | 'okExitCodes'> & { /** 'pipe': the caller writes the command's standard input. */ stdin?: 'pipe' } = {},
): ResultPromise {
  return execa(file, args, {
    reject: false,
    forceKillAfterDelay: 2000,
    ...(options.signal ? { cancelSignal: options.signal } : {}),
    ...(options.input !== undefined ? { input: options.input } : { stdin: options.stdin ?? 'ignore' }),
    ...(options.cwd ? { cwd: options.cwd } : {}),
    ...(options.env ? { env: options.env, extendEnv: true } : {}),
  });
}

/**
 * Whether a process with this pid exists: signal 0 checks without sending anything. EPERM means it
 * exists but belongs to someone else.
 */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
