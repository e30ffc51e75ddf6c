import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InterfaceListError, parseIfconfig, parseIpJsonAddr } from '../../../src/net/interfaces.js';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/net/${name}`, import.meta.url), 'utf8');

describe('parseIpJsonAddr (golden: ip -j addr show captured in a namespace, test/fixtures/net/capture.sh)', () => {
  const parsed = parseIpJsonAddr(fixture('linux-ip-addr.json'));

  it('lists every IPv4 address with its device, prefix and flags; IPv6 and address-less links are skipped', () => {
    expect(parsed).toEqual([
      { name: 'lo', address: '127.0.0.1', prefix: 8, up: true, running: true, loopback: true },
      // three addresses on one device, the labelled secondary (eth0:1) under the device's name
      { name: 'eth0', address: '10.77.0.1', prefix: 24, up: true, running: true, loopback: false },
      { name: 'eth0', address: '192.168.77.1', prefix: 24, up: true, running: true, loopback: false },
      { name: 'eth0', address: '10.77.0.9', prefix: 24, up: true, running: true, loopback: false },
      // veth whose peer is down: NO-CARRIER, operstate LOWERLAYERDOWN
      { name: 'vdown0', address: '10.77.1.1', prefix: 24, up: true, running: false, loopback: false },
      // bridge whose only member is an unopened tap: NO-CARRIER, operstate DOWN
      { name: 'br0', address: '10.77.2.1', prefix: 24, up: true, running: false, loopback: false },
      // bridge with a member that has carrier
      { name: 'br1', address: '10.77.3.1', prefix: 24, up: true, running: true, loopback: false },
      // administratively down
      { name: 'off0', address: '10.77.4.1', prefix: 24, up: false, running: false, loopback: false },
    ]);
  });

  it('takes carrier from LOWER_UP, not from operstate (lo is UNKNOWN yet has carrier)', () => {
    const links = JSON.parse(fixture('linux-ip-addr.json')) as { ifname: string; operstate: string }[];
    expect(links.find((l) => l.ifname === 'lo')?.operstate).toBe('UNKNOWN');
    expect(parsed.find((a) => a.name === 'lo')?.running).toBe(true);
  });

  it('includes what os.networkInterfaces() missed in the same namespace', () => {
    const node = JSON.parse(fixture('linux-node-networkInterfaces.json')) as Record<string, string[]>;
    const seenByNode = new Set(
      Object.values(node)
        .flat()
        .map((cidr) => cidr.split('/')[0]),
    );
    const missed = parsed.filter((a) => !seenByNode.has(a.address)).map((a) => a.name);
    expect(missed).toEqual(['vdown0', 'br0', 'off0']);
  });

  it('accepts a link without addr_info and an empty list', () => {
    expect(parseIpJsonAddr('[{"ifname":"x0","flags":["UP"]}]')).toEqual([]);
    expect(parseIpJsonAddr('[]')).toEqual([]);
  });

  it.each([
    ['not json', /not JSON/],
    ['{}', /expected an array of links/],
    ['[{"flags":[]}]', /link 0: no ifname/],
    ['[{"ifname":"e0","flags":"UP"}]', /link 0 \(e0\): flags is not a list of names/],
    ['[{"ifname":"e0","flags":[],"addr_info":{}}]', /addr_info is not a list/],
    [
      '[{"ifname":"e0","flags":[],"addr_info":[{"family":"inet","local":"10.0.0.300","prefixlen":24}]}]',
      /addr_info\[0\]\.local is not an IPv4 address: "10.0.0.300"/,
    ],
    ['[{"ifname":"e0","flags":[],"addr_info":[{"family":"inet","local":"10.0.0.1","prefixlen":33}]}]', /addr_info\[0\]\.prefixlen is not 0\.\.32: 33/],
  ])('refuses %s', (text, message) => {
    expect(() => parseIpJsonAddr(text)).toThrow(InterfaceListError);
    expect(() => parseIpJsonAddr(text)).toThrow(message);
  });
});

describe('parseIfconfig (golden: FreeBSD ifconfig -a written from sbin/ifconfig, test/fixtures/net/README.md)', () => {
  it('lists every inet line, aliases and point-to-point included, with the carrier of its interface', () => {
    expect(parseIfconfig(fixture('freebsd-ifconfig-a.txt'))).toEqual([
      { name: 'em0', address: '192.168.2.1', prefix: 24, up: true, running: true, loopback: false },
      { name: 'em0', address: '192.168.2.9', prefix: 32, up: true, running: true, loopback: false },
      { name: 'em0', address: '10.1.0.1', prefix: 16, up: true, running: true, loopback: false },
      // RUNNING but `status: no carrier`: no cable
      { name: 'em1', address: '10.20.0.1', prefix: 24, up: true, running: false, loopback: false },
      // administratively down
      { name: 'em2', address: '10.30.0.1', prefix: 24, up: false, running: false, loopback: false },
      { name: 'lo0', address: '127.0.0.1', prefix: 8, up: true, running: true, loopback: true },
      // a FreeBSD bridge is RUNNING whenever it is up, even over an unopened tap (tap0, no address)
      { name: 'bridge0', address: '10.99.0.1', prefix: 24, up: true, running: true, loopback: false },
      { name: 'tun0', address: '10.8.0.1', prefix: 32, up: true, running: true, loopback: false },
    ]);
  });

  it('reads the netmask forms IFCONFIG_FORMAT can choose (inet:cidr, inet:dotted), with and without a destination', () => {
    const text = [
      'vtnet0: flags=8843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST> metric 0 mtu 1500',
      '\tinet 10.0.0.5/24 broadcast 10.0.0.255',
      '\tinet 10.0.1.5 netmask 255.255.254.0 broadcast 10.0.1.255',
      '\tinet 10.0.2.5 netmask 0x0',
      'tun1: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> metric 0 mtu 1500',
      '\tinet 10.9.0.1 --> 10.9.0.2/32',
    ].join('\n');
    expect(parseIfconfig(text).map((a) => `${a.name} ${a.address}/${a.prefix}`)).toEqual([
      'vtnet0 10.0.0.5/24',
      'vtnet0 10.0.1.5/23',
      'vtnet0 10.0.2.5/0',
      'tun1 10.9.0.1/32',
    ]);
  });

  it('reads a header without flag names (flags=0 prints no <>) and ignores tunnel and member lines', () => {
    const text = [
      'gif0: flags=0 metric 0 mtu 1280',
      '\ttunnel inet 192.0.2.1 --> 198.51.100.1',
      '\tinet 10.5.0.1 --> 10.5.0.2 netmask 0xffffffff',
      'bridge1: flags=8802<BROADCAST,SIMPLEX,MULTICAST> metric 0 mtu 1500',
      '\tmember: em3 flags=143<LEARNING,DISCOVER,AUTOEDGE,AUTOPTP>',
      '\t        ifmaxaddr 0 port 4 priority 128 path cost 20000',
    ].join('\n');
    expect(parseIfconfig(text)).toEqual([{ name: 'gif0', address: '10.5.0.1', prefix: 32, up: false, running: false, loopback: false }]);
  });

  it.each([
    ['\tinet 10.0.0.1 netmask 0xffffff00', /line 1: indented line before any interface/],
    ['em0 flags=8843<UP>', /line 1: expected "NAME: flags=\.\.\."/],
    ['em0: flags=8843<UP>\n\tinet myhost netmask 0xffffff00', /line 2: not an IPv4 address: "myhost"/],
    ['em0: flags=8843<UP>\n\tinet 10.0.0.1 netmask 0xff00ff00', /line 2: netmask 0xff00ff00 is not contiguous/],
    ['em0: flags=8843<UP>\n\tinet 10.0.0.1 netmask ffffff00', /line 2: netmask is neither hex nor dotted: "ffffff00"/],
    ['em0: flags=8843<UP>\n\tinet 10.0.0.1 broadcast 10.0.0.255', /line 2: no netmask/],
  ])('refuses %j', (text, message) => {
    expect(() => parseIfconfig(text)).toThrow(InterfaceListError);
    expect(() => parseIfconfig(text)).toThrow(message);
  });
});
