import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeMntArgs, decodeMntResult, encodeMntArgs, encodeMntResult, MOUNT_PROG, MOUNT_V3, MOUNTPROC3_MNT } from '../../../src/nfs/mount.js';
import { decodeFsinfoResult, decodeGetattrResult, encodeHandleArgs } from '../../../src/nfs/nfs3.js';
import { decodeGetportArgs, decodeGetportResult, encodeGetport, IPPROTO_UDP } from '../../../src/nfs/portmap.js';
import { decodeCall, decodeReply, encodeAcceptedReply, encodeCall, encodeDeniedReply, peekReply } from '../../../src/nfs/rpc.js';
import { XdrReader, XdrWriter } from '../../../src/nfs/xdr.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('XDR (RFC 4506)', () => {
  it('pads opaque data and strings to 4 bytes', () => {
    expect(new XdrWriter().string('/ROOT/head').bytes()).toEqual(hex('0000000a 2f524f4f 542f6865 61640000'));
    expect(new XdrWriter().opaque(Buffer.from([1, 2, 3, 4])).bytes()).toEqual(hex('00000004 01020304'));
    expect(new XdrWriter().int(-1).uint(0xffffffff).bool(true).bytes()).toEqual(hex('ffffffff ffffffff 00000001'));
  });

  it('round-trips and bounds-checks every read', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), fc.string(), fc.nat(), (bytes, text, n) => {
        const r = new XdrReader(new XdrWriter().opaque(bytes).string(text).uint(n).bytes());
        expect(r.opaque()).toEqual(Buffer.from(bytes));
        expect(r.string()).toBe(text);
        expect(r.uint()).toBe(n);
        expect(r.remaining).toBe(0);
      }),
    );
    expect(() => new XdrReader(hex('00000008 0102')).opaque('fhandle3')).toThrow(/truncated: fhandle3 needs 8 bytes at offset 4, 2 left/);
    expect(() => new XdrReader(hex('00000041')).opaque('fhandle3', 64)).toThrow(/fhandle3: length 65 exceeds its limit of 64/);
    expect(() => new XdrReader(hex('00000002')).bool('flag')).toThrow(/not a boolean/);
  });
});

describe('ONC RPC (RFC 5531)', () => {
  // A MOUNT v3 MNT call for /ROOT/head with AUTH_SYS uid 0 gid 0 from host "be", written out from
  // RFC 5531 §9 (call body) and appendix A (authsys_parms), RFC 1813 §5.2.1 (dirpath).
  const golden = hex(`
    12345678 00000000 00000002 000186a5 00000003 00000001
    00000001 00000018  00000000 00000002 62650000 00000000 00000000 00000000
    00000000 00000000
    0000000a 2f524f4f 542f6865 61640000`);

  it('encodes a MOUNT call byte for byte', () => {
    const call = encodeCall({
      xid: 0x12345678,
      prog: MOUNT_PROG,
      vers: MOUNT_V3,
      proc: MOUNTPROC3_MNT,
      auth: { stamp: 0, machine: 'be', uid: 0, gid: 0, gids: [] },
      args: encodeMntArgs('/ROOT/head'),
    });
    expect(call).toEqual(golden);
    const back = decodeCall(call);
    expect(back).toMatchObject({ xid: 0x12345678, prog: 100005, vers: 3, proc: 1, credFlavor: 1, auth: { machine: 'be', uid: 0, gid: 0, gids: [] } });
    expect(decodeMntArgs(back.args)).toBe('/ROOT/head');
  });

  it('AUTH_NONE calls and too many groups', () => {
    expect(encodeCall({ xid: 1, prog: 100000, vers: 2, proc: 0, args: Buffer.alloc(0) })).toEqual(
      hex('00000001 00000000 00000002 000186a0 00000002 00000000 00000000 00000000 00000000 00000000'),
    );
    expect(() =>
      encodeCall({ xid: 1, prog: 1, vers: 1, proc: 1, auth: { stamp: 0, machine: 'x', uid: 0, gid: 0, gids: Array(17).fill(0) }, args: Buffer.alloc(0) }),
    ).toThrow(/16 groups/);
  });

  it('decodes accepted, denied and failed replies into reasons', () => {
    expect(decodeReply(encodeAcceptedReply(7, hex('0000036f')))).toEqual({ xid: 7, ok: true, result: hex('0000036f') });
    expect(decodeReply(encodeAcceptedReply(7, Buffer.alloc(0), 1))).toMatchObject({
      ok: false,
      kind: 'accept',
      reason: expect.stringMatching(/^PROG_UNAVAIL/),
    });
    expect(decodeReply(encodeAcceptedReply(7, hex('00000002 00000004'), 2))).toMatchObject({ ok: false, reason: expect.stringMatching(/versions 2-4$/) });
    expect(decodeReply(encodeDeniedReply(9, 5))).toMatchObject({ xid: 9, ok: false, kind: 'auth', reason: expect.stringMatching(/^AUTH_ERROR: AUTH_TOOWEAK/) });
    expect(decodeReply(hex('00000009 00000001 00000001 00000000 00000002 00000002'))).toMatchObject({ ok: false, kind: 'rpc-mismatch' });
    expect(() => decodeReply(golden)).toThrow(/not a REPLY/);
    expect(() => decodeReply(hex('00000009 00000001 00000000 00000000'))).toThrow(/truncated/);
    expect(peekReply(encodeDeniedReply(9, 5))).toEqual({ xid: 9, isReply: true });
    expect(peekReply(hex('0001'))).toBeUndefined();
  });
});

