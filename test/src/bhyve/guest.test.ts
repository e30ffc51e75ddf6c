import { describe, expect, it } from 'vitest';
import { bhyveArgv, bhyveloadArgv, checkVmName, guestEnvironment, parseMemory, validateGuest, type GuestSpec } from '../../../src/bhyve/guest.js';
import { capabilitiesOf, parseFreebsdVersionScript, parseKernelVersion, parseRelease } from '../../../src/bhyve/release.js';
import { parseHandle } from '../../../src/nfs/handle.js';

// A 28-byte FreeBSD fhandle_t (8-byte fsid + struct fid), shaped like the talk's X631083b5dea37b8...
const handle = Buffer.from('631083b5dea37b8d0a0004000000000025a0000000000000d3a5c05b', 'hex');

const head: GuestSpec = {
  vm: 'head',
  hostPath: '/ROOT/head',
  server: '192.168.2.1',
  exportPath: '/ROOT/head',
  handle,
  nfsVersion: 3,
  mac: '02-01-02-03-04-05',
  ip: '192.168.2.202',
  netmask: '255.255.255.0',
  nic: 'virtio-net',
  tap: 'tap0',
  memory: '1G',
  cpus: 2,
  console: 'stdio',
  env: {},
};

describe('bhyve argv for an NFS-root guest', () => {
  it('v3 guest: bhyveload -h with the whole diskless environment, the VM name last', () => {
    expect(bhyveloadArgv(validateGuest(head))).toEqual([
      'bhyveload',
      '-c',
      'stdio',
      '-m',
      '1024M',
      '-h',
      '/ROOT/head',
      '-e',
      'boot.netif.name=vtnet0',
      '-e',
      'boot.netif.hwaddr=02:01:02:03:04:05',
      '-e',
      'boot.netif.ip=192.168.2.202',
      '-e',
      'boot.netif.netmask=255.255.255.0',
      '-e',
      'boot.nfsroot.server=192.168.2.1',
      '-e',
      'boot.nfsroot.path=/ROOT/head',
      '-e',
      'boot.nfsroot.nfshandle=X631083b5dea37b8d0a0004000000000025a0000000000000d3a5c05bX',
      '-e',
      'boot.nfsroot.nfshandlelen=28',
      '-e',
      'vfs.root.mountfrom=nfs:192.168.2.1:/ROOT/head',
      'head',
    ]);
  });

  it('never passes -d (userboot would boot the disk and ignore -h)', () => {
    const argv = bhyveloadArgv(validateGuest(head));
    expect(argv).not.toContain('-d');
    expect(argv.filter((a) => a === '-h')).toHaveLength(1);
  });

  it('v3 guest: bhyve with virtio-net on the tap, mac= equal to boot.netif.hwaddr, console on com1', () => {
    expect(bhyveArgv(validateGuest(head))).toEqual([
      'bhyve',
      '-c',
      '2',
      '-m',
      '1024M',
      '-H',
      '-P',
      '-A',
      '-s',
      '0,hostbridge',
      '-s',
      '1,lpc',
      '-s',
      '2,virtio-net,tap0,mac=02:01:02:03:04:05',
      '-l',
      'com1,stdio',
      'head',
    ]);
  });

  it('v2 guest (7.x): e1000/em0, a 32-byte handle and no nfshandlelen', () => {
    const caps = capabilitiesOf(parseRelease('7.4-RELEASE')!);
    expect(caps).toEqual({ nfsVersion: 2, nic: 'e1000' });
    const spec = validateGuest({ ...head, vm: 'r74', ...caps, gateway: '192.168.2.254', console: '/dev/nmdm0A' });
    const env = Object.fromEntries(guestEnvironment(spec));
    expect(env['boot.netif.name']).toBe('em0');
    expect(env['boot.nfsroot.nfshandlelen']).toBeUndefined();
    expect(env['boot.nfsroot.nfshandle']).toBe(`X${handle.toString('hex')}${'00'.repeat(4)}X`);
    expect(env['boot.netif.gateway']).toBe('192.168.2.254');
    expect(bhyveArgv(spec)).toContain('2,e1000,tap0,mac=02:01:02:03:04:05');
    expect(bhyveArgv(spec)).toContain('com1,/dev/nmdm0A');
    expect(bhyveloadArgv(spec).slice(0, 3)).toEqual(['bhyveload', '-c', '/dev/nmdm0A']);
  });

  it('passes options and extra -e pairs after the diskless variables', () => {
    const spec = validateGuest({ ...head, nfsOptions: 'nfsv3,tcp', env: { 'kern.hz': '100', 'vfs.root.mountfrom.options': 'rw' } });
    const argv = bhyveloadArgv(spec);
    const pairs = argv.filter((_, i) => argv[i - 1] === '-e');
    expect(pairs.slice(-4)).toEqual([
      'boot.nfsroot.options=nfsv3,tcp',
      'vfs.root.mountfrom=nfs:192.168.2.1:/ROOT/head',
      'kern.hz=100',
      'vfs.root.mountfrom.options=rw',
    ]);
    expect(argv.at(-1)).toBe('head');
  });

  it('the handle in the environment round-trips through the kernel rules (v3 and v2)', () => {
    const v3 = Object.fromEntries(guestEnvironment(validateGuest(head)));
    expect(parseHandle(v3['boot.nfsroot.nfshandle']!, Number(v3['boot.nfsroot.nfshandlelen']))).toEqual(handle);
    const v2 = Object.fromEntries(guestEnvironment(validateGuest({ ...head, nfsVersion: 2 })));
    expect(parseHandle(v2['boot.nfsroot.nfshandle']!).subarray(0, 28)).toEqual(handle);
  });
});

