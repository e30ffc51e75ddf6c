/**
 * `be serve` on the embedded default configuration (proxyDHCP + TFTP, boot environments as
 * directories) beside the LAN's own DHCP server (dnsmasq): a PXE client it has never heard of gets its
 * address from dnsmasq and the default boot file (tftp.root/boot/pxeboot) from us, and can fetch it.
 * Only the state paths are moved into the test's directory; every behaviour is the default's.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lan } from '../lan/netns.js';
import { needPeers } from '../lan/peers.js';
import { serveBe } from '../lan/serve.js';
import { makeClient, startDnsmasq } from './dhcp/lan.js';

const peers = needPeers('be serve on the embedded default beside dnsmasq', ['ip', 'dnsmasq', 'busybox'], { root: true });
const pxeClient = fileURLToPath(new URL('./dhcp/pxe-client.mjs', import.meta.url));
const mac = '52:54:00:be:05:01';

describe.skipIf(peers.skip)('be serve on the embedded default', () => {
  // Made in beforeAll: vitest runs this body even when the suite is skipped, and afterAll would not remove it then.
  const dir = join(tmpdir(), `be-default-${process.pid}`);
  const state = join(dir, 'state');
  let lan: Lan;
  afterAll(() => {
    lan?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  beforeAll(async () => {
    mkdirSync(dir, { recursive: true });
    lan = Lan.create({ hosts: ['router', 'boot', 'pc'], subnet: '10.94.0' });
    makeClient(lan, 'pc', mac);
    await startDnsmasq(lan, 'router', dir);
  });

  it('answers an unknown PXE client with the default boot file and serves it', async () => {
    const paths = [
      '--set',
      `server.stateDir=${state}`,
      '--set',
      `tftp.root=${state}/tftp`,
      '--set',
      `dhcp.leaseFile=${state}/dhcp.leases`,
      '--set',
      `be.root=${state}/envs`,
    ];
    const serve = await serveBe(lan, 'boot', { settings: paths });
    const { out } = serve;
    try {
      const running = JSON.parse(await out.next(/appliance running/));
      expect(running.enabled).toEqual(['tftp', 'dhcp', 'control']);
      expect(out.lines.join('\n')).toMatch(/"config":"[^"]*config\/default\.yaml"/);
      // The default root was made on this fresh "machine"; put a loader in it.
      mkdirSync(join(state, 'tftp', 'boot'), { recursive: true });
      writeFileSync(join(state, 'tftp', 'boot', 'pxeboot'), 'the default pxeboot');

      const result = await lan.run('pc', ['node', pxeClient, 'eth0', mac], { timeoutMs: 40_000 });
      expect(result.exitCode, String(result.stderr)).toBe(0);
      const answers = JSON.parse(String(result.stdout)) as { offers: Record<string, unknown>[] };
      const ours = answers.offers.find((o) => o.serverId === lan.host('boot').ip);
      expect(ours).toMatchObject({ yiaddr: '0.0.0.0', siaddr: lan.host('boot').ip, file: 'boot/pxeboot', vendorClass: 'PXEClient' });
      expect(answers.offers.find((o) => o.serverId === lan.host('router').ip)?.yiaddr).toMatch(/^10\.94\.0\.1[0-4]\d$/);

      const fetched = join(dir, 'pxeboot.out');
      expect((await lan.run('pc', ['busybox', 'tftp', '-g', '-r', 'boot/pxeboot', '-l', fetched, lan.host('boot').ip])).exitCode).toBe(0);
      expect(readFileSync(fetched, 'utf8')).toBe('the default pxeboot');
    } finally {
      await serve.stop();
    }
  });
});
