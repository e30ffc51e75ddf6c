import { describe, expect, it } from 'vitest';
import { negotiate, transferMode } from '../../../src/tftp/options.js';
import type { TftpOption } from '../../../src/tftp/packet.js';

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
    { asked: [['blksize', '1024'], ['blksize', '600']], blksize: 1024, oack: [['blksize', '1024']] },
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
    { asked: [['multicast', '1'], ['utimeout', '500'], ['rollover', '0']], oack: [] },
    // curl's request, in its order
    {
      asked: [['tsize', '0'], ['blksize', '1468'], ['timeout', '6']],
      size: 42,
      blksize: 1468,
      timeoutSec: 6,
      oack: [['tsize', '42'], ['blksize', '1468'], ['timeout', '6']],
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
