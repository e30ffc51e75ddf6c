/**
 * A `dir` boot environment that looks bootable to be bootnfs and the vmtab (boot/loader,
 * boot/kernel/kernel, bin/freebsd-version), an nfs.handleCommand helper that prints a fixed 28-byte
 * handle, and the --set flags that point be at them. FreeBSD's bhyve tools are replaced by the
 * stand-ins in test/services/bhyve/stand-ins.ts.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const handleHex = '631083b5dea37b8d0a0004000000000025a0000000000000d3a5c05b';

export interface GuestFixture {
  dir: string;
  /** The BE `head`, a directory. */
  root: string;
  settings: string[];
  remove(): void;
}

export function guestFixture(name: string, host: Record<string, string>): GuestFixture {
  const dir = mkdtempSync(join(tmpdir(), `be-${name}-`));
  const envs = join(dir, 'envs');
  const root = join(envs, 'head');
  for (const sub of ['bin', 'boot/kernel', 'etc']) mkdirSync(join(root, sub), { recursive: true });
  writeFileSync(join(root, 'boot', 'loader'), 'userboot reads this from -h\n');
  writeFileSync(join(root, 'boot', 'kernel', 'kernel'), 'kernel');
  writeFileSync(join(root, 'bin', 'freebsd-version'), '#!/bin/sh\nUSERLAND_VERSION="14.1-RELEASE-p5"\n');
  writeFileSync(join(root, 'etc', 'fstab'), '# the original fstab\n');
  mkdirSync(join(envs, 'empty'));
  const helper = join(dir, 'print-handle');
  writeFileSync(helper, `#!/bin/sh\n# prints the handle of "$1"\necho X${handleHex}X\n`, { mode: 0o755 });
  const settings = [
    '--set',
    'be.backend=dir',
    '--set',
    `be.root=${envs}`,
    '--set',
    `server.stateDir=${join(dir, 'state')}`,
    '--set',
    'server.address=10.99.0.1',
    '--set',
    'nfs.network=10.99.0.0/24',
    '--set',
    `nfs.exportsFile=${join(dir, 'exports')}`,
    '--set',
    'nfs.reload=["true"]',
    '--set',
    `nfs.handleCommand=[${helper}]`,
    ...Object.entries({ name: 'head', mac: '02:01:02:03:04:05', ip: '10.99.0.50', be: 'head', boot: 'bhyve', ...host }).flatMap(([key, value]) => [
      '--set',
      `hosts.0.${key}=${value}`,
    ]),
  ];
  return { dir, root, settings, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
