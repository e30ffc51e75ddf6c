/**
 * The guest the PXE tests boot: Debian's kernel and an initramfs built here from Debian packages only
 * (`apt-get download` + `dpkg -x`, nothing installed). It stands in for FreeBSD, whose pxeboot and loader
 * cannot be downloaded here: like a diskless FreeBSD client it takes DHCP asking for the root path
 * (option 17), mounts that root over NFSv3, then the nested datasets its etc/fstab lists, prints two
 * marker files to the serial console and powers off.
 *
 * Built once per package version under a cache directory (BE_TEST_CACHE, default /var/cache/be-test)
 * and reused by every later run; a build goes to a temporary directory renamed into place, so two
 * processes building at once cannot leave a half-written guest.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { candidate, extracted, testCache } from '../lan/debian.js';

export const guestCache = testCache;

/** The NFS client modules, in dependency order (TESTLAB.md). */
export const guestModules = ['e1000', 'netfs', 'fscache', 'sunrpc', 'grace', 'lockd', 'nfs_acl', 'nfs', 'nfsv3'] as const;

/** What the guest prints; tests match these lines on the serial console. */
export const consoleMarkers = {
  root: 'be-e2e root marker: ',
  nested: 'be-e2e nested marker: ',
  rootPath: 'be-e2e root-path: ',
  /** How many NFS file systems of the BE's fstab the guest mounted after its root. */
  fstabMounts: 'be-e2e fstab mounts: ',
  failed: 'be-e2e FAILED: ',
} as const;

/** Where the markers live inside the boot environment. */
export const markerFiles = { root: 'etc/be-marker', nested: 'var/log/be-marker' } as const;

export interface Guest {
  kernel: string;
  initrd: string;
  /** e.g. linux-image-6.1.0-56-amd64 6.1.192-2, busybox-static 1:1.35.0-4+deb12u1+b1 */
  packages: string[];
}

// The guest's /init. Every failure prints one FAILED line and powers off, so a test ends at once
// instead of waiting for its timeout.
const init = `#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
fail() { echo "${consoleMarkers.failed}$*"; poweroff -f; }
for m in ${guestModules.join(' ')}; do insmod /lib/modules/$m.ko || fail "insmod $m"; done
ip link set lo up
ip link set eth0 up || fail "no eth0"
# -O rootpath: ask for option 17, as FreeBSD's loader does; the lease script writes it to /lease.
udhcpc -i eth0 -n -q -f -t 10 -O rootpath -s /lease.sh || fail "no DHCP lease"
. /lease
echo "${consoleMarkers.rootPath}$rootpath"
[ -n "$rootpath" ] || fail "no root-path in the DHCP answer"
server=\${rootpath%%:*}
nfs() { mount -t nfs -o nolock,vers=3,proto=tcp,addr=$server "$1" "$2"; }
nfs "$rootpath" /root || fail "mount $rootpath"
# The nested datasets, as the boot environment's fstab lists them (NFSv3 does not cross server mounts).
n=0
while read -r dev mp type rest; do
  [ "$type" = nfs ] || continue
  nfs "$dev" "/root$mp" || fail "mount $dev on $mp"
  n=$((n + 1))
done < /root/etc/fstab
echo "${consoleMarkers.fstabMounts}$n"
echo "${consoleMarkers.root}$(cat /root/${markerFiles.root})"
echo "${consoleMarkers.nested}$(cat /root/${markerFiles.nested})"
sync
poweroff -f
`;

const leaseScript = `#!/bin/sh
case "$1" in
bound|renew)
  ip addr add "$ip/\${mask:-24}" dev "$interface"
  [ -n "$router" ] && ip route add default via "\${router%% *}"
  echo "rootpath='$rootpath'" > /lease
  ;;
esac
exit 0
`;

function sh(file: string, args: string[], cwd?: string): string {
  return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20, ...(cwd ? { cwd } : {}) });
}

