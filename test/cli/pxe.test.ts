/**
 * be sharepxe and be bootpxe on a `dir` boot environment: state, the effective configuration, telling a
 * running appliance, and --wake --follow up to where a machine that never answers stops. The whole
 * boot with firmware is in test/e2e.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCapture } from '../lan/capture.js';
import { Lan } from '../lan/netns.js';
import { needPeers } from '../lan/peers.js';
import { serveBe } from '../lan/serve.js';
import { be, beMain } from './be.js';
import { guestFixture } from './guest-fixture.js';

const fixture = guestFixture('pxe', { name: 'lab1', mac: '02:00:00:00:01:01', ip: '10.99.0.101', be: 'empty', boot: 'pxe' });
writeFileSync(join(fixture.root, 'boot', 'pxeboot'), 'pxeboot');
const flags = [...fixture.settings, '--set', 'tftp.enabled=false', '--set', 'dhcp.enabled=false'];
afterAll(() => fixture.remove());

const peers = needPeers('be bootpxe --wake --follow', ['ip', 'tcpdump'], { root: true });

describe('be sharepxe and be bootpxe', () => {
  it('sharepxe refuses a BE with no loader for PXE firmware', async () => {
    const result = await be([...flags, 'sharepxe', 'empty']);
    expect(result.exitCode).toBe(2);
    expect(String(result.stderr)).toMatch(/^be: empty has neither boot\/pxeboot nor boot\/loader\.efi \(/);
  });

  it('sharepxe --host shares the BE, marks it PXE-bootable and assigns the host in the effective configuration', async () => {
    const result = await be([...flags, 'sharepxe', 'head', '--host', 'lab1']);
    expect(String(result.stderr)).toBe('');
    expect(String(result.stdout)).toBe(
      `head is PXE-bootable: boot/pxeboot under ${fixture.root}\nlab1 boots head\nbe serve is not running: this takes effect when it starts`,
    );
    const shown = JSON.parse(String((await be([...flags, 'config', 'show', '--json'])).stdout));
    expect(shown.hosts[0]).toMatchObject({ name: 'lab1', be: 'head' });
    const listed = JSON.parse(String((await be([...flags, 'list', '--json'])).stdout));
    expect(listed.find((b: { name: string }) => b.name === 'head')).toMatchObject({ shared: true, hosts: ['lab1'] });
  });

  it('bootpxe refuses an unknown host in one line', async () => {
    const result = await be([...flags, 'bootpxe', 'head', '--host', 'lab9']);
    expect(result.exitCode).toBe(2);
    expect(String(result.stderr)).toBe('be: unknown host "lab9": known hosts are lab1');
  });

  describe.skipIf(peers.skip)('with a running appliance', () => {
    let lan: Lan;
    beforeAll(() => {
      lan = Lan.create({ hosts: ['server', 'sniffer'], subnet: '10.99.0' });
    });
    afterAll(() => lan?.close());

    it('bootpxe tells it, wakes the host, and --follow says where the boot stopped', async () => {
      const serve = await serveBe(lan, 'server', { settings: flags });
      const { out } = serve;
      try {
        const capture = await startCapture(lan, 'sniffer', 'udp port 9', 1);
        const result = await lan.run('server', ['node', beMain, ...flags, 'bootpxe', 'head', '--host', 'lab1', '--wake', '--follow', '--timeout', '2']);
        expect(result.exitCode).toBe(1);
        expect(String(result.stdout).split('\n')).toEqual([
          'lab1 boots head',
          'magic packet for lab1 (02:00:00:00:01:01) via 255.255.255.255:9',
          'lab1 +   0.0 s  Wake-on-LAN sent',
        ]);
        expect(String(result.stderr)).toBe('be: lab1: no kernel served after 2 s; last step: Wake-on-LAN sent (waiting for: firmware DHCP)');
        expect((await capture.frames())[0]?.udp?.payload.subarray(6, 12).toString('hex')).toBe('020000000101');
        await out.next(/reload requested: reloading the configuration/);
      } finally {
        await serve.stop();
      }
    });
  });
});
