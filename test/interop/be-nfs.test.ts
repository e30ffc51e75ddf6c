/**
 * Boot environments on real ZFS (zfs-fuse, a pool on a sparse file) exported by a real NFS server
 * (nfs-ganesha with the VFS FSAL, rpcbind) inside test namespaces, driven through the be commands.
 * The host's / is a private mount, so every dataset is mounted before ganesha starts (a FUSE mount made
 * later would not be seen inside `ip netns exec`).
 */
import { execa } from 'execa';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMountTable, zfsMountPoints } from '../../src/be/mounts.js';
import { parseZfsList } from '../../src/be/zfs-list.js';
import { freebsdLayout } from '../../src/be/layout.js';
import { be as runBe, beMain } from '../cli/be.js';
import { NfsServer } from '../be/ganesha.js';
import { ZfsFuse } from '../be/zfs-fuse.js';
import { Lan } from '../lan/netns.js';
import { needPeers } from '../lan/peers.js';
import { serveBe } from '../lan/serve.js';
import { waitFor } from '../lan/wait.js';

const peers = needPeers(
  'boot environments on zfs-fuse, exported by nfs-ganesha',
  ['zfs-fuse', 'zpool', 'zfs', 'ganesha.nfsd', 'rpcbind', 'rpcinfo', 'nfs-ls', 'ip', 'udhcpc'],
  { root: true },
);

const dir = `/tmp/be-nfs-${process.pid}`;
const pool = `be${process.pid}`;
const root = `${pool}/ROOT`;
const mountDir = join(dir, 'ROOT');
const stateDir = join(dir, 'state');
const exportsFile = join(dir, 'exports.ganesha');
const ganeshaPid = join(dir, 'ganesha.pid');

const settings = (extra: string[] = []) => [
  '--set',
  'be.backend=zfs',
  '--set',
  `be.root=${root}`,
  '--set',
  `be.mountDir=${mountDir}`,
  '--set',
  `server.stateDir=${stateDir}`,
  '--set',
  'nfs.format=ganesha',
  '--set',
  `nfs.exportsFile=${exportsFile}`,
  '--set',
  `nfs.pidFile=${ganeshaPid}`,
  ...extra,
];

async function be(args: string[], extra: string[] = []) {
  const result = await runBe([...args, ...settings(extra)], { stripFinalNewline: false });
  return { code: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr) };
}

async function zfsList() {
  const result = await execa('zfs', ['list', '-rH', '-o', 'name,mountpoint,canmount,mounted', '-t', 'filesystem', root]);
  return parseZfsList(result.stdout);
}

function mountTable() {
  return zfsMountPoints(parseMountTable(readFileSync('/proc/self/mounts', 'utf8')));
}

