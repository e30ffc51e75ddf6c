/**
 * The guest's /etc/fstab for a nested boot environment over NFS (the talk's "Housekeeping" slide):
 * the kernel mounts only the root from boot.nfsroot.*, and NFSv3 does not cross the server's mount
 * points, so the guest mounts every nested dataset itself, parents first.
 */
import { compareRelative, type BootEnvironment } from '../be/inventory.js';
import { BeError } from '../errors.js';

export const fstabHeader = '# Written by be: the nested datasets of this boot environment over NFS.';

export function buildGuestFstab(be: BootEnvironment, server: string, options = 'rw'): string {
  const lines = [fstabHeader, '# Device\tMountpoint\tFStype\tOptions\tDump\tPass#'];
  const children = be.datasets.filter((d) => d.relative !== '' && d.canmount !== 'off').sort((a, b) => compareRelative(a.relative, b.relative));
  for (const d of children) {
    if (d.path === null) throw new BeError('E_USAGE', `${d.name} is not mounted, so it has no NFS path: be mount ${be.name} first`);
    lines.push(`${server}:${d.path}\t${d.guestPath}\tnfs\t${options}\t0\t0`);
  }
  return `${lines.join('\n')}\n`;
}
