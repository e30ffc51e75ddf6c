/**
 * What `be create`, `be mount`, `be umount` and `be destroy` run, as argv lists built by pure
 * functions (STYLE.md principle 6), so the plans are tested without ZFS.
 */
import { joinPath, type BootEnvironment } from './inventory.js';

/** The nested layout of the talk (bsdinstall with ZFSBOOT_DATASET_NESTING=1), parents first. */
export const freebsdLayout = ['tmp', 'usr', 'usr/home', 'usr/ports', 'usr/src', 'var', 'var/audit', 'var/crash', 'var/log', 'var/mail', 'var/tmp'] as const;

export type LayoutName = 'freebsd' | 'flat';

export interface Step {
  file: string;
  args: string[];
  /** A directory to create (mkdir -p) right before this step: a mount point inside the parent just mounted. */
  mkdir?: string;
}

/**
 * `zfs create` for the BE and each child. Every dataset gets canmount=noauto: nothing mounts itself
 * over the host's own /usr, and rc.d/zfsbe mounts exactly such children of the booted BE. The BE's
 * mountpoint is `/`; children inherit `/usr`, `/var/log`, ...
 */
export function createSteps(root: string, name: string, layout: LayoutName): Step[] {
  const be = `${root}/${name}`;
  const steps: Step[] = [{ file: 'zfs', args: ['create', '-o', 'mountpoint=/', '-o', 'canmount=noauto', be] }];
  if (layout === 'freebsd') for (const child of freebsdLayout) steps.push({ file: 'zfs', args: ['create', '-o', 'canmount=noauto', `${be}/${child}`] });
  return steps;
}

/**
 * How a dataset is mounted somewhere other than its mountpoint property:
 * - `mount`: `mount -t zfs NAME DIR` (FreeBSD; what rc.d/zfsbe and bectl do), properties untouched;
 * - `property`: set the BE's mountpoint to DIR (children inherit), then `zfs mount` each (zfs-fuse,
 *   which has no mount(8) helper and aborts on unknown mount options). `be umount` restores it.
 */
export type MountMethod = 'mount' | 'property';

export interface MountPlan {
  steps: Step[];
}

/** Datasets to mount, in mountpoint order, skipping canmount=off as rc.d/zfsbe does. */
function mountable(be: BootEnvironment) {
  return be.datasets.filter((d) => d.canmount !== 'off');
}

export function mountPlan(be: BootEnvironment, dir: string, method: MountMethod): MountPlan {
  const list = mountable(be).filter((d) => d.path === null);
  const targets = list.map((d) => joinPath(dir, d.guestPath));
  if (method === 'mount') {
    // Each mount point is made after its parent is mounted, inside it: made earlier, it would be
    // hidden under the parent's mount.
    return { steps: list.map((d, i) => ({ file: 'mount', args: ['-t', 'zfs', d.name, targets[i]!], mkdir: targets[i]! })) };
  }
  const steps: Step[] = [];
  const own = be.datasets[0]!;
  if (own.mountpoint !== dir) steps.push({ file: 'zfs', args: ['set', `mountpoint=${dir}`, be.source], mkdir: dir });
  for (const d of list) steps.push({ file: 'zfs', args: ['mount', d.name] });
  return { steps };
}

/** Children first (reverse mountpoint order), then the BE; `property` also restores the mountpoint. */
export function umountPlan(be: BootEnvironment, method: MountMethod, originalMountpoint = '/'): Step[] {
  const list = be.datasets.filter((d) => d.path !== null).reverse();
  const steps: Step[] =
    method === 'mount' ? list.map((d) => ({ file: 'umount', args: [d.path!] })) : list.map((d) => ({ file: 'zfs', args: ['umount', d.name] }));
  if (method === 'property' && be.datasets[0]!.mountpoint !== originalMountpoint) {
    steps.push({ file: 'zfs', args: ['set', `mountpoint=${originalMountpoint}`, be.source] });
  }
  return steps;
}

export function destroySteps(be: BootEnvironment): Step[] {
  return [{ file: 'zfs', args: ['destroy', '-r', be.source] }];
}
