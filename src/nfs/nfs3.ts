/**
 * NFS version 3 (RFC 1813), only GETATTR (§3.3.1) and FSINFO (§3.3.19): enough to prove that a
 * file handle obtained through MOUNT is one the server accepts.
 */
import { FHSIZE3 } from './mount.js';
import { XdrReader, XdrWriter } from './xdr.js';

export const NFS_PROG = 100003;
export const NFS_V3 = 3;
export const NFS3PROC_GETATTR = 1;
export const NFS3PROC_FSINFO = 19;

/** RFC 1813 §2.6 nfsstat3. */
export const nfsStatNames: Record<number, string> = {
  0: 'NFS3_OK',
  1: 'NFS3ERR_PERM',
  2: 'NFS3ERR_NOENT',
  5: 'NFS3ERR_IO',
  6: 'NFS3ERR_NXIO',
  13: 'NFS3ERR_ACCES',
  20: 'NFS3ERR_NOTDIR',
  22: 'NFS3ERR_INVAL',
  70: 'NFS3ERR_STALE (the server no longer knows this handle)',
  10001: 'NFS3ERR_BADHANDLE (the server cannot decode this handle)',
  10004: 'NFS3ERR_NOTSUPP',
  10006: 'NFS3ERR_SERVERFAULT',
};

/** RFC 1813 §2.5 ftype3. */
export const fileTypes = ['', 'REG', 'DIR', 'BLK', 'CHR', 'LNK', 'SOCK', 'FIFO'] as const;

export interface Fattr3 {
  type: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  size: bigint;
  used: bigint;
  rdev: [number, number];
  fsid: bigint;
  fileid: bigint;
  atime: [number, number];
  mtime: [number, number];
  ctime: [number, number];
}

export interface Fsinfo3 {
  rtmax: number;
  rtpref: number;
  rtmult: number;
  wtmax: number;
  wtpref: number;
  wtmult: number;
  dtpref: number;
  maxfilesize: bigint;
  timeDelta: [number, number];
  properties: number;
}

export type NfsResult<T> = { status: 0; value: T } | { status: number; message: string };

function failure(status: number): { status: number; message: string } {
  return { status, message: nfsStatNames[status] ?? `nfsstat3 ${status}` };
}

/** GETATTR3args and FSINFO3args are both just the nfs_fh3. */
export function encodeHandleArgs(handle: Uint8Array): Buffer {
  return new XdrWriter().opaque(handle, FHSIZE3).bytes();
}

function readFattr(r: XdrReader): Fattr3 {
  const time = (what: string): [number, number] => [r.uint(`${what} seconds`), r.uint(`${what} nseconds`)];
  return {
    type: r.uint('ftype'),
    mode: r.uint('mode'),
    nlink: r.uint('nlink'),
    uid: r.uint('uid'),
    gid: r.uint('gid'),
    size: r.uhyper('size'),
    used: r.uhyper('used'),
    rdev: [r.uint('rdev major'), r.uint('rdev minor')],
    fsid: r.uhyper('fsid'),
    fileid: r.uhyper('fileid'),
    atime: time('atime'),
    mtime: time('mtime'),
    ctime: time('ctime'),
  };
}

export function decodeGetattrResult(data: Uint8Array): NfsResult<Fattr3> {
  const r = new XdrReader(data);
  const status = r.uint('nfsstat3');
  if (status !== 0) return failure(status);
  return { status: 0, value: readFattr(r) };
}

export function decodeFsinfoResult(data: Uint8Array): NfsResult<Fsinfo3 & { attributes?: Fattr3 }> {
  const r = new XdrReader(data);
  const status = r.uint('nfsstat3');
  const attributes = r.bool('post_op_attr follows') ? readFattr(r) : undefined;
  if (status !== 0) return failure(status);
  const value: Fsinfo3 & { attributes?: Fattr3 } = {
    rtmax: r.uint('rtmax'),
    rtpref: r.uint('rtpref'),
    rtmult: r.uint('rtmult'),
    wtmax: r.uint('wtmax'),
    wtpref: r.uint('wtpref'),
    wtmult: r.uint('wtmult'),
    dtpref: r.uint('dtpref'),
    maxfilesize: r.uhyper('maxfilesize'),
    timeDelta: [r.uint('time_delta seconds'), r.uint('time_delta nseconds')],
    properties: r.uint('properties'),
  };
  if (attributes) value.attributes = attributes;
  return { status: 0, value };
}
