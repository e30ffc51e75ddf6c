/** Decoding whole reply datagrams captured from nfs-ganesha 4.3 (test/fixtures/nfs/capture.sh). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatHandle } from '../../../src/nfs/handle.js';
import { decodeMntResult } from '../../../src/nfs/mount.js';
import { decodeFsinfoResult, decodeGetattrResult } from '../../../src/nfs/nfs3.js';
import { decodeGetportResult } from '../../../src/nfs/portmap.js';
import { decodeReply } from '../../../src/nfs/rpc.js';

const capture = (name: string) => Buffer.from(readFileSync(new URL(`../../fixtures/nfs/ganesha-${name}-reply.hex`, import.meta.url), 'utf8').trim(), 'hex');

function result(name: string): Buffer {
  const reply = decodeReply(capture(name));
  if (!reply.ok) throw new Error(reply.reason);
  return reply.result;
}

describe('replies captured from nfs-ganesha', () => {
  it('portmapper GETPORT: where MOUNT v3 listens over UDP', () => {
    const reply = decodeReply(capture('getport-mount3-udp'));
    expect(reply).toMatchObject({ xid: 0x5be00001, ok: true });
    const port = decodeGetportResult(result('getport-mount3-udp'));
    expect(port).toBeGreaterThan(0);
    expect(port).toBeLessThan(65536);
  });

  it('MOUNT v3 MNT: a 24-byte VFS handle carrying the Export_Id, AUTH_SYS offered', () => {
    const mnt = decodeMntResult(result('mnt'));
    if (!('handle' in mnt)) throw new Error('expected a handle');
    expect(mnt.handle).toHaveLength(24);
    // ganesha's handle: version byte 0x43, flags, then the 16-bit export id (4242 = 0x1092).
    expect(mnt.handle.readUInt16BE(2)).toBe(4242);
    expect(mnt.authFlavors).toEqual([1]);
    expect(formatHandle(mnt.handle)).toBe('X4300109212446130a887ee9c10d5010fa021002546460d00X');
  });

  it('MOUNT v3 MNT of a path that is not exported: MNT3ERR_ACCES', () => {
    expect(decodeMntResult(result('mnt-denied'))).toEqual({ status: 13, message: expect.stringMatching(/^MNT3ERR_ACCES/) });
  });

  it('NFSv3 GETATTR and FSINFO with that handle', () => {
    const attr = decodeGetattrResult(result('getattr'));
    expect(attr).toMatchObject({ status: 0, value: { type: 2, mode: 0o755, uid: 0, gid: 0 } });
    const info = decodeFsinfoResult(result('fsinfo'));
    expect(info.status).toBe(0);
    if (!('value' in info)) throw new Error('expected FSINFO');
    expect(info.value.attributes?.type).toBe(2);
    expect(info.value.rtmax).toBeGreaterThanOrEqual(info.value.rtpref);
    expect(info.value.maxfilesize).toBeGreaterThan(0n);
  });

  it('a handle naming no export is NFS3ERR_STALE; MOUNT v4 is PROG_MISMATCH 1-3', () => {
    expect(decodeGetattrResult(result('getattr-bad-handle'))).toEqual({ status: 70, message: expect.stringMatching(/^NFS3ERR_STALE/) });
    expect(decodeReply(capture('mount-v4-progmismatch'))).toMatchObject({ ok: false, kind: 'accept', stat: 2, low: 1, high: 3 });
  });
});
