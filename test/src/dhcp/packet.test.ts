import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes, OptionValueError } from '../../../src/dhcp/options.js';
import {
  BOOTREPLY,
  BOOTREQUEST,
  DhcpDecodeError,
  DhcpEncodeError,
  type DhcpPacket,
  decodePacket,
  describePacket,
  emptyPacket,
  encodePacket,
  getOption,
  getRaw,
  MessageType,
  setOption,
  setRaw,
} from '../../../src/dhcp/packet.js';

const fixtures = join(import.meta.dirname, '../../fixtures/dhcp');
function golden(name: string): Uint8Array {
  return hexToBytes(readFileSync(join(fixtures, name), 'utf8'));
}

describe('golden packets captured from real clients and dnsmasq', () => {
  it('decodes udhcpc sending a FreeBSD-loader-shaped DISCOVER', () => {
    const p = decodePacket(golden('udhcpc-discover.hex'));
    expect(p.op).toBe(BOOTREQUEST);
    expect(p.xid).toBe(0xc6e7d470);
    expect(bytesToHex(p.chaddr, ':')).toBe('52:54:00:be:00:01');
    expect(p.ciaddr).toBe('0.0.0.0');
    expect(getOption(p, 'messageType')).toBe(MessageType.DISCOVER);
    expect(getOption(p, 'maxMessageSize')).toBe(576);
    expect(getOption(p, 'parameterList')).toEqual([1, 3, 6, 12, 15, 17, 28, 42]);
    expect(getOption(p, 'vendorClass')).toBe('PXEClient');
    expect(bytesToHex(getOption(p, 'clientId')!)).toBe('01525400be0001');
    expect(bytesToHex(getOption(p, 'userClass')!)).toBe('0746726565425344');
    expect(p.options.map((o) => o.code)).toEqual([53, 57, 55, 60, 61, 77]);
  });

  it("decodes dnsmasq's ACK with router, DNS, lease time and root path", () => {
    const p = decodePacket(golden('dnsmasq-ack-udhcpc.hex'));
    expect(p.op).toBe(BOOTREPLY);
    expect(p.yiaddr).toBe('10.98.0.145');
    expect(getOption(p, 'messageType')).toBe(MessageType.ACK);
    expect(getOption(p, 'serverId')).toBe('10.98.0.1');
    expect(getOption(p, 'leaseTime')).toBe(600);
    expect(getOption(p, 'renewalTime')).toBe(300);
    expect(getOption(p, 'rebindingTime')).toBe(525);
    expect(getOption(p, 'subnetMask')).toBe('255.255.255.0');
    expect(getOption(p, 'router')).toEqual(['10.98.0.1']);
    expect(getOption(p, 'dns')).toEqual(['10.98.0.53']);
    expect(getOption(p, 'rootPath')).toBe('10.98.0.1:/be/head');
  });

  it("decodes dhclient's REQUEST in SELECTING state (server id + requested address)", () => {
    const p = decodePacket(golden('dhclient-request.hex'));
    expect(getOption(p, 'messageType')).toBe(MessageType.REQUEST);
    expect(getOption(p, 'serverId')).toBe('10.98.0.1');
    expect(getOption(p, 'requestedAddress')).toMatch(/^10\.98\.0\.\d+$/);
    expect(p.ciaddr).toBe('0.0.0.0');
  });

  it("decodes dhcpcd's RFC 4361 client identifier", () => {
    const id = getOption(decodePacket(golden('dhcpcd-request.hex')), 'clientId')!;
    expect(id[0]).toBe(255); // type 255: IAID + DUID
    expect(id.length).toBe(19);
  });

  it("decodes iPXE's DISCOVER (QEMU's e1000 option ROM): plain user class, option 175, arch 0", () => {
    const p = decodePacket(golden('ipxe-discover.hex'));
    expect(getOption(p, 'messageType')).toBe(MessageType.DISCOVER);
    expect(getOption(p, 'vendorClass')).toBe('PXEClient:Arch:00000:UNDI:002001');
    expect(getOption(p, 'clientArch')).toEqual([0]);
    expect(new TextDecoder().decode(getOption(p, 'userClass'))).toBe('iPXE'); // not RFC 3004 form
    expect(getRaw(p, 175)?.length).toBeGreaterThan(0);
    expect(getOption(p, 'maxMessageSize')).toBe(1472);
    expect(getOption(p, 'parameterList')).toEqual(expect.arrayContaining([17, 43, 60, 66, 67, 175]));
  });

  const files = readdirSync(fixtures).filter((f) => f.endsWith('.hex'));
  it.each(files)('%s re-encodes to exactly the captured bytes', (file) => {
    const bytes = golden(file);
    expect(bytesToHex(encodePacket(decodePacket(bytes), { maxLength: 576 }))).toBe(bytesToHex(bytes));
  });

  it('describes a packet by option names for debug logs', () => {
    const d = describePacket(decodePacket(golden('udhcpc-discover.hex')));
    expect(d).toMatchObject({ chaddr: '52:54:00:be:00:01', xid: '0xc6e7d470', options: { vendorClass: 'PXEClient', messageType: 1 } });
  });
});

