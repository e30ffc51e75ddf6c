/**
 * rc.d/zfsbe against real ZFS datasets (zfs-fuse, a pool on a sparse file): a nested boot environment
 * whose root has no mountpoint=/ (the "/-less" layout: zroot/ROOT/head keeps the inherited
 * /zroot/ROOT/head and its children /zroot/ROOT/head/usr ...), with canmount=noauto children, a
 * canmount=off one, one with a mountpoint of its own, one already mounted, one with mountpoint=none,
 * and a second boot environment that must not be touched.
 *
 * Stand-ins, because this is not FreeBSD (the real `zfs` does all the ZFS work):
 * - rc.subr: load_rc_config does nothing, run_rc_command runs start_cmd (rc.d/be's test does the same);
 * - mount(8): `mount -p` prints the fstab-style line FreeBSD would print for / (a ZFS root, or an NFS
 *   one); `mount -t zfs NAME DIR` cannot mount a dataset on the host's real /usr, so it mounts NAME on
 *   ALTROOT/DIR instead (zfs-fuse has no `mount -t zfs`: a temporary mountpoint property and
 *   `zfs mount`). Every call is recorded, as is every `zfs` call the script makes, to check order and
 *   what was skipped.
 */
import { execa } from 'execa';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZfsFuse } from './be/zfs-fuse.js';
import { needPeers } from './lan/peers.js';

// The shims below call /sbin/zfs (zfs-fuse's path): check that very file.
const peers = needPeers('rc.d/zfsbe on zfs-fuse', ['sh', 'zfs-fuse', 'zpool', '/sbin/zfs'], { root: true });

const dir = `/tmp/be-zfsbe-${process.pid}`;
const pool = `bezfsbe${process.pid}`;
const be = `${pool}/ROOT/head`;
const alt = join(dir, 'altroot');
const calls = join(dir, 'calls');
const rootLine = join(dir, 'mount-p');
const shims = join(dir, 'bin');
const script = join(dir, 'zfsbe');
const ownMountpoint = join(dir, 'scratch');
const premounted = join(dir, 'premounted');

