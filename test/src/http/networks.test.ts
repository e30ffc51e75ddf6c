import { describe, expect, it } from 'vitest';
import { inNetworks, isIp, isNetwork, parseNetwork, plainAddress } from '../../../src/http/networks.js';

describe('http.allow networks', () => {
  it.each(['127.0.0.1', '::1', '::', 'fe80::1', '2001:db8::8a2e:370:7334', '::ffff:10.0.0.2', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:1.2.3.4'])(
    '%j is an address',
    (text) => {
      expect(isIp(text)).toBe(true);
    },
  );

  it.each(['', '1.2.3', '256.0.0.1', ':::', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '12345::', 'fe80::1%eth0', '::1.2.3.4:5', 'g::'])(
    '%j is not an address',
    (text) => {
      expect(isIp(text)).toBe(false);
    },
  );

  it('reads networks and refuses host bits, as parseCidr does', () => {
    expect(parseNetwork('10.99.0.0/24')).toMatchObject({ family: 4, prefix: 24 });
    expect(parseNetwork('::1/128')).toMatchObject({ family: 6, prefix: 128 });
    expect(parseNetwork('fd00::/8')).toMatchObject({ family: 6, prefix: 8 });
    expect(parseNetwork('0.0.0.0/0')).toMatchObject({ family: 4, prefix: 0 });
    for (const bad of ['10.99.0.1/24', '10.0.0.0/33', '::1/127', 'fd00::/129', '10.0.0.0', 'x/8']) expect(isNetwork(bad)).toBe(false);
  });

  it('matches addresses, IPv4-mapped ones as IPv4', () => {
    const allow = ['127.0.0.0/8', '::1/128', '10.99.0.0/23'].map(parseNetwork);
    expect(inNetworks('127.0.0.1', allow)).toBe(true);
    expect(inNetworks('127.255.1.2', allow)).toBe(true);
    expect(inNetworks('::ffff:127.0.0.1', allow)).toBe(true);
    expect(inNetworks('::1', allow)).toBe(true);
    expect(inNetworks('10.99.1.7', allow)).toBe(true);
    expect(inNetworks('10.99.2.7', allow)).toBe(false);
    expect(inNetworks('::2', allow)).toBe(false);
    expect(inNetworks('::ffff:10.98.0.1', allow)).toBe(false);
    expect(inNetworks('', allow)).toBe(false);
    expect(inNetworks('10.0.0.1', [parseNetwork('0.0.0.0/0')])).toBe(true);
    expect(plainAddress('::FFFF:10.0.0.2')).toBe('10.0.0.2');
    expect(plainAddress('::ffff:1:2')).toBe('::ffff:1:2');
  });
});
