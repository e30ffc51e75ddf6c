/**
 * The runners behind services/hunt/runner.ts's interface, chosen by name (`--runner`): `jail` (the
 * default on FreeBSD), `chroot` (the default elsewhere, so a hunt runs on any host for releases whose
 * binaries run there) and `bhyve` (explicit). The hunt takes the Runner as a parameter and never asks
 * which one it has. mountForRun is what the hunt and `be jail` wrap around a run.
 */
import type { Config } from '../../src/config/schema.js';
import { BeError } from '../../src/errors.js';
import { BeOps } from '../be/ops.js';
import type { Runner, RunnerName } from './runner.js';
import { BhyveRunner } from './runners/bhyve.js';
import { ChrootRunner } from './runners/chroot.js';
import { JailRunner } from './runners/jail.js';

export { BhyveRunner } from './runners/bhyve.js';
export { ChrootRunner, endProcessesIn } from './runners/chroot.js';
export { kernelCompatWarning } from './runners/compat.js';
export { JailRunner, jailSpecFor, runInJail, type JailRunOptions, type JailRunResult } from './runners/jail.js';

export const runnerNames: readonly RunnerName[] = ['jail', 'chroot', 'bhyve'];

/** The default runner for a platform: jail on FreeBSD, chroot elsewhere; bhyve only when asked for. */
export function defaultRunnerName(platform: NodeJS.Platform = process.platform): RunnerName {
  return platform === 'freebsd' ? 'jail' : 'chroot';
}

export function runnerNamed(name: RunnerName | undefined, platform: NodeJS.Platform = process.platform): Runner {
  switch (name ?? defaultRunnerName(platform)) {
    case 'jail':
      return new JailRunner();
    case 'chroot':
      return new ChrootRunner(platform);
    case 'bhyve':
      return new BhyveRunner();
    default:
      throw new BeError('E_USAGE', `unknown runner ${JSON.stringify(name)}: use ${runnerNames.join(', ')}`);
  }
}

export interface MountedBe {
  /** Where the BE is mounted with its nested datasets: RunRequest.root. */
  root: string;
  /** Unmounts what mountForRun mounted; a BE that was mounted before stays mounted. Idempotent. */
  release(): Promise<void>;
}

/**
 * Mounts the BE with its nested datasets for a run (be mount's rules: be.mountDir/NAME, children in
 * mountpoint order, canmount=off skipped), unless it is mounted already; release() undoes only that.
 */
export async function mountForRun(config: Config, name: string): Promise<MountedBe> {
  const ops = await BeOps.open(config);
  const before = await ops.find(name);
  const wasMounted = before.datasets[0]!.path !== null;
  const be = await ops.ensureMounted(name);
  const root = be.datasets[0]!.path;
  if (!root) throw new BeError('E_EXEC', `${name} did not mount`);
  let done = wasMounted;
  return {
    root,
    release: async () => {
      if (done) return;
      done = true;
      await ops.umount(name);
    },
  };
}
