/**
 * A boot server starts before its LAN has carrier: a bridge for bhyve taps whose only member is a tap
 * no guest has opened yet, or a NIC whose cable is out at boot (here: a veth whose peer is down). Node's
 * os.networkInterfaces() leaves such interfaces out, and be serve used to exit with "dhcp.interface
 * br0 has no IPv4 address". Now it starts, warns once, and a client that arrives with the link gets
 * its lease (busybox udhcpc).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lan } from '../lan/netns.js';
import { needPeers } from '../lan/peers.js';
import { serveBe } from '../lan/serve.js';
import { makeClient, recorderScript, records } from './dhcp/lan.js';

const peers = needPeers('dhcp without carrier', ['ip', 'udhcpc'], { root: true });

describe.skipIf(peers.skip)('be serve on an interface without carrier', { timeout: 120_000 }, () => {
  let dir: string;
  const lans: Lan[] = [];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'be-carrier-'));
  });
  afterAll(() => {
    for (const lan of lans) lan.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const ip = (ns: string, ...args: string[]) => execFileSync('ip', ['-n', ns, ...args], { encoding: 'utf8' });
  const settings = (name: string, subnet: string, iface: string) => [
    '--set',
    'dhcp.mode=authoritative',
    '--set',
    `dhcp.interface=${iface}`,
    '--set',
    `server.address=${subnet}.1`,
    '--set',
    `dhcp.range=${subnet}.100-${subnet}.150`,
    '--set',
    `dhcp.leaseFile=${join(dir, `${name}.leases`)}`,
    '--set',
    `server.stateDir=${join(dir, name)}`,
    '--set',
    'server.control=false',
  ];

  async function udhcpc(lan: Lan, host: string): Promise<Record<string, string> | undefined> {
    const script = recorderScript(dir, `udhcpc-${lan.switchNs}-${host}.sh`, 'echo "event reason=$1 ip=$ip" >> "$0.out"');
    await lan.run(host, ['udhcpc', '-i', 'eth0', '-n', '-q', '-f', '-s', script, '-t', '5', '-T', '1']);
    return records(`${script}.out`).find((r) => r.reason === 'bound');
  }

  it('a bridge whose only member is an unopened tap: starts, warns, and serves the client that joins the bridge later', async () => {
    const lan = Lan.create({ hosts: ['pc'], subnet: '10.99.3' });
    lans.push(lan);
    const sw = lan.switchNs;
    // The switch namespace is the boot server here: br0 holds its address, and its only member is a tap nobody opened.
    ip(sw, 'link', 'set', 'p0', 'nomaster');
    lan.addTap('tap0');
    ip(sw, 'addr', 'add', '10.99.3.1/24', 'brd', '10.99.3.255', 'dev', 'br0');
    ip(sw, 'route', 'add', '255.255.255.255', 'dev', 'br0');
    expect(ip(sw, 'link', 'show', 'br0')).toMatch(/NO-CARRIER/);
    makeClient(lan, 'pc', '02:00:00:00:03:01');

    const serve = await serveBe(lan, sw, { settings: settings('bridge', '10.99.3', 'br0'), only: 'dhcp', ready: [/"msg":"dhcp listening"/] });
    try {
      const warnings = serve.out.lines.filter((l) => l.includes('no carrier'));
      expect(warnings.map((l) => JSON.parse(l).msg)).toEqual(['dhcp: interface br0 has no carrier: serving anyway, clients are answered once its link is up']);
      expect(JSON.parse(serve.out.lines.find((l) => l.includes('"msg":"dhcp listening"'))!)).toMatchObject({ server: '10.99.3.1', subnet: '10.99.3.0/24' });
      // The client's cable goes into the bridge: carrier.
      ip(sw, 'link', 'set', 'p0', 'master', 'br0');
      const bound = await udhcpc(lan, 'pc');
      expect(bound?.ip).toMatch(/^10\.99\.3\.1[0-4]\d$/);
    } finally {
      await serve.stop();
    }
  });

  it('a veth whose peer is down: starts, warns, and serves once the peer comes up', async () => {
    const lan = Lan.create({ hosts: ['server', 'pc'], subnet: '10.99.4' });
    lans.push(lan);
    // The server's cable: p0 on the switch is its peer. Down, the server's eth0 is up without carrier.
    ip(lan.switchNs, 'link', 'set', 'p0', 'down');
    expect(ip(lan.host('server').ns, 'link', 'show', 'eth0')).toMatch(/NO-CARRIER/);
    makeClient(lan, 'pc', '02:00:00:00:04:01');

    const serve = await serveBe(lan, 'server', { settings: settings('veth', '10.99.4', 'eth0'), only: 'dhcp', ready: [/"msg":"dhcp listening"/] });
    try {
      expect(serve.out.lines.filter((l) => l.includes('no carrier')).map((l) => JSON.parse(l).msg)).toEqual([
        'dhcp: interface eth0 has no carrier: serving anyway, clients are answered once its link is up',
      ]);
      ip(lan.switchNs, 'link', 'set', 'p0', 'up');
      const bound = await udhcpc(lan, 'pc');
      expect(bound?.ip).toMatch(/^10\.99\.4\.1[0-4]\d$/);
    } finally {
      await serve.stop();
    }
  });
});
