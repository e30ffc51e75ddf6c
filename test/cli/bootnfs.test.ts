/**
 * `be bootnfs` on a `dir` boot environment, with stand-ins for bhyveload/bhyve/bhyvectl (FreeBSD tools
 * that cannot run here; they record their argv and replay bhyve's exit statuses) and an
 * nfs.handleCommand helper that prints a fixed handle. The proof against a real NFS server is in
 * test/interop (nfs-ganesha).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { BhyveStandIns } from '../services/bhyve/stand-ins.js';
import { be } from './be.js';
import { guestFixture, handleHex } from './guest-fixture.js';

const { dir, root, settings, remove } = guestFixture('bootnfs', { 'bhyve.console': '/dev/nmdm0A' });
const fakes = new BhyveStandIns();
afterAll(() => {
  remove();
  fakes.remove();
});
beforeEach(() => fakes.reset());

const expectedLoad = [
  'bhyveload',
  '-c',
  '/dev/nmdm0A',
  '-m',
  '1024M',
  '-h',
  root,
  '-e',
  'boot.netif.name=vtnet0',
  '-e',
  'boot.netif.hwaddr=02:01:02:03:04:05',
  '-e',
  'boot.netif.ip=10.99.0.50',
  '-e',
  'boot.netif.netmask=255.255.255.0',
  '-e',
  'boot.nfsroot.server=10.99.0.1',
  '-e',
  `boot.nfsroot.path=${root}`,
  '-e',
  `boot.nfsroot.nfshandle=X${handleHex}X`,
  '-e',
  'boot.nfsroot.nfshandlelen=28',
  '-e',
  `vfs.root.mountfrom=nfs:10.99.0.1:${root}`,
  'head',
];
const expectedRun = [
  'bhyve',
  '-c',
  '1',
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
  'com1,/dev/nmdm0A',
  'head',
];

describe('be bootnfs', () => {
  it('--dry-run refuses a BE that is not shared yet, changing nothing', async () => {
    const result = await be([...settings, 'bootnfs', 'head', '--dry-run']);
    expect(result.exitCode).toBe(2);
    expect(String(result.stderr)).toBe('be: head is not shared: run be sharenfs head (or leave out --dry-run)');
    expect(readFileSync(join(root, 'etc', 'fstab'), 'utf8')).toBe('# the original fstab\n');
  });

  it('shares the BE, writes the guest fstab, and runs the vmrun loop until the guest powers off', async () => {
    fakes.queue('bhyve', 0, 1); // one reboot, then powered off
    const result = await be([...settings, 'bootnfs', 'head'], { env: fakes.env });
    expect(String(result.stderr)).not.toMatch(/^be: /m);
    expect(result.exitCode).toBe(0);
    const destroy = 'bhyvectl --vm=head --destroy';
    expect(fakes.calls()).toEqual([destroy, expectedLoad.join(' '), expectedRun.join(' '), expectedLoad.join(' '), expectedRun.join(' '), destroy]);
    expect(readFileSync(join(dir, 'exports'), 'utf8')).toContain(`${root} -maproot=root -network 10.99.0.0 -mask 255.255.255.0`);
    expect(readFileSync(join(root, 'etc', 'fstab.orig'), 'utf8')).toBe('# the original fstab\n');
  });

  it('--dry-run prints the exact commands, shell-quoted, and --json the environment', async () => {
    const text = await be([...settings, 'bootnfs', 'head', '--dry-run']);
    expect(text.exitCode).toBe(0);
    const lines = String(text.stdout).split('\n');
    expect(lines).toEqual(['bhyvectl --vm=head --destroy', expectedLoad.join(' '), expectedRun.join(' '), 'bhyvectl --vm=head --destroy']);
    const json = JSON.parse(String((await be([...settings, 'bootnfs', 'head', '--dry-run', '--json', '--bridge', 'bridge0', '--memory', '2G'])).stdout));
    expect(json).toMatchObject({ vm: 'head', be: 'head', release: '14.1-RELEASE-p5', nfsVersion: 3 });
    expect(json.env['boot.nfsroot.nfshandle']).toBe(`X${handleHex}X`);
    expect(json.commands.slice(1, 4)).toEqual([
      ['ifconfig', 'tap0', 'create'],
      ['ifconfig', 'bridge0', 'addm', 'tap0'],
      ['ifconfig', 'tap0', 'up'],
    ]);
    expect(json.commands[4]).toContain('2048M');
    expect(fakes.calls()).toEqual([]);
  });

  it('reports an error outcome in one line', async () => {
    fakes.queue('bhyve', 3);
    const result = await be([...settings, 'bootnfs', 'head'], { env: fakes.env });
    expect(result.exitCode).toBe(1);
    expect(
      String(result.stderr)
        .split('\n')
        .filter((l) => l.startsWith('be: ')),
    ).toEqual(['be: guest head ended: triple-fault (status 3) after 1 boot(s)']);
  });

  it.each([
    [['bootnfs', 'empty', '--vm', 'e', '--mac', '02:00:00:00:00:09', '--ip', '10.99.0.9'], 'be: empty has no boot/loader'],
    [['bootnfs', 'head', '--mac', '02:01:02:03:04'], 'be: MAC "02:01:02:03:04": not a MAC address'],
    [['bootnfs', 'head', '--ip', '10.98.0.5', '--gateway', '10.98.0.1'], 'be: IP 10.98.0.5 is outside nfs.network 10.99.0.0/24'],
    [['bootnfs', 'head', '--ip', '10.98.0.5'], "be: NFS server 10.99.0.1 is not on the guest's subnet 10.98.0.0/255.255.255.0 and no gateway is set"],
    [['bootnfs', 'head', '--vm', 'a/b'], 'be: VM name "a/b": use 1-31 letters'],
    [['bootnfs', 'head', '--memory', 'lots'], "error: option '--memory <size>' argument 'lots' is invalid"],
    [['bootnfs', 'head', '--host', 'tail'], 'be: unknown host "tail": known hosts are head'],
    [['bootnfs', 'nope', '--host', 'head'], 'be: no boot environment named nope'],
    // No host is assigned to nope and no --vm: the missing BE is the news, not the missing VM name.
    [['bootnfs', 'nope'], 'be: no boot environment named nope'],
  ])('refuses %j in one line', async (args, message) => {
    const result = await be([...settings, ...args, '--dry-run']);
    expect(result.exitCode).not.toBe(0);
    const lines = String(result.stderr).trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(message);
  });
});
