import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromNetascii, NetasciiDecoder, NetasciiEncoder, toNetascii } from '../../../src/tftp/netascii.js';

const bytes = (text: string) => Uint8Array.from(Buffer.from(text, 'latin1'));
const text = (data: Uint8Array) => Buffer.from(data).toString('latin1');

describe('netascii (RFC 1350 / RFC 764)', () => {
  it('turns LF into CR LF and a bare CR into CR NUL', () => {
    expect(text(toNetascii(bytes('a\nb\rc\r\n')))).toBe('a\r\nb\r\0c\r\0\r\n');
  });

  it('leaves text without CR or LF as it is', () => {
    const plain = bytes('boot_serial=YES');
    expect(toNetascii(plain)).toBe(plain);
  });

  it('decodes CR LF to LF and CR NUL to CR, keeping a CR before anything else', () => {
    expect(text(fromNetascii(bytes('a\r\nb\r\0c\rd\r')))).toBe('a\nb\rc\rd\r');
  });

  it('round-trips any bytes, however the wire is cut into chunks', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 6 }), (data, cuts) => {
        const wire = toNetascii(data);
        const decoder = new NetasciiDecoder();
        const points = [...new Set(cuts.map((c) => Math.min(c, wire.length)))].sort((a, b) => a - b);
        const parts: Uint8Array[] = [];
        let from = 0;
        for (const point of [...points, wire.length]) {
          parts.push(decoder.push(wire.subarray(from, point)));
          from = point;
        }
        parts.push(decoder.end());
        expect(Buffer.concat(parts)).toEqual(Buffer.from(data));
      }),
      { numRuns: 2000 },
    );
  });

  it('encodes chunk by chunk to the same bytes as all at once', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 50 }), { maxLength: 8 }), (chunks) => {
        const encoder = new NetasciiEncoder();
        const streamed = Buffer.concat(chunks.map((c) => encoder.push(c)));
        expect(streamed).toEqual(Buffer.from(toNetascii(Buffer.concat(chunks))));
      }),
      { numRuns: 1000 },
    );
  });
});
