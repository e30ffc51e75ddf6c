/**
 * The chroot runner (the default off FreeBSD): devfs and procfs mounted inside the BE, the command
 * under chroot(8), then every process still rooted in the BE ended and the two mounts taken off in
 * reverse order, on every exit path. It mounts only mount points that are not mounted yet and unmounts
 * only what it mounted. It runs any release whose binaries this kernel runs (FreeBSD's, on FreeBSD;
 * any static or matching userland elsewhere).
 */
import { mkdir, readdir, readFile, readlink, realpath } from 'node:fs/promises';
import { parseMountTable } from '../../../src/be/mounts.js';
import { chrootArgv, chrootMountPlan, type MountStep } from '../../../src/jail/params.js';
import { run } from '../../os.js';
import type { Runner, RunOutcome, RunRequest } from '../runner.js';
import { kernelCompatWarning } from './compat.js';
import { aborted, runCommand, stepFailure } from './exec.js';

const stepTimeoutMs = 60_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function mountedTargets(platform: NodeJS.Platform): Promise<Set<string>> {
  const text = platform === 'freebsd' ? (await run('mount', ['-p'], { timeoutMs: stepTimeoutMs })).stdout : await readFile('/proc/self/mounts', 'utf8');
  return new Set(parseMountTable(text).map((e) => e.target));
}

/**
 * The pids whose root directory is the BE or below it (Linux: /proc/PID/root). FreeBSD keeps no such
 * link without procfs on the host, so there only the command itself is ended (the jail runner, which
 * FreeBSD uses by default, has jail -r for this).
 */
async function pidsRootedIn(root: string): Promise<number[]> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return [];
  }
  const pids: number[] = [];
  await Promise.all(
    entries
      .filter((e) => /^\d+$/.test(e))
      .map(async (e) => {
        const where = await readlink(`/proc/${e}/root`).catch(() => undefined);
        if (where === root || where?.startsWith(`${root}/`)) pids.push(Number(e));
      }),
  );
  return pids;
}

function signalAll(pids: readonly number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // gone already
    }
  }
}

/** SIGTERM to every process left in the chroot, SIGKILL to those still there after 2 s; waits until they are gone. */
export async function endProcessesIn(root: string): Promise<void> {
  let left = await pidsRootedIn(root);
  if (left.length === 0) return;
  signalAll(left, 'SIGTERM');
  for (let waited = 0; left.length > 0 && waited < 2000; waited += 50) {
    await sleep(50);
    left = await pidsRootedIn(root);
  }
  for (let tries = 0; left.length > 0 && tries < 100; tries++) {
    signalAll(left, 'SIGKILL');
    await sleep(20);
    left = await pidsRootedIn(root);
  }
}

async function unmount(step: MountStep): Promise<void> {
  // A process that has just died may hold a mount busy for a moment: try a few times.
  for (let attempt = 1; ; attempt++) {
    try {
      await run(step.umount[0]!, step.umount.slice(1), { timeoutMs: stepTimeoutMs });
      return;
    } catch (err) {
      if (attempt >= 10) throw err;
      await sleep(100 * attempt);
    }
  }
}

export class ChrootRunner implements Runner {
  readonly name = 'chroot' as const;
  constructor(private readonly platform: NodeJS.Platform = process.platform) {}

  async run(request: RunRequest): Promise<RunOutcome> {
    if (request.parameters?.length) return { kind: 'failed', reason: 'jail(8) parameters (-o) are for the jail runner, not chroot' };
    let root: string;
    try {
      root = await realpath(request.root);
    } catch (err) {
      return { kind: 'failed', reason: `${request.root}: ${(err as Error).message}` };
    }
    if (this.platform === 'freebsd') {
      const warning = await kernelCompatWarning(root, request.signal);
      if (warning) request.onOutput?.(Buffer.from(`be: warning: ${warning}\n`));
    }
    const mine: MountStep[] = [];
    let outcome: RunOutcome | undefined;
    try {
      const already = await mountedTargets(this.platform);
      for (const step of chrootMountPlan(root, this.platform)) {
        if (request.signal?.aborted) break;
        if (already.has(step.target)) continue; // someone else's: neither mounted nor unmounted by us
        await mkdir(step.target, { recursive: true });
        mine.push(step); // from the first command on: a half-made mount is unmounted too
        for (const argv of step.mount) await run(argv[0]!, argv.slice(1), { timeoutMs: stepTimeoutMs });
      }
      outcome = request.signal?.aborted
        ? { kind: 'failed', reason: aborted }
        : await runCommand(chrootArgv(root, request.command), {
            timeoutMs: request.timeoutMs,
            signal: request.signal,
            onOutput: request.onOutput,
            interactive: request.interactive,
            onStop: () => endProcessesIn(root),
          });
    } catch (err) {
      outcome = { kind: 'failed', reason: stepFailure(err) };
    } finally {
      const problems: string[] = [];
      await endProcessesIn(root).catch((err: Error) => problems.push(err.message));
      const present = await mountedTargets(this.platform).catch(() => undefined);
      for (const step of mine.reverse()) {
        if (present && !present.has(step.target)) continue; // its mount command failed before mounting
        await unmount(step).catch((err) => problems.push(stepFailure(err)));
      }
      if (problems.length) outcome = { kind: 'failed', reason: `cleaning up the chroot ${root}: ${problems[0]}` };
    }
    return outcome!;
  }
}
