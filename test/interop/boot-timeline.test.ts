/**
 * The appliance end to end without firmware: be serve (DHCP + TFTP + exports + control) in one
 * namespace, a PXE-bootable `dir` boot environment assigned to a host, and the host's side played by
 * real clients in another namespace: udhcpc asking like PXE firmware, busybox tftp fetching the loader
 * by its plain name (the TFTP server maps the client's address to its host's BE), udhcpc asking like
 * FreeBSD's loader, then the kernel. `be bootpxe --follow` and `be status` must show every step.
 * QEMU with real firmware does the same in test/e2e.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beMain } from '../cli/be.js';
import { Lan } from '../lan/netns.js';
import { needPeers } from '../lan/peers.js';
import { serveBe } from '../lan/serve.js';
import { makeClient, recorderScript, records } from './dhcp/lan.js';

const peers = needPeers('boot timeline through DHCP and TFTP', ['ip', 'udhcpc', 'busybox'], { root: true });
const mac = '52:54:00:be:07:01';

describe.skipIf(peers.skip)('a host boots its assigned boot environment, step by step', () => {
  // Made in beforeAll: vitest runs this body even when the suite is skipped, and afterAll would not remove it then.
  const dir = join(tmpdir(), `be-timeline-${process.pid}`);
  const envs = join(dir, 'envs');
  let lan: Lan;
  let flags: string[];
  afterAll(() => {
    lan?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  beforeAll(() => {
    mkdirSync(dir, { recursive: true });
    lan = Lan.create({ hosts: ['server', 'pc'], subnet: '10.97.0' });
    for (const [file, text] of [
      ['boot/pxeboot', 'PXEBOOT of head'],
      ['boot/kernel/kernel', 'KERNEL of head'],
      ['etc/master.passwd', 'root:secret'],
    ] as const) {
      mkdirSync(join(envs, 'head', file, '..'), { recursive: true });
      writeFileSync(join(envs, 'head', file), text);
    }
    flags = [
      '--set',
      'be.backend=dir',
      '--set',
      `be.root=${envs}`,
      '--set',
      `server.stateDir=${join(dir, 'state')}`,
      '--set',
      'server.address=10.97.0.1',
      '--set',
      'nfs.network=10.97.0.0/24',
      '--set',
      `nfs.exportsFile=${join(dir, 'exports')}`,
      '--set',
      'nfs.reload=["true"]',
      '--set',
      'dhcp.mode=authoritative',
      '--set',
      'dhcp.range={start: 10.97.0.100, end: 10.97.0.150}',
      '--set',
      `dhcp.leaseFile=${join(dir, 'leases')}`,
      '--set',
      `tftp.root=${join(dir, 'state', 'tftp')}`,
      '--set',
      'hosts.0.name=pc',
      '--set',
      `hosts.0.mac=${mac}`,
      '--set',
      'hosts.0.ip=10.97.0.50',
    ];
    makeClient(lan, 'pc', mac);
  });

  const inServer = (args: string[], timeoutMs = 60_000) => lan.run('server', ['node', beMain, ...flags, ...args], { timeoutMs });

  it('is shown by be bootpxe --follow as it happens, and by be status afterwards', async () => {
    const serve = await serveBe(lan, 'server', { settings: flags });
    const { out } = serve;
    try {
      expect(JSON.parse(await out.next(/appliance running/)).enabled).toEqual(['tftp', 'dhcp', 'exports', 'control']);
      const follow = inServer(['bootpxe', 'head', '--host', 'pc', '--follow', '--timeout', '90'], 120_000);
      await out.next(/reload requested: reloading the configuration/);
      await out.next(/"msg":"configuration reloaded"/);

      // The firmware's DHCP: the boot file names the BE; the script gives the interface its address.
      const script = recorderScript(
        dir,
        'udhcpc.sh',
        'echo "event reason=$1 ip=$ip boot_file=$boot_file rootpath=$rootpath" >> "$0.out"\n[ "$1" = bound ] && ip addr replace "$ip/24" dev eth0',
      );
      // Firmware says PXEClient:Arch:... and sends option 93 (PXE 2.1); a bare PXEClient is FreeBSD's loader.
      const firmware = await lan.run('pc', [
        ...['udhcpc', '-i', 'eth0', '-n', '-q', '-f', '-s', script, '-t', '5', '-T', '1'],
        ...['-V', 'PXEClient:Arch:00000:UNDI:002001', '-x', '0x5d:0000', '-O', 'bootfile'],
      ]);
      expect(firmware.exitCode, String(firmware.stderr)).toBe(0);
      expect(records(`${script}.out`).find((r) => r.reason === 'bound')).toMatchObject({ ip: '10.97.0.50' });

      // The loader by its plain name: the server maps 10.97.0.50 → pc → head.
      const loader = join(dir, 'pxeboot.out');
      expect((await lan.run('pc', ['busybox', 'tftp', '-g', '-r', 'boot/pxeboot', '-l', loader, '10.97.0.1'])).exitCode).toBe(0);
      expect(readFileSync(loader, 'utf8')).toBe('PXEBOOT of head');
      // Nothing outside the BE's boot/ is served, by either name.
      for (const name of ['head/etc/master.passwd', 'boot/../etc/master.passwd']) {
        const refused = await lan.run('pc', ['busybox', 'tftp', '-g', '-r', name, '-l', join(dir, 'refused'), '10.97.0.1']);
        expect(refused.exitCode).not.toBe(0);
      }

      // FreeBSD's loader asks again (user class FreeBSD, RFC 3004 form) and gets its root-path.
      const again = await lan.run('pc', [
        'udhcpc',
        '-i',
        'eth0',
        '-n',
        '-q',
        '-f',
        '-s',
        script,
        '-t',
        '5',
        '-T',
        '1',
        '-V',
        'PXEClient',
        '-x',
        '0x4d:0746726565425344',
        '-O',
        'rootpath',
      ]);
      expect(again.exitCode).toBe(0);
      expect(
        records(`${script}.out`)
          .filter((r) => r.reason === 'bound')
          .at(-1),
      ).toMatchObject({ rootpath: `10.97.0.1:${envs}/head` });
      expect((await lan.run('pc', ['busybox', 'tftp', '-g', '-r', 'head/boot/kernel/kernel', '-l', join(dir, 'kernel.out'), '10.97.0.1'])).exitCode).toBe(0);

      const followed = await follow;
      expect(followed.exitCode, String(followed.stderr)).toBe(0);
      const lines = String(followed.stdout).split('\n');
      expect(lines.slice(0, 2)).toEqual(['head made PXE-bootable (boot/pxeboot)', 'pc boots head']);
      expect(lines.slice(2).map((l) => l.replace(/\+ *[\d.]+ s {2}/, '').replace(/ +/g, ' '))).toEqual([
        'pc firmware DHCP head/boot/pxeboot',
        'pc loader fetched boot/pxeboot',
        `pc loader DHCP 10.97.0.1:${envs}/head`,
        'pc kernel fetched head/boot/kernel/kernel',
      ]);
      const status = JSON.parse(String((await inServer(['status', 'pc', '--json'])).stdout));
      expect(status).toMatchObject({ host: 'pc', mac, ip: '10.97.0.50' });
      expect(status.events.map((e: { step: string; detail?: string }) => [e.step, e.detail])).toEqual([
        ['firmware-dhcp', 'head/boot/pxeboot'],
        ['loader-fetched', 'boot/pxeboot'],
        ['loader-dhcp', `10.97.0.1:${envs}/head`],
        ['kernel-fetched', 'head/boot/kernel/kernel'],
      ]);
    } finally {
      await serve.stop();
    }
  });
});
