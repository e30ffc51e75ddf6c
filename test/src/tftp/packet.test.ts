import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dataHeader, decode, DecodeError, encode, encodingLength, type Packet } from '../../../src/tftp/packet.js';

const hex = (text: string) => Uint8Array.from(Buffer.from(text, 'hex'));

/** Read requests captured on 127.0.0.1 from the Debian 12 clients, asking for boot/pxeboot (loader.rc for netascii). */
const golden: { client: string; bytes: string; packet: Packet }[] = [
  {
    client: 'curl 7.88.1 --tftp-blksize 1468',
    bytes: '0001626f6f742f707865626f6f74006f63746574007473697a65003000626c6b73697a6500313436380074696d656f7574003600',
    packet: {
      op: 'RRQ',
      filename: 'boot/pxeboot',
      mode: 'octet',
      options: [
        { name: 'tsize', value: '0' },
        { name: 'blksize', value: '1468' },
        { name: 'timeout', value: '6' },
      ],
    },
  },
  {
    client: 'atftp 0.8.0 --option "blksize 1468" --option "windowsize 16" --option "tsize 0"',
    bytes: '0001626f6f742f707865626f6f74006f63746574007473697a65003000626c6b73697a6500313436380077696e646f7773697a6500313600',
    packet: {
      op: 'RRQ',
      filename: 'boot/pxeboot',
      mode: 'octet',
      options: [
        { name: 'tsize', value: '0' },
        { name: 'blksize', value: '1468' },
        { name: 'windowsize', value: '16' },
      ],
    },
  },
  {
    client: 'busybox 1.35 tftp -b 1468',
    bytes: '0001626f6f742f707865626f6f74006f6374657400626c6b73697a650031343638007473697a65003000',
    packet: {
      op: 'RRQ',
      filename: 'boot/pxeboot',
      mode: 'octet',
      options: [
        { name: 'blksize', value: '1468' },
        { name: 'tsize', value: '0' },
      ],
    },
  },
  {
    client: 'tftp-hpa 5.2 -m binary',
    bytes: '0001626f6f742f707865626f6f74006f6374657400',
    packet: { op: 'RRQ', filename: 'boot/pxeboot', mode: 'octet', options: [] },
  },
  {
    client: 'tftp-hpa 5.2 -m ascii',
    bytes: '00016c6f616465722e7263006e65746173636969 00'.replace(' ', ''),
    packet: { op: 'RRQ', filename: 'loader.rc', mode: 'netascii', options: [] },
  },
];

describe('TFTP packet codec', () => {
  it.each(golden)('decodes and re-encodes the RRQ of $client', ({ bytes, packet }) => {
    expect(decode(hex(bytes))).toEqual(packet);
    expect(Buffer.from(encode(packet)).toString('hex')).toBe(bytes);
  });

  it('encodes DATA, ACK, ERROR and OACK as RFC 1350 and RFC 2347 lay them out', () => {
    expect(Buffer.from(encode({ op: 'DATA', block: 0x1234, data: Uint8Array.of(1, 2, 3) })).toString('hex')).toBe('00031234010203');
    expect(Buffer.from(encode({ op: 'ACK', block: 65535 })).toString('hex')).toBe('0004ffff');
    expect(Buffer.from(encode({ op: 'ERROR', code: 1, message: 'File not found' })).toString('hex')).toBe(
      '00050001' + Buffer.from('File not found\0').toString('hex'),
    );
    expect(Buffer.from(encode({ op: 'OACK', options: [{ name: 'blksize', value: '1468' }] })).toString('hex')).toBe(
      '0006' + Buffer.from('blksize\x001468\0').toString('hex'),
    );
    expect(Buffer.from(dataHeader(65535)).toString('hex')).toBe('0003ffff');
  });

  it('decodes a DATA block as a view with no copy and an empty last block', () => {
    const bytes = hex('00030007');
    expect(decode(bytes)).toEqual({ op: 'DATA', block: 7, data: new Uint8Array(0) });
  });

  it('takes an ERROR whose message lacks its NUL, because a client abort must still be heard', () => {
    expect(decode(hex('00050000' + Buffer.from('abort').toString('hex')))).toEqual({ op: 'ERROR', code: 0, message: 'abort' });
  });

  it('keeps every byte of a file name (latin1 in, latin1 out)', () => {
    const name = 'caf\u00e9/\u00ff\u0001';
    const packet = decode(encode({ op: 'RRQ', filename: name, mode: 'octet', options: [] }));
    expect(packet).toMatchObject({ filename: name });
  });

  const malformed: [string, string, RegExp][] = [
    ['empty datagram', '', /0 byte\(s\) is shorter than an opcode/],
    ['one byte', '00', /1 byte\(s\) is shorter than an opcode/],
    ['unknown opcode', '0009', /unknown opcode 9/],
    ['opcode 0', '0000', /unknown opcode 0/],
    ['RRQ without NUL after the name', '000161', /RRQ file name at offset 2 is not NUL-terminated/],
    ['RRQ without a mode', '00016100', /RRQ mode at offset 4 is not NUL-terminated/],
    ['RRQ with an empty mode', '0001610000', /RRQ mode at offset 4 is empty/],
    ['RRQ option name unterminated', '000161006f637465740062', /RRQ option name at offset 10 is not NUL-terminated/],
    ['RRQ option name with no value at all', '000161006f6374657400626c6b73697a6500', /option "blksize" has no value/],
    ['RRQ option value unterminated', '000161006f6374657400626c6b73697a650031', /option "blksize" value at offset 18 is not NUL-terminated/],
    ['RRQ with an empty option name', '000161006f637465740000', /RRQ option name at offset 10 is empty/],
    ['WRQ unterminated', '0002', /WRQ file name at offset 2 is not NUL-terminated/],
    ['short DATA', '000300', /DATA of 3 bytes is shorter than its 4-byte header/],
    ['short ACK', '000400', /ACK must be 4 bytes, got 3/],
    ['long ACK', '0004000100', /ACK must be 4 bytes, got 5/],
    ['short ERROR', '000500', /ERROR of 3 bytes is shorter than its 4-byte header/],
    ['OACK option unterminated', '000662', /OACK option name at offset 2 is not NUL-terminated/],
  ];
  it.each(malformed)('refuses %s with an exact message', (_what, bytes, message) => {
    const attempt = () => decode(hex(bytes));
    expect(attempt).toThrow(DecodeError);
    expect(attempt).toThrow(message);
  });

  it('refuses to encode what cannot be sent', () => {
    expect(() => encode({ op: 'RRQ', filename: 'a\0b', mode: 'octet', options: [] })).toThrow(/file name has a character that cannot be sent/);
    expect(() => encode({ op: 'ACK', block: 65536 })).toThrow(/block 65536 is not 0-65535/);
    expect(() => encode({ op: 'OACK', options: [{ name: '', value: '1' }] })).toThrow(/option name is empty/);
    expect(() => encode({ op: 'ACK', block: 1 }, new Uint8Array(3))).toThrow(/buffer has 3 bytes, packet needs 4/);
  });
});

