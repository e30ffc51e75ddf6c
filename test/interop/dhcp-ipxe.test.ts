/**
 * PXE firmware end to end: QEMU (TCG, BIOS, e1000 on a tap in the test bridge) runs the iPXE in its
 * NIC ROM; `be serve` runs DHCP and TFTP in the server namespace. iPXE must get its PXE answer
 * (policy: iPXE, BIOS x86 → the host's boot/pxeboot) and fetch exactly that file from our TFTP server.
 * The assertion is on the served file (the TFTP server's completed transfer), not on timing.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lan } from '../lan/netns.js';
import { needPeers } from '../lan/peers.js';
import { serveBe } from '../lan/serve.js';

const peers = needPeers('dhcp + tftp with iPXE in QEMU', ['ip', 'qemu-system-x86_64'], { root: true });
const vmMac = '52:54:00:be:06:01';
/** cli; hlt; jmp back: a boot program that stops the VM quietly once iPXE runs it. */
const pxeboot = Buffer.from([0xfa, 0xf4, 0xeb, 0xfd, ...new Array<number>(4092).fill(0x90)]);

/**
 * QEMU's iPXE takes DHCP from be serve and fetches the host's pxeboot from its TFTP server; asserts
 * on what was served. `settings` go to be serve; `isolate` first removes the server namespace's route
 * for 255.255.255.255, leaving only the connected /24 (an isolated provisioning LAN).
 */
function bootsFromBe(title: string, options: { settings?: string[]; isolate?: boolean } = {}): void {
  describe(title, () => {
    let lan: Lan;
    let dir: string;

    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'be-dhcp-ipxe-'));
      lan = Lan.create({ hosts: ['server'], subnet: '10.99.0' });
      lan.addTap('tap0');
      if (options.isolate) execFileSync('ip', ['-n', lan.host('server').ns, 'route', 'del', '255.255.255.255', 'dev', 'eth0']);
    });

    // QEMU and be serve were started through the LAN: this ends them by their PIDs and waits for them.
    afterAll(async () => {
      await lan?.closeAndWait();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it("iPXE gets the host's pxeboot from our DHCP answer and fetches it from our TFTP server", { timeout: 300_000 }, async () => {
      if (options.isolate) expect((await lan.run('server', ['ip', '-4', 'route', 'show', 'table', 'all'])).stdout).not.toMatch(/^default|255\.255\.255\.255/m);
      const root = join(dir, 'tftp');
      mkdirSync(join(root, 'head', 'boot'), { recursive: true });
      writeFileSync(join(root, 'head', 'boot', 'pxeboot'), pxeboot);
      const { out } = await serveBe(lan, 'server', {
        config: {
          file: join(dir, 'be.yaml'),
          yaml: `server: { address: 10.99.0.1 }
tftp: { root: ${root} }
dhcp:
  mode: authoritative
  interface: eth0
  range: { start: 10.99.0.100, end: 10.99.0.120 }
  router: 10.99.0.1
  leaseFile: ${join(dir, 'dhcp.leases')}
hosts:
  - name: vm
    mac: ${vmMac}
    be: head
`,
        },
        settings: options.settings ?? [],
        only: 'tftp,dhcp',
        ready: [/"msg":"appliance running: tftp, dhcp"/],
      });
      lan.spawnSwitch([
        ...['qemu-system-x86_64', '-accel', 'tcg', '-m', '256', '-boot', 'n', '-no-reboot'],
        ...['-display', 'none', '-serial', 'none', '-monitor', 'none'],
        ...['-netdev', 'tap,id=n0,ifname=tap0,script=no,downscript=no', '-device', `e1000,netdev=n0,mac=${vmMac},bootindex=1`],
      ]);
      const ack = await out.next(/"msg":"DHCPACK"/, 120_000);
      expect(JSON.parse(ack)).toMatchObject({ mac: vmMac, host: 'vm', boot: 'iPXE, BIOS x86: loader of head' });
      const line = await out.next(/^(?=.*"msg":"transfer complete")(?=.*"file":"head\/boot\/pxeboot")/, 150_000).catch((err: Error) => {
        throw new Error(`${err.message}\nserver log:\n${out.lines.join('\n')}`);
      });
      const done = JSON.parse(line) as Record<string, unknown>;
      expect(done.bytes).toBe(pxeboot.length);
      expect(String(done.client)).toMatch(/^10\.99\.0\.1[01]\d:/);
    });
  });
}

describe.skipIf(peers.skip)('iPXE in QEMU boots from be', () => {
  bootsFromBe('on the test LAN (a route for 255.255.255.255)');
  // Only the native datagram path answers by the arrival interface; node:dgram's broadcast OFFER
  // would find no route there (test/interop/dhcp-native.test.ts shows it with udhcpc).
  bootsFromBe('on a LAN whose only route is the connected /24 (the native datagram path)', {
    settings: ['--set', 'dhcp.datagrams=native', '--set', 'tftp.datagrams=native'],
    isolate: true,
  });
});