describe.skipIf(peers.skip)('rc.d/zfsbe on zfs-fuse datasets', () => {
  const zfs = new ZfsFuse(dir, pool);

  const z = async (args: string[]) => {
    const result = await zfs.zfs(args);
    if (result.exitCode !== 0) throw new Error(`zfs ${args.join(' ')}: ${result.stderr}`);
    return String(result.stdout);
  };

  beforeAll(async () => {
    mkdirSync(shims, { recursive: true });
    mkdirSync(alt, { recursive: true });
    await zfs.start(); // takes the machine-wide zfs-fuse lock
    // ROOT is never mounted (canmount=off); its mountpoint gives the BEs the /POOL/ROOT/NAME prefix the
    // script strips. Nothing is ever mounted under the host's /POOL.
    await z(['create', '-o', 'canmount=off', '-o', `mountpoint=/${pool}/ROOT`, `${pool}/ROOT`]);
    for (const name of ['head', 'other']) {
      await z(['create', '-o', 'canmount=noauto', `${pool}/ROOT/${name}`]);
      await z(['create', '-o', 'canmount=noauto', `${pool}/ROOT/${name}/usr`]);
    }
    await z(['create', '-o', 'canmount=noauto', `${be}/usr/home`]);
    await z(['create', '-o', 'canmount=off', `${be}/var`]); // a container, as FreeBSD's zroot/var
    await z(['create', '-o', 'canmount=noauto', `${be}/var/log`]);
    await z(['create', '-o', 'canmount=noauto', `-o`, `mountpoint=${ownMountpoint}`, `${be}/tmp`]);
    await z(['create', '-o', 'canmount=noauto', '-o', 'mountpoint=none', `${be}/unmounted`]);
    await z(['create', '-o', `mountpoint=${premounted}`, `${be}/var/db`]); // canmount=on: mounted already

    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, not a template
    writeFileSync(join(dir, 'rc.subr'), 'load_rc_config() { :; }\nrun_rc_command() { case "$1" in start) eval "${start_cmd}" ;; esac; }\n');
    writeFileSync(script, readFileSync(new URL('../rc.d/zfsbe', import.meta.url), 'utf8').replace('. /etc/rc.subr', `. "${dir}/rc.subr"`));
    writeFileSync(
      join(shims, 'mount'),
      `#!/bin/sh
echo "mount $*" >> "${calls}"
if [ "$1" = -p ]; then cat "${rootLine}"; exit 0; fi
[ "$1" = -t ] && [ "$2" = zfs ] && [ $# -eq 4 ] || { echo "mount stand-in: unexpected $*" >&2; exit 64; }
/sbin/zfs set mountpoint="${alt}$4" "$3" && /sbin/zfs mount "$3"
`,
      { mode: 0o755 },
    );
    writeFileSync(join(shims, 'zfs'), `#!/bin/sh\necho "zfs $*" >> "${calls}"\nexec /sbin/zfs "$@"\n`, { mode: 0o755 });
  }, 180_000);

  afterAll(async () => {
    try {
      await zfs.stop(); // destroys the pool (unmounting everything), ends zfs-fuse by its PID, releases the lock
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  async function runScript(root: string) {
    writeFileSync(rootLine, `${root}\ndevfs\t/dev\tdevfs\trw\t0\t0\n`);
    writeFileSync(calls, '');
    const result = await execa('sh', [script, 'start'], { reject: false, env: { PATH: `${shims}:${process.env.PATH}` } });
    return { ...result, calls: readFileSync(calls, 'utf8').trim().split('\n') };
  }

  const mountedNow = async () =>
    Object.fromEntries(
      (await z(['list', '-rH', '-o', 'name,mounted', '-t', 'filesystem', `${pool}/ROOT`]))
        .trim()
        .split('\n')
        .map((l) => l.split('\t') as [string, string]),
    );

  it('does nothing on an NFS root', async () => {
    const result = await runScript('10.99.0.1:/var/db/be/envs/head\t/\tnfs\tro\t0\t0');
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.calls).toEqual(['mount -p']);
  });

  it("on a ZFS root, mounts the booted BE's children in mountpoint order, stripping the /POOL/ROOT/head prefix", async () => {
    const result = await runScript(`${be}\t/\tzfs\trw\t0\t0`);
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.calls).toEqual([
      'mount -p',
      `zfs list -rH -o mountpoint,name,canmount,mounted -s mountpoint -t filesystem ${be}`,
      `mount -t zfs ${be}/usr /usr`,
      `mount -t zfs ${be}/usr/home /usr/home`,
      `mount -t zfs ${be}/var/log /var/log`,
      `zfs mount ${be}/tmp`, // a mountpoint of its own
      // not: head itself (it is /), var (canmount=off), var/db (mounted), unmounted (mountpoint=none), other/*
    ]);
    const mounted = await mountedNow();
    expect(mounted).toMatchObject({
      [be]: 'no',
      [`${be}/usr`]: 'yes',
      [`${be}/usr/home`]: 'yes',
      [`${be}/var`]: 'no',
      [`${be}/var/log`]: 'yes',
      [`${be}/var/db`]: 'yes',
      [`${be}/tmp`]: 'yes',
      [`${be}/unmounted`]: 'no',
      [`${pool}/ROOT/other`]: 'no',
      [`${pool}/ROOT/other/usr`]: 'no',
    });
    // Where the kernel sees them: the children really are file systems of their own, nested in order.
    const table = readFileSync('/proc/self/mounts', 'utf8');
    for (const [name, path] of [
      [`${be}/usr`, `${alt}/usr`],
      [`${be}/usr/home`, `${alt}/usr/home`],
      [`${be}/var/log`, `${alt}/var/log`],
      [`${be}/tmp`, ownMountpoint],
    ]) {
      expect(table).toContain(`${name} ${path} `);
    }
    expect(statSync(`${alt}/usr/home`).dev).not.toBe(statSync(`${alt}/usr`).dev);
  });

  it('run again, finds everything mounted and mounts nothing', async () => {
    const result = await runScript(`${be}\t/\tzfs\trw\t0\t0`);
    expect(result.exitCode).toBe(0);
    expect(result.calls).toEqual(['mount -p', `zfs list -rH -o mountpoint,name,canmount,mounted -s mountpoint -t filesystem ${be}`]);
  });
});
