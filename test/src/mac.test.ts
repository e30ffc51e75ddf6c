import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatMac, normalizeMac, parseMac } from '../../src/mac.js';

describe('MAC addresses', () => {
  it.each([['aa:bb:cc:dd:ee:ff'], ['AA:BB:CC:DD:EE:FF'], ['aa-bb-cc-dd-ee-ff'], ['aabb.ccdd.eeff'], ['AABBCCDDEEFF'], ['Aa:bB:cC:Dd:eE:Ff']])(
    'accepts %s',
    (text) => {
      expect(normalizeMac(text)).toBe('aa:bb:cc:dd:ee:ff');
    },
  );

  it.each([
    'aa:bb:cc:dd:ee',
    'aa:bb:cc:dd:ee:f',
    'aa:bb:cc:dd:ee:ff:00',
    'aa:bb-cc:dd:ee:ff',
    'aabb.ccdd.eef',
    'gg:bb:cc:dd:ee:ff',
    'a:b:c:d:e:f',
    '',
    'aabbccddeeff0',
  ])('refuses %j', (text) => {
    expect(parseMac(text)).toBeUndefined();
    expect(() => normalizeMac(text)).toThrow(`not a MAC address: ${JSON.stringify(text)}`);
  });

  it('round-trips every 6-byte value through all four forms', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 6, maxLength: 6 }), (bytes) => {
        const colon = formatMac(bytes);
        const hex = colon.replaceAll(':', '');
        const forms = [colon, colon.replaceAll(':', '-'), `${hex.slice(0, 4)}.${hex.slice(4, 8)}.${hex.slice(8)}`, hex.toUpperCase()];
        for (const form of forms) expect(parseMac(form)).toEqual(bytes);
      }),
    );
  });
});
