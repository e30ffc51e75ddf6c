/**
 * Wake-on-LAN on the wire: `be wol` in one namespace, tcpdump in another on the same bridge, and the
 * Debian `wakeonlan` (UDP) and `etherwake` (raw Ethernet, type 0x0842) tools as references.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCapture } from '../lan/capture.js';
import { Lan } from '../lan/netns.js';
import { needPeers } from '../lan/peers.js';
import { serveBe, type RunningBe } from '../lan/serve.js';
import { beMain } from '../cli/be.js';

const peers = needPeers('wake-on-lan wire', ['ip', 'tcpdump', 'wakeonlan', 'etherwake'], { root: true });
const target = '02:01:02:03:04:05';
const magic = (mac: string, password = '') => 'ff'.repeat(6) + mac.replaceAll(':', '').repeat(16) + password;

describe.skipIf(peers.skip)('be wol on the wire', () => {
  let lan: Lan;
  beforeAll(() => {
    lan = Lan.create({ hosts: ['sender', 'sniffer'], subnet: '10.99.0' });
  });
  afterAll(() => lan?.close());

  const beWol = (...args: string[]) => lan.run('sender', ['node', beMain, ...args]);

  it('sends the magic packet to 255.255.255.255:9, byte for byte what wakeonlan sends', async () => {
    const capture = await startCapture(lan, 'sniffer', 'udp port 9', 2);
    const ours = await beWol('wol', target.toUpperCase().replaceAll(':', '-'));
    expect(ours.stderr).toBe('');
    expect(ours.exitCode).toBe(0);
    expect(ours.stdout).toBe(`magic packet for ${target} via 255.255.255.255:9`);
    const reference = await lan.run('sender', ['wakeonlan', target]);
    expect(reference.exitCode).toBe(0);
    const [mine, theirs] = await capture.frames();
    expect(mine?.ethDst).toBe('ff:ff:ff:ff:ff:ff');
    expect(mine?.udp).toMatchObject({ srcIp: lan.host('sender').ip, dstIp: '255.255.255.255', dstPort: 9 });
    expect(mine?.udp?.payload.toString('hex')).toBe(magic(target));
    expect(theirs?.udp).toMatchObject({ dstIp: '255.255.255.255', dstPort: 9 });
    expect(mine?.udp?.payload).toEqual(theirs?.udp?.payload);
  });

  it('sends to a directed broadcast and port 7, as wakeonlan -i -p does', async () => {
    const capture = await startCapture(lan, 'sniffer', 'udp port 7', 2);
    expect((await beWol('wol', '--broadcast', '10.99.0.255', '--port', '7', 'aabb.ccdd.eeff')).exitCode).toBe(0);
    expect((await lan.run('sender', ['wakeonlan', '-i', '10.99.0.255', '-p', '7', 'aa:bb:cc:dd:ee:ff'])).exitCode).toBe(0);
    const [mine, theirs] = await capture.frames();
    expect(mine?.udp).toMatchObject({ dstIp: '10.99.0.255', dstPort: 7 });
    expect(mine?.ethDst).toBe('ff:ff:ff:ff:ff:ff');
    expect(mine?.udp?.payload.toString('hex')).toBe(magic('aa:bb:cc:dd:ee:ff'));
    expect(mine?.udp?.payload).toEqual(theirs?.udp?.payload);
  });

  it('appends a SecureOn password, as etherwake -p does on raw Ethernet', async () => {
    const capture = await startCapture(lan, 'sniffer', 'udp port 9 or ether proto 0x0842', 2);
    expect((await beWol('wol', '--password', '00:22:44:66:88:aa', target)).exitCode).toBe(0);
    const etherwake = await lan.run('sender', ['etherwake', '-i', 'eth0', '-b', '-p', '00:22:44:66:88:aa', target]);
    expect(etherwake.exitCode).toBe(0);
    const frames = await capture.frames();
    const mine = frames.find((f) => f.udp);
    const theirs = frames.find((f) => f.etherType === 0x0842);
    expect(mine?.udp?.payload.toString('hex')).toBe(magic(target, '00224466' + '88aa'));
    expect(theirs?.payload.subarray(0, 108)).toEqual(mine?.udp?.payload);
    // A 4-byte password written as a dotted quad.
    const four = await startCapture(lan, 'sniffer', 'udp port 9', 1);
    expect((await beWol('wol', '--password', '192.168.1.1', target)).exitCode).toBe(0);
    const [short] = await four.frames();
    expect(short?.udp?.payload.toString('hex')).toBe(magic(target, 'c0a80101'));
  });

  it('wakes hosts by name, repeating each packet --count times', async () => {
    const capture = await startCapture(lan, 'sniffer', 'udp port 9', 6);
    const result = await beWol(
      '--set',
      'hosts.0.name=head',
      '--set',
      `hosts.0.mac=${target}`,
      '--set',
      'hosts.1.name=stable',
      '--set',
      'hosts.1.mac=02:00:00:00:00:14',
      'wol',
      '--count',
      '3',
      '--interval',
      '20',
      'head',
      'stable',
    );
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(`magic packet for head (${target}) via 255.255.255.255:9\nmagic packet for stable (02:00:00:00:00:14) via 255.255.255.255:9`);
    const payloads = (await capture.frames()).map((f) => f.udp?.payload.toString('hex'));
    expect(payloads).toEqual([1, 2, 3].flatMap(() => [magic(target), magic('02:00:00:00:00:14')]));
  });

  it('honours wol.broadcast and wol.port from the configuration', async () => {
    const capture = await startCapture(lan, 'sniffer', 'udp port 4000', 1);
    const result = await beWol('--set', 'wol.broadcast=10.99.0.255', '--set', 'wol.port=4000', 'wol', target);
    expect(result.exitCode).toBe(0);
    const [frame] = await capture.frames();
    expect(frame?.udp).toMatchObject({ dstIp: '10.99.0.255', dstPort: 4000 });
  });

  it('tells a running appliance, whose timeline for the host then starts with the wake-up', async () => {
    const state = mkdtempSync(join(tmpdir(), 'be-wol-state-'));
    const flags = [
      '--set',
      `server.stateDir=${state}`,
      '--set',
      'tftp.enabled=false',
      '--set',
      'dhcp.enabled=false',
      '--set',
      'hosts.0.name=head',
      '--set',
      `hosts.0.mac=${target}`,
    ];
    let serve: RunningBe | undefined;
    try {
      serve = await serveBe(lan, 'sender', { settings: flags });
      expect((await beWol(...flags, 'wol', 'head')).exitCode).toBe(0);
      const status = await beWol(...flags, 'status', 'head', '--json');
      expect(JSON.parse(String(status.stdout))).toMatchObject({ key: 'head', host: 'head', mac: target, events: [{ step: 'wol', mac: target }] });
      expect(String((await beWol(...flags, 'status', target)).stdout)).toMatch(/^head 02:01:02:03:04:05\n\+ +0\.0 s {2}Wake-on-LAN sent$/);
    } finally {
      await serve?.stop();
      rmSync(state, { recursive: true, force: true });
    }
  });

  it('says in one line when the broadcast has no route', async () => {
    const noRoute = Lan.create({ hosts: ['lonely'], subnet: '10.98.0' });
    try {
      await noRoute.run('lonely', ['ip', 'route', 'del', '255.255.255.255', 'dev', 'eth0']);
      const result = await noRoute.run('lonely', ['node', beMain, 'wol', target]);
      expect(result.exitCode).toBe(1);
      expect(String(result.stderr).trim()).toMatch(/^be: cannot send to 255\.255\.255\.255:9: network unreachable/);
    } finally {
      noRoute.close();
    }
  });
});
