/**
 * proxyDHCP beside the LAN's own DHCP server: dnsmasq (Debian dnsmasq-base) hands out addresses on
 * the bridge, be in proxy mode answers PXE firmware with the boot file only. A PXE-shaped client (our
 * codec, in its own namespace) must get its address from dnsmasq and its boot file from us, on port 67
 * and again on the PXE port 4011; an ordinary client must never hear from us.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lan } from '../lan/netns.js';
import { needPeers } from '../lan/peers.js';
import { makeClient, recorderScript, records, startBe, startDnsmasq, type RunningBe } from './dhcp/lan.js';

const peers = needPeers('dhcp proxy beside dnsmasq', ['ip', 'dnsmasq', 'udhcpc'], { root: true });
const pxeClient = fileURLToPath(new URL('./dhcp/pxe-client.mjs', import.meta.url));
const pxeMac = '52:54:00:be:04:01';
const plainMac = '52:54:00:be:04:02';

describe.skipIf(peers.skip)('dhcp proxy mode beside dnsmasq', () => {
  let lan: Lan;
  let dir: string;
  let be: RunningBe;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'be-dhcp-proxy-'));
    lan = Lan.create({ hosts: ['router', 'boot', 'pc', 'laptop'], subnet: '10.99.0' });
    makeClient(lan, 'pc', pxeMac);
    makeClient(lan, 'laptop', plainMac);
    await startDnsmasq(lan, 'router', dir);
    be = await startBe(
      lan,
      'boot',
      dir,
      `server: { address: 10.99.0.2 }
tftp: { enabled: false }
log: { level: debug }
dhcp:
  mode: proxy
  interface: eth0
hosts:
  - name: pc
    mac: ${pxeMac}
    be: head
  - name: laptop
    mac: ${plainMac}
    be: head
`,
    );
  });

  afterAll(() => {
    lan?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('PXE firmware gets its address from dnsmasq and its boot file from us, on 67 and 4011', async () => {
    const result = await lan.run('pc', ['node', pxeClient, 'eth0', pxeMac], { timeoutMs: 40_000 });
    expect(result.exitCode, String(result.stderr)).toBe(0);
    const out = JSON.parse(String(result.stdout)) as Record<'offers' | 'afterRequest' | 'pxe', Record<string, unknown>[]>;
    const fromDnsmasq = out.offers.filter((o) => o.serverId === '10.99.0.1');
    const fromUs = out.offers.filter((o) => o.serverId === '10.99.0.2');
    expect(fromDnsmasq[0]).toMatchObject({ type: 2, leaseTime: 600 });
    expect(fromDnsmasq[0]?.yiaddr).toMatch(/^10\.99\.0\.1[0-4]\d$/);
    expect(fromUs[0]).toMatchObject({
      type: 2,
      yiaddr: '0.0.0.0',
      siaddr: '10.99.0.2',
      file: 'head/boot/pxeboot',
      bootFile: 'head/boot/pxeboot',
      vendorClass: 'PXEClient',
      pxeOptions: '060108ff',
    });
    expect(fromUs[0]).not.toHaveProperty('leaseTime', expect.anything());
    // the REQUEST names dnsmasq: only dnsmasq answers it
    expect(out.afterRequest.map((r) => r.serverId)).toEqual(out.afterRequest.map(() => '10.99.0.1'));
    expect(out.afterRequest.some((r) => r.type === 5)).toBe(true);
    // the boot-server request on port 4011 is answered by us, unicast, with the boot file and no address
    expect(out.pxe[0]).toMatchObject({ from: '10.99.0.2:4011', type: 5, yiaddr: '0.0.0.0', file: 'head/boot/pxeboot' });
    for (const reply of [...out.offers, ...out.afterRequest, ...out.pxe].filter((r) => r.serverId === '10.99.0.2')) {
      expect(reply.yiaddr).toBe('0.0.0.0');
    }
  });

  it('an ordinary client gets its lease from dnsmasq and never hears from us', async () => {
    const script = recorderScript(dir, 'udhcpc.sh', 'echo "event reason=$1 ip=$ip serverid=$serverid bootfile=$boot_file" >> "$0.out"');
    const result = await lan.run('laptop', ['udhcpc', '-i', 'eth0', '-n', '-q', '-f', '-s', script, '-t', '5', '-T', '1', '-O', 'rootpath']);
    expect(result.exitCode, String(result.stderr)).toBe(0);
    expect(records(`${script}.out`).find((r) => r.reason === 'bound')).toMatchObject({ serverid: '10.99.0.1', bootfile: '' });
    expect(be.out.lines.filter((l) => l.includes(plainMac) && /proxyDHCP (OFFER|ACK)/.test(l))).toEqual([]);
  });
});
