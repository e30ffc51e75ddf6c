import { describe, expect, it } from 'vitest';
import { wireError } from '../../../src/tftp/errors.js';
import { negotiate, transferMode } from '../../../src/tftp/options.js';
import { decode, encode, type TftpOption } from '../../../src/tftp/packet.js';

const limits = { maxBlksize: 1468, maxWindowsize: 16 };
const opts = (...pairs: [string, string][]): TftpOption[] => pairs.map(([name, value]) => ({ name, value }));

describe('option negotiation (RFC 2347, 2348, 2349, 7440)', () => {
  it('without options: RFC 1350 defaults and no OACK', () => {
    expect(negotiate([], limits, 100)).toEqual({ blksize: 512, windowsize: 1, timeoutSec: undefined, oack: [] });
  });

  const table: { asked: [string, string][]; size?: number; blksize?: number; windowsize?: number; timeoutSec?: number; oack: [string, string][] }[] = [
    { asked: [['blksize', '1468']], blksize: 1468, oack: [['blksize', '1468']] },
    { asked: [['blksize', '8']], blksize: 8, oack: [['blksize', '8']] },
    { asked: [['blksize', '65464']], blksize: 1468, oack: [['blksize', '1468']] },
    { asked: [['blksize', '7']], blksize: 512, oack: [] },
    { asked: [['blksize', '65465']], blksize: 512, oack: [] },
    { asked: [['blksize', '-1']], blksize: 512, oack: [] },
    { asked: [['blksize', '1e3']], blksize: 512, oack: [] },
    { asked: [['blksize', '']], blksize: 512, oack: [] },
    { asked: [['BLKSIZE', '1024']], blksize: 1024, oack: [['BLKSIZE', '1024']] },
    {
      asked: [
        ['blksize', '1024'],
        ['blksize', '600'],
      ],
      blksize: 1024,
      oack: [['blksize', '1024']],
    },
    { asked: [['windowsize', '64']], windowsize: 16, oack: [['windowsize', '16']] },
    { asked: [['windowsize', '4']], windowsize: 4, oack: [['windowsize', '4']] },
    { asked: [['windowsize', '0']], windowsize: 1, oack: [] },
    { asked: [['windowsize', '65536']], windowsize: 1, oack: [] },
    { asked: [['timeout', '6']], timeoutSec: 6, oack: [['timeout', '6']] },
    { asked: [['timeout', '0']], oack: [] },
    { asked: [['timeout', '256']], oack: [] },
    { asked: [['tsize', '0']], size: 123456, oack: [['tsize', '123456']] },
    { asked: [['tsize', '0']], size: 0, oack: [['tsize', '0']] },
    // A source that does not know the size (or netascii) leaves tsize out.
    { asked: [['tsize', '0']], oack: [] },
    {
      asked: [
        ['multicast', '1'],
        ['utimeout', '500'],
        ['rollover', '0'],
      ],
      oack: [],
    },
    // curl's request, in its order
    {
      asked: [
        ['tsize', '0'],
        ['blksize', '1468'],
        ['timeout', '6'],
      ],
      size: 42,
      blksize: 1468,
      timeoutSec: 6,
      oack: [
        ['tsize', '42'],
        ['blksize', '1468'],
        ['timeout', '6'],
      ],
    },
  ];
  it.each(table)('$asked (size $size) → OACK $oack', (row) => {
    const result = negotiate(opts(...row.asked), limits, row.size);
    expect(result.oack).toEqual(opts(...row.oack));
    expect(result.blksize).toBe(row.blksize ?? 512);
    expect(result.windowsize).toBe(row.windowsize ?? 1);
    expect(result.timeoutSec).toBe(row.timeoutSec);
  });

  it('clamps blksize to tftp.maxBlksize, never raises it', () => {
    expect(negotiate(opts(['blksize', '1468']), { maxBlksize: 512, maxWindowsize: 1 }, 0).blksize).toBe(512);
    expect(negotiate(opts(['windowsize', '8']), { maxBlksize: 512, maxWindowsize: 1 }, 0).oack).toEqual(opts(['windowsize', '1']));
  });

  it('knows the two modes, case-insensitively, and refuses mail', () => {
    expect(transferMode('OCTET')).toBe('octet');
    expect(transferMode('NetAscii')).toBe('netascii');
    expect(transferMode('mail')).toBeUndefined();
    expect(transferMode('binary')).toBeUndefined();
  });
});

/** Replies of tftpd-hpa 5.2 (`in.tftpd -L -B 1468`) captured on 127.0.0.1 for a 100,000-byte file named "file". */
describe('the same answers as tftpd-hpa', () => {
  const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
  const rrq = (options: string) => decode(Buffer.from('0001' + Buffer.from(`file\0octet\0${options}`).toString('hex'), 'hex'));

  it("OACK to curl's request (tsize, blksize 1468, timeout 6), byte for byte", () => {
    const request = rrq('tsize\x000\0blksize\x001468\0timeout\x006\0');
    if (request.op !== 'RRQ') throw new Error('not an RRQ');
    const { oack } = negotiate(request.options, limits, 100_000);
    expect(hex(encode({ op: 'OACK', options: oack }))).toBe('00067473697a650031303030303000626c6b73697a6500313436380074696d656f7574003600');
  });

  it('OACK clamping blksize 9000 to the server maximum 1468', () => {
    const request = rrq('blksize\x009000\0');
    if (request.op !== 'RRQ') throw new Error('not an RRQ');
    const { oack } = negotiate(request.options, limits, 100_000);
    expect(hex(encode({ op: 'OACK', options: oack }))).toBe('0006626c6b73697a65003134363800');
  });

  it('ERROR 1 for a missing file', () => {
    const { code, message } = wireError('E_TFTP_NOT_FOUND');
    expect(hex(encode({ op: 'ERROR', code, message }))).toBe('0005000146696c65206e6f7420666f756e6400');
  });
});