describe.skipIf(peers.skip)('boot environments on zfs-fuse, exported by nfs-ganesha', () => {
  const zfs = new ZfsFuse(dir, pool);
  let lan: Lan | undefined;

  beforeAll(async () => {
    await zfs.start();
    const made = await zfs.zfs(['create', '-o', 'mountpoint=none', '-o', 'canmount=off', root]);
    expect(made.stderr).toBe('');
  }, 120_000);

  afterAll(async () => {
    // Daemons first (by PID, via the LAN), then the pool and zfs-fuse, then the files.
    lan?.close();
    await zfs.stop();
  }, 120_000);

  it("creates a nested BE (the talk's layout) and a flat one; the inventory agrees with zfs list", async () => {
    expect(await be(['create', 'head'])).toMatchObject({ code: 0, stdout: `created ${root}/head (12 datasets)\n` });
    expect(await be(['create', '-l', 'flat', 'files'])).toMatchObject({ code: 0, stdout: `created ${root}/files (1 dataset)\n` });
    expect(await be(['create', '-l', 'flat', 'spare'])).toMatchObject({ code: 0 });
    const again = await be(['create', 'head']);
    expect(again.code).toBe(2);
    expect(again.stderr).toBe(`be: boot environment head already exists (${root}/head)\n`);

    const rows = await zfsList();
    expect(rows.map((r) => r.name)).toEqual([root, `${root}/files`, `${root}/head`, ...freebsdLayout.map((c) => `${root}/head/${c}`), `${root}/spare`]);
    // Nothing mounted itself over the host: every BE dataset is canmount=noauto and unmounted.
    for (const r of rows.slice(1)) expect(r).toMatchObject({ canmount: 'noauto', mounted: false });
    expect(rows.find((r) => r.name === `${root}/head/var/log`)!.mountpoint).toBe('/var/log');

    const list = JSON.parse((await be(['list', '--json'])).stdout);
    expect(list.map((b: { name: string }) => b.name)).toEqual(['files', 'head', 'spare']);
    const head = list[1];
    expect(head.datasets.map((d: { name: string }) => d.name)).toEqual(rows.filter((r) => r.name.startsWith(`${root}/head`)).map((r) => r.name));
    expect(head).toMatchObject({ shared: false, hosts: [], mountedAt: null });
  });

  it('mounts a BE under a directory, parents first; paths agree with zfs list and /proc/self/mounts', async () => {
    const mounted = await be(['mount', 'head']);
    expect(mounted).toMatchObject({ code: 0, stdout: `head mounted at ${mountDir}/head (12 datasets)\n` });
    expect(await be(['mount', 'files', join(dir, 'nas')])).toMatchObject({ code: 0 });
    expect(await be(['mount', 'spare'])).toMatchObject({ code: 0 });

    const table = mountTable();
    const list = JSON.parse((await be(['list', '--json'])).stdout);
    const head = list.find((b: { name: string }) => b.name === 'head');
    for (const d of head.datasets) {
      expect(d.path).toBe(`${mountDir}/head${d.guestPath === '/' ? '' : d.guestPath}`);
      expect(table.get(d.name)).toBe(d.path);
    }
    expect(table.get(`${root}/files`)).toBe(join(dir, 'nas'));
    const rows = await zfsList();
    for (const r of rows.slice(1)) expect(r.mounted).toBe(true);
    // The children really are separate file systems under the BE.
    expect(statSync(`${mountDir}/head/var/log`).dev).not.toBe(statSync(`${mountDir}/head/var`).dev);
    // Mounting again is harmless; mounting elsewhere while mounted is refused.
    expect((await be(['mount', 'head'])).code).toBe(0);
    expect(await be(['mount', 'head', join(dir, 'elsewhere')])).toMatchObject({
      code: 2,
      stderr: `be: head is already mounted at ${mountDir}/head: be umount head first\n`,
    });
  });

  it('exports and fstab for the mounted BE', async () => {
    writeFileSync(`${mountDir}/head/var/log/only-in-head.log`, 'from the boot environment\n');
    mkdirSync(`${mountDir}/head/etc`, { recursive: true });
    writeFileSync(`${mountDir}/head/etc/fstab`, '# the original fstab\n');
    const refused = await be(['sharenfs', 'head']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^be: nfs\.network is not set/);
    expect(existsSync(exportsFile)).toBe(false);
    const fstab = await be(['fstab', 'head', '--server', '10.99.5.1']);
    expect(fstab.stdout.split('\n').filter((l) => l && !l.startsWith('#'))).toEqual(
      freebsdLayout.map((c) => `10.99.5.1:${mountDir}/head/${c}\t/${c}\tnfs\trw\t0\t0`),
    );
  });

  describe('over NFS', () => {
    let server = '';
    let nfs: NfsServer | undefined;
    const net = ['--set', 'nfs.network=10.99.5.0/24'];

    beforeAll(async () => {
      lan = Lan.create({ hosts: ['server', 'client'], subnet: '10.99.5' });
      server = lan.host('server').ip;
      // The first share happens before ganesha runs (the talk's order: share, then start NFS): the file
      // is written with one warning, and ganesha serves it when it starts (the tests below read it).
      const shared = await be(['sharenfs', 'head', '--fstab', '--server', server], net);
      expect(shared).toMatchObject({ code: 0, stdout: `head shared: ${exportsFile} rewritten\nguest fstab written to ${mountDir}/head/etc/fstab\n` });
      expect(shared.stderr).toBe(
        `be: warning: the NFS server is not running (no ${ganeshaPid}): ${exportsFile} is written and takes effect when the NFS server starts (service mountd onestart, or nfs_server_enable="YES" in /etc/rc.conf)\n`,
      );
      nfs = new NfsServer(lan, 'server', dir, server);
      await nfs.start(`%include "${exportsFile}"\n`);
    }, 120_000);

    const inClient = (args: string[]) => lan!.run('client', ['node', beMain, ...args, ...settings(net)], { timeoutMs: 60_000 });

    it('sharenfs wrote one EXPORT per dataset, and the guest fstab with the old one kept', () => {
      const text = readFileSync(exportsFile, 'utf8');
      expect(text.match(/^EXPORT \{$/gm)).toHaveLength(12);
      expect(text).toContain(`\tPath = "${mountDir}/head/var/log";\n`);
      expect(readFileSync(`${mountDir}/head/etc/fstab.orig`, 'utf8')).toBe('# the original fstab\n');
      expect(readFileSync(`${mountDir}/head/etc/fstab`, 'utf8')).toContain(`${server}:${mountDir}/head/var/log\t/var/log\tnfs\trw\t0\t0\n`);
    });

    it('be nfshandle gets a 28-byte handle through the portmapper', async () => {
      const result = await inClient(['nfshandle', `${mountDir}/head`, '--server', server, '--json']);
      expect(result.stderr).toBe('');
      const out = JSON.parse(String(result.stdout));
      expect(out).toMatchObject({ server, path: `${mountDir}/head`, version: 3, length: 28 });
      expect(out.handle).toMatch(/^X[0-9a-f]{56}X$/);
      expect(out.env).toEqual({
        'boot.nfsroot.server': server,
        'boot.nfsroot.path': `${mountDir}/head`,
        'boot.nfsroot.nfshandle': out.handle,
        'boot.nfsroot.nfshandlelen': '28',
      });
      const text = await inClient(['nfshandle', `${mountDir}/head`, '--server', server]);
      expect(String(text.stdout)).toBe(
        `boot.nfsroot.server=${server}\nboot.nfsroot.path=${mountDir}/head\nboot.nfsroot.nfshandle=${out.handle}\nboot.nfsroot.nfshandlelen=28`,
      );
      const v2 = JSON.parse(String((await inClient(['nfshandle', `${mountDir}/head`, '--server', server, '--json', '--v2'])).stdout));
      expect(v2).toMatchObject({ version: 2, length: 32, handle: `X${out.hex}00000000X` });
    });

    it('the handle is valid: NFSv3 GETATTR and FSINFO from our RPC client accept it', async () => {
      const probe = await lan!.run('client', ['node', join(import.meta.dirname, '../be/nfs-probe.mjs'), server, `${mountDir}/head/var/log`]);
      expect(probe.stderr).toBe('');
      const out = JSON.parse(String(probe.stdout));
      expect(out.handle).toHaveLength(56);
      expect(out.attr.type).toBe(2); // NF3DIR
      expect(BigInt(out.attr.fileid)).toBe(BigInt(statSync(`${mountDir}/head/var/log`).ino));
      expect(out.info.rtmax).toBeGreaterThan(0);
      const root = JSON.parse(
        String((await lan!.run('client', ['node', join(import.meta.dirname, '../be/nfs-probe.mjs'), server, `${mountDir}/head`])).stdout),
      );
      // A nested dataset is a file system of its own, with a handle and fsid of its own.
      expect(root.handle).not.toBe(out.handle);
      expect(root.attr.fsid).not.toBe(out.attr.fsid);
      const verified = await inClient(['nfshandle', `${mountDir}/head/usr`, '--server', server, '--verify', '--json']);
      expect(JSON.parse(String(verified.stdout)).fsinfo.rtmax).toBeGreaterThan(0);
    });

    it('be bootnfs --dry-run puts into the guest environment the handle ganesha returns, and it is valid for NFSv3', async () => {
      // Just enough of a FreeBSD 14.1 boot environment for bootnfs to accept it.
      mkdirSync(`${mountDir}/head/boot/kernel`, { recursive: true });
      mkdirSync(`${mountDir}/head/bin`, { recursive: true });
      writeFileSync(`${mountDir}/head/boot/loader`, 'loader');
      writeFileSync(`${mountDir}/head/boot/kernel/kernel`, 'kernel');
      writeFileSync(`${mountDir}/head/bin/freebsd-version`, '#!/bin/sh\nUSERLAND_VERSION="14.1-RELEASE"\n');
      const guest = [
        'bootnfs',
        'head',
        '--vm',
        'head',
        '--mac',
        '02:01:02:03:04:05',
        '--ip',
        lan!.host('client').ip,
        '--server',
        server,
        '--dry-run',
        '--json',
      ];
      const planned = await inClient(guest);
      expect(planned.stderr).toBe('');
      const plan = JSON.parse(String(planned.stdout));
      const mounted = JSON.parse(String((await inClient(['nfshandle', `${mountDir}/head`, '--server', server, '--json'])).stdout));
      expect(plan.env).toMatchObject({
        'boot.nfsroot.server': server,
        'boot.nfsroot.path': `${mountDir}/head`,
        'boot.nfsroot.nfshandle': mounted.handle,
        'boot.nfsroot.nfshandlelen': '28',
        'vfs.root.mountfrom': `nfs:${server}:${mountDir}/head`,
      });
      expect(plan.commands[1]).toEqual(expect.arrayContaining(['-h', `${mountDir}/head`, '-e', `boot.nfsroot.nfshandle=${mounted.handle}`]));
      // The same handle, handed to NFSv3 FSINFO and GETATTR by our RPC client, is accepted by ganesha.
      const probe = JSON.parse(
        String((await lan!.run('client', ['node', join(import.meta.dirname, '../be/nfs-probe.mjs'), server, `${mountDir}/head`])).stdout),
      );
      expect(`X${probe.handle}X`).toBe(plan.env['boot.nfsroot.nfshandle']);
      expect(probe.info.rtmax).toBeGreaterThan(0);
      expect(probe.attr.type).toBe(2);
    });

    it('nfs-ls (libnfs) reads the export, down to a file only the BE has', async () => {
      const ls = await lan!.run('client', ['nfs-ls', `nfs://${server}${mountDir}/head/var/log`]);
      expect(ls.exitCode).toBe(0);
      expect(String(ls.stdout)).toMatch(/ only-in-head\.log$/m);
    });

    it('a path that is not exported gets a clear MOUNT status, not a hang', async () => {
      const result = await inClient(['nfshandle', join(dir, 'nas'), '--server', server]);
      expect(result.exitCode).toBe(1);
      expect(String(result.stderr)).toMatch(new RegExp(`^be: ${server}: MOUNT ${join(dir, 'nas')} refused: MNT3ERR_(ACCES|NOENT) \\(`));
      const nobody = await inClient(['nfshandle', `${mountDir}/head`, '--server', '10.99.5.2', '--timeout', '50']);
      expect(String(nobody.stderr)).toMatch(/^be: portmapper GETPORT MOUNT v3\/udp to 10\.99\.5\.2:111: connection refused/);
    });

    it('sharing another BE rewrites the file and reloads ganesha by SIGHUP to its pid file; sharing again changes nothing', async () => {
      const shared = await be(['sharenfs', 'files'], net);
      expect(shared).toMatchObject({ code: 0, stdout: `files shared: ${exportsFile} rewritten, NFS server reloaded\n` });
      const path = join(dir, 'nas');
      // ganesha takes a moment after SIGHUP to serve the new export.
      let last = '';
      await waitFor(
        async () => {
          const r = await inClient(['nfshandle', path, '--server', server, '--json']);
          last = String(r.stderr);
          return r.exitCode === 0;
        },
        `ganesha serving ${path}`,
        { timeoutMs: 10_000, intervalMs: 200, message: () => `ganesha never served ${path}: ${last}` },
      );
      expect(last).toBe('');
      const before = statSync(exportsFile);
      expect(await be(['sharenfs', 'files'], net)).toMatchObject({ code: 0, stdout: `files shared: ${exportsFile} unchanged\n` });
      expect(statSync(exportsFile).ino).toBe(before.ino);
    });

    it('be serve gives a BE mounted after it started its real root-path, without a restart (be mount asks it to look again)', async () => {
      expect(await be(['create', '-l', 'flat', 'late'])).toMatchObject({ code: 0 });
      const mac = String((await lan!.run('client', ['cat', '/sys/class/net/eth0/address'])).stdout).trim();
      const host = ['--set', 'hosts.0.name=pc', '--set', `hosts.0.mac=${mac}`, '--set', 'hosts.0.ip=10.99.5.60', '--set', 'hosts.0.be=late'];
      const dhcp = [
        ...net,
        ...host,
        '--set',
        'dhcp.mode=authoritative',
        '--set',
        'dhcp.interface=eth0',
        '--set',
        `server.address=${server}`,
        '--set',
        `dhcp.leaseFile=${join(dir, 'dhcp.leases')}`,
      ];
      const script = join(dir, 'udhcpc.sh');
      writeFileSync(script, '#!/bin/sh\necho "event reason=$1 ip=$ip rootpath=$rootpath" >> "$0.out"\nexit 0\n', { mode: 0o755 });
      const rootPath = async () => {
        rmSync(`${script}.out`, { force: true });
        await lan!.run('client', ['udhcpc', '-i', 'eth0', '-n', '-q', '-f', '-s', script, '-t', '5', '-T', '1', '-O', 'rootpath']);
        const bound =
          readFileSync(`${script}.out`, 'utf8')
            .split('\n')
            .find((l) => l.includes('reason=bound')) ?? '';
        return /rootpath=(\S*)/.exec(bound)?.[1];
      };
      const serve = await serveBe(lan!, 'server', {
        settings: settings(dhcp),
        only: 'dhcp,control',
        ready: [/"msg":"dhcp listening"/, /"msg":"appliance running/],
      });
      try {
        const before = await rootPath();
        expect(before).toBeDefined();
        expect(before).not.toBe(`${server}:${mountDir}/late`);
        expect(await be(['mount', 'late'], dhcp)).toEqual({ code: 0, stdout: `late mounted at ${mountDir}/late (1 dataset)\n`, stderr: '' });
        expect(await rootPath()).toBe(`${server}:${mountDir}/late`);
        expect(await be(['umount', 'late'], dhcp)).toMatchObject({ code: 0, stderr: '' });
        expect(await rootPath()).toBe(before);
        expect(serve.out.lines.some((l) => l.includes('restarting service'))).toBe(false);
      } finally {
        await serve.stop();
      }
      expect(await be(['destroy', 'late'])).toMatchObject({ code: 0 });
    });

    it('umount and destroy are refused while shared or assigned, then work', async () => {
      expect(await be(['umount', 'head'], net)).toMatchObject({ code: 2, stderr: 'be: head is shared over NFS: be unsharenfs head first (or -f)\n' });
      expect(await be(['destroy', 'files'], net)).toMatchObject({ code: 2, stderr: 'be: files is shared over NFS: be unsharenfs files first (or -f)\n' });
      expect(await be(['unsharenfs', 'head'], [...net, '--set', 'nfs.reload=[/bin/true]'])).toMatchObject({ code: 0 });
      expect(readFileSync(exportsFile, 'utf8')).not.toContain(`${mountDir}/head`);
      // The NFS part is over: stop the daemons (by PID).
      lan!.close();
      await nfs?.exited();
      expect(await be(['umount', 'head'], net)).toMatchObject({ code: 0, stdout: 'head unmounted\n' });
      const rows = await zfsList();
      expect(rows.find((r) => r.name === `${root}/head`)).toMatchObject({ mountpoint: '/', mounted: false });
      expect(rows.filter((r) => r.name.startsWith(`${root}/head/`)).every((r) => !r.mounted)).toBe(true);
      expect([...mountTable().keys()].some((name) => name.startsWith(`${root}/head`))).toBe(false);

      expect(await be(['unsharenfs', 'files'], [...net, '--set', 'nfs.reload=[/bin/true]'])).toMatchObject({ code: 0 });
      expect(await be(['umount', 'files'], net)).toMatchObject({ code: 0 });
      expect(mountTable().has(`${root}/files`)).toBe(false);

      // The refusals and -f on `spare`, which was mounted all along but never shared.
      const reload = [...net, '--set', 'nfs.reload=[/bin/true]'];
      expect(await be(['sharenfs', 'spare'], reload)).toMatchObject({ code: 0 });
      expect(await be(['destroy', 'spare'], reload)).toMatchObject({ code: 2, stderr: 'be: spare is shared over NFS: be unsharenfs spare first (or -f)\n' });
      const assigned = await be(
        ['destroy', 'spare'],
        [...reload, '--set', 'hosts.0.name=vm1', '--set', 'hosts.0.mac=02:00:00:00:00:01', '--set', 'hosts.0.be=spare'],
      );
      expect(assigned.stderr).toBe('be: spare is shared over NFS: be unsharenfs spare first (or -f)\n');
      expect(await be(['unsharenfs', 'spare'], reload)).toMatchObject({ code: 0 });
      const stillAssigned = await be(
        ['destroy', 'spare'],
        [...reload, '--set', 'hosts.0.name=vm1', '--set', 'hosts.0.mac=02:00:00:00:00:01', '--set', 'hosts.0.be=spare'],
      );
      expect(stillAssigned).toMatchObject({ code: 2, stderr: 'be: spare is assigned to vm1 in hosts[]: reassign them first (or -f)\n' });
      expect(await be(['sharenfs', 'spare'], reload)).toMatchObject({ code: 0 });
      // -f: unshared (the exports file loses it), unmounted, destroyed.
      expect(await be(['destroy', '-f', 'spare'], reload)).toEqual({ code: 0, stdout: 'spare destroyed\n', stderr: '' });
      expect((await zfsList()).map((r) => r.name)).not.toContain(`${root}/spare`);
      expect(mountTable().has(`${root}/spare`)).toBe(false);
      expect(readFileSync(exportsFile, 'utf8')).not.toMatch(/spare|EXPORT/);
      // The BEs ganesha served go too: no namespace copy of their mounts outlived the unmount.
      expect(await be(['destroy', 'head'], net)).toEqual({ code: 0, stdout: 'head destroyed\n', stderr: '' });
      expect(await be(['destroy', 'files'], net)).toEqual({ code: 0, stdout: 'files destroyed\n', stderr: '' });
      expect((await zfsList()).map((r) => r.name)).toEqual([root]);
    });
  });
});
