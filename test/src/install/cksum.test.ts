import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Cksum } from '../../../src/install/cksum.js';

/** cksum(1) from coreutils, the real peer: prints "CRC SIZE". */
function posixCksum(data: Uint8Array): { crc: number; size: number } {
  const [crc, size] = execFileSync('cksum', { input: data, encoding: 'utf8' }).trim().split(/\s+/);
  return { crc: Number(crc), size: Number(size) };
}

describe('POSIX cksum', () => {
  it('matches the known values and cksum(1) on chunked and large inputs', () => {
    expect(new Cksum().digest()).toEqual({ crc: 4294967295, size: 0 });
    expect(new Cksum().update(new TextEncoder().encode('123456789')).digest()).toEqual({ crc: 930766865, size: 9 });
    const big = randomBytes(300_000);
    const chunked = new Cksum();
    for (let at = 0; at < big.length; at += 65_536) chunked.update(big.subarray(at, at + 65_536));
    expect(chunked.digest()).toEqual(posixCksum(big));
  });

  it('agrees with cksum(1) on arbitrary inputs', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (data) => {
        expect(new Cksum().update(data).digest()).toEqual(posixCksum(data));
      }),
      { numRuns: 60 },
    );
  });
});