function base(): Uint8Array {
  const p = emptyPacket(BOOTREQUEST);
  setOption(p, 'messageType', MessageType.DISCOVER);
  return encodePacket(p);
}

describe('strict decoding with exact messages', () => {
  it('refuses a short datagram', () => {
    expect(() => decodePacket(new Uint8Array(239))).toThrow(
      new DhcpDecodeError('DHCP message too short: 239 bytes, need at least 240 (236-byte BOOTP header + magic cookie)'),
    );
  });
  it('refuses a missing magic cookie', () => {
    const b = base();
    b[236] = 0;
    expect(() => decodePacket(b)).toThrow('no DHCP magic cookie at offset 236: found 0x00825363, expected 0x63825363');
  });
  it('refuses a bad op and an oversized hlen', () => {
    const b = base();
    b[0] = 3;
    expect(() => decodePacket(b)).toThrow('op 3 at offset 0: expected 1 (BOOTREQUEST) or 2 (BOOTREPLY)');
    const c = base();
    c[2] = 17;
    expect(() => decodePacket(c)).toThrow('hlen 17 at offset 2: chaddr holds at most 16 bytes');
  });
  it('refuses an option running past the end', () => {
    const b = new Uint8Array([...base().subarray(0, 240), 53, 1, 1, 12, 9, 65]);
    expect(() => decodePacket(b)).toThrow('option 12 at offset 243 in the options field claims 9 bytes, only 1 remain');
  });
  it('refuses an option with no length byte', () => {
    const b = new Uint8Array([...base().subarray(0, 240), 0, 0, 12]);
    expect(() => decodePacket(b)).toThrow('option 12 at offset 242 in the options field: length byte missing');
  });
  it('refuses a bad overload value', () => {
    const b = new Uint8Array([...base().subarray(0, 240), 52, 1, 4, 255]);
    expect(() => decodePacket(b)).toThrow('option 52 (overload) is 04: expected one byte 1 (file), 2 (sname) or 3 (both)');
  });
  it('skips pad bytes before options (the npm dhcp package misread these)', () => {
    const b = new Uint8Array([...base().subarray(0, 240), 0, 0, 0, 53, 1, 3, 0, 60, 3, 0x61, 0x62, 0x63, 255, 99, 99]);
    const p = decodePacket(b);
    expect(getOption(p, 'messageType')).toBe(3);
    expect(getOption(p, 'vendorClass')).toBe('abc');
    expect(p.options).toHaveLength(2); // nothing after End is read
  });
  it('reports an option whose length does not fit its type when it is read', () => {
    const b = new Uint8Array([...base().subarray(0, 240), 54, 3, 1, 2, 3, 255]);
    const p = decodePacket(b);
    expect(() => getOption(p, 'serverId')).toThrow(new OptionValueError('option 54 (serverId) has 3 bytes, expected 4'));
  });
});