/** The package a Debian metapackage (linux-image-amd64) depends on. */
function kernelPackage(): string {
  const depends = sh('apt-cache', ['depends', 'linux-image-amd64']);
  const match = /Depends: (linux-image-6\.1\.0-[0-9]+-amd64)\b/.exec(depends);
  if (!match) throw new Error(`apt-cache depends linux-image-amd64 names no linux-image-6.1.0-*-amd64:\n${depends}`);
  return match[1]!;
}

function findModule(tree: string, name: string): string {
  for (const entry of readdirSync(tree, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    if (entry.name === `${name}.ko` || entry.name === `${name}.ko.xz`) return join(entry.parentPath, entry.name);
  }
  throw new Error(`module ${name} not found under ${tree}`);
}

/** Builds (or finds in the cache) the kernel and initramfs. Takes a minute the first time. */
export function buildGuest(): Guest {
  const kpkg = kernelPackage();
  const kver = candidate(kpkg);
  const bver = candidate('busybox-static');
  const recipe = createHash('sha256').update(init).update(leaseScript).update(guestModules.join(',')).digest('hex').slice(0, 12);
  const key = `guest-${kpkg}_${kver}-busybox_${bver}-${recipe}`.replace(/[^A-Za-z0-9._+~-]/g, '_');
  const dir = join(guestCache, key);
  const guest: Guest = { kernel: join(dir, 'vmlinuz'), initrd: join(dir, 'initrd.gz'), packages: [`${kpkg} ${kver}`, `busybox-static ${bver}`] };
  if (existsSync(join(dir, '.done'))) return guest;

  const kernelRoot = join(extracted(kpkg, kver), 'root');
  const busyboxRoot = join(extracted('busybox-static', bver), 'root');
  const work = `${dir}.tmp-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  const tree = join(work, 'initramfs');
  try {
    for (const d of ['bin', 'dev', 'proc', 'sys', 'root', 'lib/modules']) mkdirSync(join(tree, d), { recursive: true });
    copyFileSync(join(busyboxRoot, 'bin', 'busybox'), join(tree, 'bin', 'busybox'));
    chmodSync(join(tree, 'bin', 'busybox'), 0o755);
    const modulesTree = join(kernelRoot, 'lib', 'modules');
    for (const name of guestModules) {
      const found = findModule(modulesTree, name);
      const target = join(tree, 'lib', 'modules', `${name}.ko`);
      if (found.endsWith('.xz')) writeFileSync(target, execFileSync('xz', ['-dc', found], { maxBuffer: 64 << 20 }));
      else copyFileSync(found, target);
    }
    writeFileSync(join(tree, 'init'), init, { mode: 0o755 });
    writeFileSync(join(tree, 'lease.sh'), leaseScript, { mode: 0o755 });
    // newc cpio of the tree, gzip-compressed: the format the kernel unpacks as an initramfs.
    const list = sh('find', ['.', '-mindepth', '1'], tree);
    const archive = execFileSync('cpio', ['-o', '-H', 'newc', '--quiet', '-R', '0:0'], { cwd: tree, input: list, maxBuffer: 256 << 20 });
    writeFileSync(join(work, 'initrd.gz'), execFileSync('gzip', ['-9n'], { input: archive, maxBuffer: 256 << 20 }));
    const vmlinuz = readdirSync(join(kernelRoot, 'boot')).find((f) => f.startsWith('vmlinuz-'));
    if (!vmlinuz) throw new Error(`${kpkg} has no boot/vmlinuz-*`);
    copyFileSync(join(kernelRoot, 'boot', vmlinuz), join(work, 'vmlinuz'));
    rmSync(tree, { recursive: true, force: true });
    writeFileSync(join(work, '.done'), `${guest.packages.join('\n')}\n`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(work, dir);
  } catch (err) {
    rmSync(work, { recursive: true, force: true });
    if (existsSync(join(dir, '.done'))) return guest;
    throw err;
  }
  if (statSync(guest.initrd).size < 1024) throw new Error(`${guest.initrd} is implausibly small`);
  return guest;
}
