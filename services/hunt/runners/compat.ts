/**
 * Before an old userland runs on this kernel (a jail, or a chroot on FreeBSD): the BE's release from
 * its own files, the kernel's from `sysctl kern.osrelease kern.features`, and one warning line when the
 * kernel lacks a COMPAT_FREEBSDn the userland needs. Anything that cannot be read means no warning:
 * the check may only add a line, never stop a run.
 */
import { compatWarning, parseKernelFacts } from '../../../src/jail/params.js';
import { readRelease } from '../../bhyve/prepare.js';
import { run } from '../../os.js';

export async function kernelCompatWarning(root: string, signal?: AbortSignal): Promise<string | undefined> {
  const userland = await readRelease(root).catch(() => undefined);
  if (!userland) return undefined;
  try {
    const { stdout } = await run('sysctl', ['kern.osrelease', 'kern.features'], { timeoutMs: 10_000, ...(signal ? { signal } : {}) });
    return compatWarning(userland, parseKernelFacts(stdout));
  } catch {
    return undefined;
  }
}