describe('overload (52) and long options (RFC 3396)', () => {
  it('reads options from file, then sname, when option 52 says so', () => {
    const b = new Uint8Array(300);
    b.set(base().subarray(0, 240));
    b.set([52, 1, 3, 53, 1, 1, 12, 2, 0x61, 0x62, 255], 240);
    b.set([12, 1, 0x63, 17, 2, 0x2f, 0x78, 255], 108); // file
    b.set([12, 1, 0x64, 255], 44); // sname
    const p = decodePacket(b);
    expect(getOption(p, 'hostName')).toBe('abcd'); // options, file, sname, concatenated
    expect(getOption(p, 'rootPath')).toBe('/x');
    expect(p.file).toBe('');
    expect(p.sname).toBe('');
    expect(getRaw(p, 52)).toBeUndefined();
  });

  it('splits an option over 255 bytes and joins it again', () => {
    const p = emptyPacket(BOOTREPLY);
    setOption(p, 'messageType', MessageType.ACK);
    setOption(p, 'rootPath', 'r'.repeat(300));
    const bytes = encodePacket(p, { maxLength: 1400 });
    expect(bytes[243]).toBe(17);
    expect(bytes[244]).toBe(255);
    expect(bytes[243 + 257]).toBe(17);
    expect(bytes[244 + 257]).toBe(45);
    expect(getOption(decodePacket(bytes), 'rootPath')).toBe('r'.repeat(300));
  });

  it('overloads file and sname when the options field is full, and refuses what cannot fit', () => {
    const p = emptyPacket(BOOTREPLY);
    setOption(p, 'messageType', MessageType.OFFER);
    setRaw(p, 224, new Uint8Array(250).fill(1));
    setRaw(p, 225, new Uint8Array(100).fill(2));
    setRaw(p, 226, new Uint8Array(50).fill(3));
    const bytes = encodePacket(p);
    expect(bytes.length).toBeLessThanOrEqual(548);
    expect([...bytes.subarray(240, 243)]).toEqual([52, 1, 3]);
    const back = decodePacket(bytes);
    expect(back.options).toEqual(p.options);
    setRaw(p, 227, new Uint8Array(100));
    expect(() => encodePacket(p)).toThrow(DhcpEncodeError);
  });

  it('keeps unknown options and relay agent information as bytes, in order', () => {
    const p = emptyPacket(BOOTREQUEST);
    setOption(p, 'messageType', MessageType.DISCOVER);
    setRaw(p, 200, Uint8Array.of(9, 8, 7));
    setRaw(p, 82, Uint8Array.of(1, 4, 0, 0, 0, 1, 2, 2, 0xaa, 0xbb));
    const back = decodePacket(encodePacket(p));
    expect(back.options.map((o) => o.code)).toEqual([53, 200, 82]);
    expect(bytesToHex(getRaw(back, 82)!)).toBe('01040000000102' + '02aabb');
  });
});

const ip = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((t) => t.join('.'));
const printable = (max: number) => fc.string({ maxLength: max, unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789/._-') });
const option = fc.record({
  code: fc.integer({ min: 1, max: 254 }).filter((c) => c !== 52),
  data: fc.uint8Array({ maxLength: 300 }),
});
const packet: fc.Arbitrary<DhcpPacket> = fc
  .record({
    op: fc.constantFrom(1, 2),
    htype: fc.nat(255),
    hlen: fc.integer({ min: 0, max: 16 }),
    hops: fc.nat(255),
    xid: fc.nat(0xffffffff),
    secs: fc.nat(0xffff),
    flags: fc.nat(0xffff),
    ciaddr: ip,
    yiaddr: ip,
    siaddr: ip,
    giaddr: ip,
    sname: printable(64),
    file: printable(128),
    options: fc.uniqueArray(option, { selector: (o) => o.code, maxLength: 8 }),
    chaddrSeed: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  })
  .map(({ chaddrSeed, ...p }) => ({ ...p, chaddr: chaddrSeed.slice(0, p.hlen) }));

describe('properties', () => {
  it('decode(encode(p)) is p whenever p fits', () => {
    fc.assert(
      fc.property(packet, (p) => {
        let bytes: Uint8Array;
        try {
          bytes = encodePacket(p, { maxLength: 1500 });
        } catch (err) {
          expect(err).toBeInstanceOf(DhcpEncodeError);
          return;
        }
        expect(bytes.length).toBeLessThanOrEqual(1500);
        const back = decodePacket(bytes);
        expect(back).toEqual(p);
      }),
      { numRuns: 500 },
    );
  });

  it('any byte string either decodes or throws DhcpDecodeError, never anything else', () => {
    const header = base().subarray(0, 240);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.boolean(), (tail, withHeader) => {
        const bytes = withHeader ? new Uint8Array([...header, ...tail]) : tail;
        try {
          const p = decodePacket(bytes);
          // whatever decodes re-encodes, or fails with an encode error (too long for the limit)
          try {
            decodePacket(encodePacket(p, { maxLength: 1500 }));
          } catch (err) {
            expect(err).toBeInstanceOf(DhcpEncodeError);
          }
        } catch (err) {
          expect(err).toBeInstanceOf(DhcpDecodeError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('address fields on encode', () => {
  const withYiaddr = (yiaddr: string) => ({ ...emptyPacket(BOOTREPLY), yiaddr });

  it.each(['1.2.3.4', '10.0.0.255', '255.255.255.255', '0.0.0.1'])('writes %s as four bytes at offset 16', (ip) => {
    const bytes = encodePacket(withYiaddr(ip));
    expect(Array.from(bytes.subarray(16, 20)).join('.')).toBe(ip);
  });

  it.each(['1.2.3', '1.2.3.4.5', '256.1.1.1', '1..2.3', '1234.1.1.1', 'a.b.c.d', '1.2.3.4 ', '', '1.2.3.', '.1.2.3'])(
    'refuses %j with the field named',
    (ip) => {
      expect(() => encodePacket(withYiaddr(ip))).toThrow(new DhcpEncodeError(`yiaddr is not an IPv4 address: ${JSON.stringify(ip)}`));
    },
  );
});
