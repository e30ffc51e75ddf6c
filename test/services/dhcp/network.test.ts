import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig, parseOverride } from '../../../src/config/parse.js';
import { parseIpJsonAddr } from '../../../src/net/interfaces.js';
import { servedNetwork } from '../../../services/dhcp/network.js';

// The interfaces of a real namespace (test/fixtures/net/README.md): lo, eth0 (three addresses, carrier),
// vdown0 (peer down), br0 (only an unopened tap), br1 (carrier), off0 (administratively down).
const interfaces = parseIpJsonAddr(readFileSync(new URL('../../fixtures/net/linux-ip-addr.json', import.meta.url), 'utf8'));
const config = (...sets: string[]) => parseConfig({ text: '', file: 'be.yaml' }, sets.map(parseOverride));
const have = 'eth0 10.77.0.1/24, eth0 192.168.77.1/24, eth0 10.77.0.9/24, vdown0 10.77.1.1/24, br0 10.77.2.1/24, br1 10.77.3.1/24';

describe('servedNetwork', () => {
  it('serves a bridge without carrier, and says it has none', () => {
    expect(servedNetwork(config('dhcp.interface=br0'), interfaces)).toEqual({
      address: '10.77.2.1',
      interface: 'br0',
      subnet: { network: '10.77.2.0', prefix: 24, netmask: '255.255.255.0', broadcast: '10.77.2.255' },
      carrier: false,
    });
  });

  it('picks the address of the interface that server.address names, among several', () => {
    const net = servedNetwork(config('dhcp.interface=eth0', 'server.address=192.168.77.1'), interfaces);
    expect(net).toMatchObject({ address: '192.168.77.1', interface: 'eth0', subnet: { network: '192.168.77.0' }, carrier: true });
  });

  it('finds the interface from server.address alone', () => {
    expect(servedNetwork(config('server.address=10.77.1.1'), interfaces)).toMatchObject({ interface: 'vdown0', carrier: false });
  });

  it('with neither key set, prefers an interface with carrier', () => {
    const noCarrierFirst = [...interfaces].sort((a, b) => Number(a.running) - Number(b.running));
    expect(servedNetwork(config(), noCarrierFirst)).toMatchObject({ interface: 'eth0', address: '10.77.0.1', carrier: true });
  });

  it('keeps dhcp.subnet over the interface prefix', () => {
    expect(servedNetwork(config('dhcp.interface=br0', 'dhcp.subnet=10.77.0.0/16'), interfaces).subnet).toEqual({
      network: '10.77.0.0',
      prefix: 16,
      netmask: '255.255.0.0',
      broadcast: '10.77.255.255',
    });
  });

  it('never serves loopback, and names what the machine has', () => {
    expect(() => servedNetwork(config('dhcp.interface=lo'), interfaces)).toThrow(
      `dhcp: dhcp.interface lo has no IPv4 address (this machine has: ${have}): set dhcp.interface and server.address`,
    );
    expect(() => servedNetwork(config('server.address=10.1.1.1'), interfaces)).toThrow(
      `dhcp: no interface holds server.address 10.1.1.1 (this machine has: ${have}): set dhcp.interface and server.address`,
    );
    expect(() => servedNetwork(config('dhcp.interface=br0'), [])).toThrow('(this machine has: none)');
  });

  it('says so when the interface is administratively down', () => {
    expect(() => servedNetwork(config('dhcp.interface=off0'), interfaces)).toThrow(
      'dhcp: off0 (10.77.4.1/24) is down: bring it up (ifconfig off0 up, or ip link set off0 up)',
    );
    expect(() => servedNetwork(config('server.address=10.77.4.1'), interfaces)).toThrow('dhcp: off0 (10.77.4.1/24) is down');
  });
});