describe('guest validation names the bad value', () => {
  it.each([
    [{ mac: '02:01:02:03:04' }, 'MAC "02:01:02:03:04": not a MAC address'],
    [{ ip: '192.168.2.300' }, 'IP "192.168.2.300": not an IPv4 address'],
    [{ netmask: '255.0.255.0' }, 'netmask 255.0.255.0: not a contiguous mask'],
    [{ server: '10.0.0.1' }, "NFS server 10.0.0.1 is not on the guest's subnet 192.168.2.0/255.255.255.0 and no gateway is set"],
    [{ gateway: '10.0.0.1' }, "gateway 10.0.0.1 is not on the guest's subnet"],
    [{ memory: '1.5G' }, 'memory "1.5G": use a size such as 512M or 2G'],
    [{ memory: '16M' }, 'at least 64M'],
    [{ vm: 'a/b' }, 'VM name "a/b": use 1-31 letters'],
    [{ vm: 'x'.repeat(32) }, 'use 1-31 letters'],
    [{ handle: Buffer.alloc(65) }, 'NFS handle of 65 bytes: NFSv3 handles are 1-64 bytes'],
    [{ handle: Buffer.alloc(36), nfsVersion: 2 as const }, 'does not fit the 32-byte NFSv2 form'],
    [{ cpus: 0 }, 'cpus 0: use 1-256'],
    [{ env: { 'bad name': 'x' } }, 'loader variable name "bad name"'],
    [{ exportPath: 'ROOT/head' }, 'must be absolute'],
  ])('%j', (change, message) => {
    expect(() => validateGuest({ ...head, ...change } as GuestSpec)).toThrow(message);
  });

  it('refuses an IP outside nfs.network, whose exports would refuse the guest', () => {
    expect(() => validateGuest(head, '192.168.3.0/24')).toThrow('IP 192.168.2.202 is outside nfs.network 192.168.3.0/24');
    expect(validateGuest(head, '192.168.2.0/24').ip).toBe('192.168.2.202');
  });

  it('reads memory the way bhyve does', () => {
    expect(parseMemory('512')).toBe('512M');
    expect(parseMemory('2g')).toBe('2048M');
    expect(parseMemory('1048576K')).toBe('1024M');
    expect(checkVmName('stable-14.2_a')).toBe('stable-14.2_a');
  });
});

describe('the release of a boot environment', () => {
  it('comes from bin/freebsd-version', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, not a template
    const script = '#!/bin/sh\n#\n# SPDX-License-Identifier: BSD-2-Clause\n#\nset -e\n\nUSERLAND_VERSION="14.1-RELEASE-p5"\n\n: ${ROOT:=}\n';
    expect(parseFreebsdVersionScript(script)).toEqual({ major: 14, minor: 1, text: '14.1-RELEASE-p5' });
    expect(parseFreebsdVersionScript('#!/bin/sh\necho hi\n')).toBeUndefined();
  });

  it('or from the version string inside the kernel', () => {
    // Shaped like the `version` string a GENERIC kernel carries (sys/conf/newvers.sh); not a real kernel.
    const kernel = '\0\0ELF...@(#)FreeBSD 7.4-RELEASE #0: Thu Feb 17 03:51:56 UTC 2011\n    root@builder:/usr/obj/usr/src/sys/GENERIC\0';
    expect(parseKernelVersion(kernel)).toEqual({ major: 7, minor: 4, text: '7.4-RELEASE' });
  });

  it('decides NFSv3 from 8.2 and virtio from 9.0', () => {
    const caps = (text: string) => capabilitiesOf(parseRelease(text)!);
    expect(caps('8.1-RELEASE')).toEqual({ nfsVersion: 2, nic: 'e1000' });
    expect(caps('8.2-RELEASE')).toEqual({ nfsVersion: 3, nic: 'e1000' });
    expect(caps('9.0-RELEASE')).toEqual({ nfsVersion: 3, nic: 'virtio-net' });
    expect(caps('15.0-CURRENT')).toEqual({ nfsVersion: 3, nic: 'virtio-net' });
    expect(parseRelease('fourteen')).toBeUndefined();
  });
});
