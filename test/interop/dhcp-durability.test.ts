/**
 * Durable leases: perfdhcp (Debian kea-admin) loads the server, the server is killed with SIGKILL in
 * the middle, and restarted on the same journal. Every ACK captured on the client side before the kill
 * must be in the journal, leased to the same client; across both runs no address goes to two clients.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/dhcp/options.js';
import { decodePacket, getOption, MessageType } from '../../src/dhcp/packet.js';
import { LineWatcher } from '../lan/lines.js';
import { Lan } from '../lan/netns.js';
import { readPcap } from '../lan/pcap.js';
import { needPeers } from '../lan/peers.js';
import { journalTable, startBe } from './dhcp/lan.js';

const peers = needPeers('dhcp durability', ['ip', 'tcpdump', 'perfdhcp'], { root: true });

describe.skipIf(peers.skip)('dhcp durability under kill -9', () => {
  let lan: Lan;
  let dir: string;
  const leaseFile = () => join(dir, 'dhcp.leases');
  const yaml = () => `server: { address: 10.99.0.1 }
tftp: { enabled: false }
dhcp:
  mode: authoritative
  interface: eth0
  range: { start: 10.99.0.10, end: 10.99.0.250 }
  leaseTime: 3600
  leaseFile: ${leaseFile()}
`;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'be-dhcp-durable-'));
    lan = Lan.create({ hosts: ['server', 'load'], subnet: '10.99.0' });
  });
  afterAll(() => {
    lan?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Runs perfdhcp while tcpdump records the server's replies; `during` runs once the load is on. */
  async function load(name: string, during: () => Promise<void>): Promise<{ mac: string; ip: string }[]> {
    const pcap = join(dir, `${name}.pcap`);
    const tcpdump = lan.spawn('load', ['tcpdump', '-i', 'eth0', '-n', '-U', '-w', pcap, 'udp and src port 67']);
    await new LineWatcher(tcpdump.stderr).next(/listening on/);
    const perf = lan.spawn('load', ['perfdhcp', '-4', '-l', 'eth0', '-B', '-r', '100', '-R', '200', '-p', '5', '10.99.0.1']);
    await during();
    await perf;
    tcpdump.kill('SIGTERM');
    await tcpdump;
    return readPcap(readFileSync(pcap))
      .filter((f) => f.udp)
      .map((f) => decodePacket(f.udp!.payload))
      .filter((p) => getOption(p, 'messageType') === MessageType.ACK)
      .map((p) => ({ mac: bytesToHex(p.chaddr, ':'), ip: p.yiaddr }));
  }

  it('keeps every acknowledged lease across SIGKILL and never gives an address to two clients', { timeout: 120_000 }, async () => {
    const first = await startBe(lan, 'server', dir, yaml());
    const acked = await load('before', async () => {
      await first.out.wait(/"msg":"DHCPACK"/);
      // let a few dozen exchanges complete, then kill without warning
      for (let n = 0; n < 40; n++) await first.out.wait(/"msg":"DHCPACK"/);
      first.child.kill('SIGKILL');
      await first.child;
    });
    expect(acked.length).toBeGreaterThanOrEqual(40);
    const { table } = journalTable(leaseFile());
    const lost = acked.filter(({ mac, ip }) => table.holderOf(ip, Date.now())?.mac !== mac);
    expect(lost).toEqual([]);

    const second = await startBe(lan, 'server', dir, yaml(), 'be2.yaml');
    // it replayed at least every acknowledged lease (a lease on disk whose ACK the kill cut off counts too)
    const replayed = Number(/"leases":(\d+)/.exec(second.out.lines.find((l) => l.includes('dhcp listening')) ?? '')?.[1]);
    expect(replayed).toBeGreaterThanOrEqual(new Set(acked.map((a) => a.ip)).size);
    const later = await load('after', async () => {});
    expect(later.length).toBeGreaterThan(0);
    const owner = new Map<string, string>();
    for (const { mac, ip } of [...acked, ...later]) {
      expect(owner.get(ip) ?? mac, `${ip} acknowledged to two clients`).toBe(mac);
      owner.set(ip, mac);
    }
  });
});