// Strings the wire can carry: latin1 characters except NUL.
const wireString = (min = 0) => fc.string({ unit: fc.integer({ min: 1, max: 255 }).map((c) => String.fromCharCode(c)), minLength: min, maxLength: 40 });
const option = fc.record({ name: wireString(1), value: wireString() });
const packet: fc.Arbitrary<Packet> = fc.oneof(
  fc.record({ op: fc.constantFrom('RRQ' as const, 'WRQ' as const), filename: wireString(), mode: wireString(1), options: fc.array(option, { maxLength: 6 }) }),
  fc.record({ op: fc.constant('DATA' as const), block: fc.integer({ min: 0, max: 65535 }), data: fc.uint8Array({ maxLength: 1500 }) }),
  fc.record({ op: fc.constant('ACK' as const), block: fc.integer({ min: 0, max: 65535 }) }),
  fc.record({ op: fc.constant('ERROR' as const), code: fc.integer({ min: 0, max: 65535 }), message: wireString() }),
  fc.record({ op: fc.constant('OACK' as const), options: fc.array(option, { maxLength: 6 }) }),
);

describe('TFTP packet codec properties', () => {
  it('decode(encode(p)) equals p, and encodingLength is the encoded length', () => {
    fc.assert(
      fc.property(packet, (p) => {
        const bytes = encode(p);
        expect(bytes.length).toBe(encodingLength(p));
        expect(decode(bytes)).toEqual(p);
      }),
      { numRuns: 2000 },
    );
  });

  it('encodes at an offset inside a larger buffer without touching the bytes around it', () => {
    fc.assert(
      fc.property(packet, fc.integer({ min: 0, max: 16 }), (p, offset) => {
        const buf = new Uint8Array(offset + encodingLength(p) + 3).fill(0xee);
        const out = encode(p, buf, offset);
        expect(buf.subarray(0, offset).every((b) => b === 0xee)).toBe(true);
        expect(buf.subarray(offset + out.length).every((b) => b === 0xee)).toBe(true);
        expect(decode(out)).toEqual(p);
      }),
      { numRuns: 500 },
    );
  });

  it('any byte string either decodes or throws DecodeError, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        try {
          decode(bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(DecodeError);
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('a mutated datagram decodes or throws DecodeError, and a decoded ACK or DATA re-encodes to the same bytes', () => {
    fc.assert(
      fc.property(packet, fc.integer({ min: 0, max: 1000 }), (p, seed) => {
        const bytes = encode(p);
        const mutated = Uint8Array.from(bytes);
        const at = seed % mutated.length;
        if (mutated.length > 0) mutated[at] = mutated[at]! ^ (1 + (seed % 255));
        try {
          const again = decode(mutated);
          if (again.op === 'ACK' || again.op === 'DATA') expect(encode(again)).toEqual(mutated);
        } catch (err) {
          expect(err).toBeInstanceOf(DecodeError);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