describe('portmapper GETPORT (RFC 1833)', () => {
  it('asks for a program version over UDP and reads the port', () => {
    expect(encodeGetport({ prog: MOUNT_PROG, vers: 3, prot: IPPROTO_UDP })).toEqual(hex('000186a5 00000003 00000011 00000000'));
    expect(decodeGetportArgs(encodeGetport({ prog: 100003, vers: 3, prot: 6 }))).toEqual({ prog: 100003, vers: 3, prot: 6, port: 0 });
    expect(decodeGetportResult(hex('00000801'))).toBe(2049);
    expect(decodeGetportResult(hex('00000000'))).toBe(0);
    expect(() => decodeGetportResult(hex('00010000'))).toThrow(/port 65536/);
  });
});

describe('MOUNT v3 MNT result (RFC 1813 §5.2.1)', () => {
  it('reads a 28-byte handle and the auth flavors', () => {
    const handle = Buffer.alloc(28, 0xab);
    const bytes = encodeMntResult({ status: 0, handle, authFlavors: [1] });
    expect(bytes).toEqual(Buffer.concat([hex('00000000 0000001c'), handle, hex('00000001 00000001')]));
    expect(decodeMntResult(bytes)).toEqual({ status: 0, handle, authFlavors: [1] });
  });

  it('names a failure status', () => {
    expect(decodeMntResult(hex('0000000d'))).toEqual({ status: 13, message: expect.stringMatching(/^MNT3ERR_ACCES/) });
    expect(decodeMntResult(hex('00000002'))).toEqual({ status: 2, message: expect.stringMatching(/^MNT3ERR_NOENT/) });
    expect(decodeMntResult(hex('00000063'))).toEqual({ status: 99, message: 'mountstat3 99' });
  });
});

describe('NFSv3 GETATTR and FSINFO (RFC 1813 §3.3.1, §3.3.19)', () => {
  const fattr = new XdrWriter().uint(2).uint(0o755).uint(3).uint(0).uint(0).bytes();
  const fattrTail = Buffer.concat([
    hex('0000000000000200 0000000000000400 00000000 00000000 00000000000000aa 0000000000000004'),
    hex('00000001 00000000 00000002 00000000 00000003 00000000'),
  ]);
  const attrs = Buffer.concat([fattr, fattrTail]);

  it('GETATTR: a directory', () => {
    expect(encodeHandleArgs(Buffer.alloc(28, 1))).toHaveLength(32);
    const result = decodeGetattrResult(Buffer.concat([hex('00000000'), attrs]));
    expect(result).toMatchObject({ status: 0, value: { type: 2, mode: 0o755, nlink: 3, size: 512n, fsid: 0xaan, fileid: 4n, mtime: [2, 0] } });
    expect(decodeGetattrResult(hex('00002711'))).toEqual({ status: 10001, message: expect.stringMatching(/^NFS3ERR_BADHANDLE/) });
    expect(decodeGetattrResult(hex('00000046'))).toEqual({ status: 70, message: expect.stringMatching(/^NFS3ERR_STALE/) });
  });

  it('FSINFO: limits after the optional attributes', () => {
    const body = hex('00010000 00010000 00000001 00010000 00010000 00000001 00010000 ffffffffffffffff 00000000 00000001 0000001b');
    const result = decodeFsinfoResult(Buffer.concat([hex('00000000 00000001'), attrs, body]));
    expect(result).toMatchObject({
      status: 0,
      value: { rtmax: 65536, wtpref: 65536, maxfilesize: 0xffffffffffffffffn, properties: 0x1b, attributes: { type: 2 } },
    });
    expect(decodeFsinfoResult(Buffer.concat([hex('00000000 00000000'), body]))).toMatchObject({ status: 0, value: { rtmax: 65536 } });
    expect(decodeFsinfoResult(hex('00000046 00000000'))).toMatchObject({ status: 70 });
  });
});
