import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeMagicPacket, encodeMagicPacket, parseSecureOnPassword } from '../../../src/wol/magic.js';

const mac = Uint8Array.of(0x02, 0x01, 0x02, 0x03, 0x04, 0x05);

describe('magic packet', () => {
  it('is 6 x 0xff then the MAC 16 times (102 bytes)', () => {
    const packet = encodeMagicPacket(mac);
    const expected = 'ffffffffffff' + '020102030405'.repeat(16);
    expect(packet.toString('hex')).toBe(expected);
    expect(packet.length).toBe(102);
  });

  it('appends a 4- or 6-byte SecureOn password', () => {
    expect(
      encodeMagicPacket(mac, Uint8Array.of(192, 168, 1, 1))
        .subarray(102)
        .toString('hex'),
    ).toBe('c0a80101');
    const six = encodeMagicPacket(mac, Uint8Array.of(0, 0x22, 0x44, 0x66, 0x88, 0xaa));
    expect(six.length).toBe(108);
    expect(six.subarray(102).toString('hex')).toBe('00224466' + '88aa');
  });

  it('refuses a MAC or password of the wrong length', () => {
    expect(() => encodeMagicPacket(Uint8Array.of(1, 2, 3))).toThrow('a MAC address has 6 bytes, got 3');
    expect(() => encodeMagicPacket(mac, Uint8Array.of(1, 2, 3, 4, 5))).toThrow('a SecureOn password has 4 or 6 bytes, got 5');
  });

  it('decodes what it encodes, with and without password', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 6, maxLength: 6 }),
        fc.option(fc.oneof(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.uint8Array({ minLength: 6, maxLength: 6 })), { nil: undefined }),
        (target, password) => {
          const decoded = decodeMagicPacket(encodeMagicPacket(target, password));
          expect(decoded?.mac).toBe(Array.from(target, (b) => b.toString(16).padStart(2, '0')).join(':'));
          expect(decoded?.password).toEqual(password);
        },
      ),
    );
  });

  it('does not decode near misses', () => {
    const good = encodeMagicPacket(mac);
    const badSync = Buffer.from(good);
    badSync[0] = 0xfe;
    const badCopy = Buffer.from(good);
    badCopy[101] = 0;
    expect(decodeMagicPacket(badSync)).toBeUndefined();
    expect(decodeMagicPacket(badCopy)).toBeUndefined();
    expect(decodeMagicPacket(good.subarray(0, 101))).toBeUndefined();
    expect(decodeMagicPacket(Buffer.concat([good, Buffer.alloc(5)]))).toBeUndefined();
  });

  it('reads SecureOn passwords as ether-wake writes them', () => {
    expect(parseSecureOnPassword('192.168.1.1')).toEqual(Uint8Array.of(192, 168, 1, 1));
    expect(parseSecureOnPassword('00:22:44:66:88:aa')).toEqual(Uint8Array.of(0, 0x22, 0x44, 0x66, 0x88, 0xaa));
    expect(parseSecureOnPassword('secret')).toBeUndefined();
    expect(parseSecureOnPassword('1.2.3.256')).toBeUndefined();
  });
});
