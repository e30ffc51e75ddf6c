/**
 * The jail runner (FreeBSD's default), and `be jail`: `jail -c` with bectl's parameters on the mounted
 * BE, the command through `jexec`, then `jail -r` (which kills whatever is left in the jail) and the
 * file systems jail(8) mounted for it (devfs on path/dev) unmounted when still there, on every exit path.
 * Everything goes through the OS door by name, so stand-ins on PATH can replay jail(8), jexec(8),
 * mount(8) and sysctl(8) where there is no FreeBSD.
 */
import { parseMountTable } from '../../../src/be/mounts.js';
import { finalJailName, jailCreateArgv, jailMounts, jailName, jailRemoveArgv, jexecArgv, parseJailParameter, type JailSpec } from '../../../src/jail/params.js';
import { run } from '../../os.js';
import type { Runner, RunOutcome, RunRequest } from '../runner.js';
import { kernelCompatWarning } from './compat.js';
import { aborted, runCommand, stepFailure } from './exec.js';

const stepTimeoutMs = 60_000;

export interface JailRunOptions {
  /** Leave the jail (and its devfs) in place: `be jail --keep`. */
  keep?: boolean;
  /** Where the kernel-compatibility warning goes; default: onOutput, as a `be: warning: ...` line. */
  warn?: (line: string) => void;
}

export interface JailRunResult {
  outcome: RunOutcome;
  /** The jail's name, for jexec and jail -r. */
  jail: string;
}

/** The jail's spec from a request; `-o` refusals throw one-line BeErrors before anything runs. */
export function jailSpecFor(request: Pick<RunRequest, 'be' | 'root' | 'parameters'>): JailSpec {
  return { name: jailName(request.be), root: request.root, hostname: request.be, parameters: (request.parameters ?? []).map(parseJailParameter) };
}

/** Unmounts what jail(8) mounted for the jail and left behind, deepest first; only those, only if mounted. */
async function unmountLeftovers(spec: JailSpec): Promise<void> {
  const wanted = jailMounts(spec);
  if (wanted.length === 0) return;
  const { stdout } = await run('mount', ['-p'], { timeoutMs: stepTimeoutMs });
  const mounted = new Set(parseMountTable(stdout).map((e) => e.target));
  for (const target of wanted) if (mounted.has(target)) await run('umount', [target], { timeoutMs: stepTimeoutMs });
}

export async function runInJail(request: RunRequest, options: JailRunOptions = {}): Promise<JailRunResult> {
  const spec = jailSpecFor(request);
  const jail = finalJailName(spec);
  const warn = options.warn ?? ((line: string) => request.onOutput?.(Buffer.from(`be: warning: ${line}\n`)));
  const warning = await kernelCompatWarning(request.root, request.signal);
  if (warning) warn(warning);
  if (request.signal?.aborted) return { outcome: { kind: 'failed', reason: aborted }, jail };

  const create = jailCreateArgv(spec);
  try {
    // Not abortable: a jail half made by a kill could not be told from someone else's, so it would stay.
    await run(create[0]!, create.slice(1), { timeoutMs: stepTimeoutMs });
  } catch (err) {
    // Nothing of ours to clean up: jail(8) undoes a creation that fails, and a jail that already
    // exists (one `be jail --keep` left) is not ours to remove.
    return { outcome: { kind: 'failed', reason: stepFailure(err) }, jail };
  }
  const remove = jailRemoveArgv(jail);
  // jail -r ends every process in the jail: at the end, or at once when the command is stopped.
  let removal: Promise<unknown> | undefined;
  const removeJail = () => (removal ??= run(remove[0]!, remove.slice(1), { timeoutMs: stepTimeoutMs }));
  let outcome: RunOutcome;
  try {
    outcome = await runCommand(jexecArgv(jail, request.command), {
      timeoutMs: request.timeoutMs,
      signal: request.signal,
      onOutput: request.onOutput,
      interactive: request.interactive,
      ...(options.keep
        ? {}
        : {
            onStop: async () => {
              await removeJail();
            },
          }),
    });
  } finally {
    if (!options.keep) {
      try {
        await removeJail();
        await unmountLeftovers(spec);
      } catch (err) {
        outcome = { kind: 'failed', reason: `cleaning up jail ${jail}: ${stepFailure(err)}` };
      }
    }
  }
  return { outcome: outcome!, jail };
}

export class JailRunner implements Runner {
  readonly name = 'jail' as const;

  async run(request: RunRequest): Promise<RunOutcome> {
    try {
      return (await runInJail(request)).outcome;
    } catch (err) {
      return { kind: 'failed', reason: (err as Error).message };
    }
  }
}
