/**
 * MOUNT protocol version 3, procedure MNT (RFC 1813 §5.2.1): a path in, a file handle out. This is
 * the call the FreeBSD loader makes before it boots a kernel from NFS, so its handle is the guest's.
 */
import { XdrReader, XdrWriter } from './xdr.js';

export const MOUNT_PROG = 100005;
export const MOUNT_V3 = 3;
export const MOUNTPROC3_MNT = 1;
/** RFC 1813 §5.1: MNTPATHLEN and FHSIZE3. */
export const MNTPATHLEN = 1024;
export const FHSIZE3 = 64;

/** RFC 1813 §5.1.5 mountstat3, with what each means to someone exporting a boot environment. */
export const mountStatNames: Record<number, string> = {
  0: 'MNT3_OK',
  1: "MNT3ERR_PERM (not permitted: the client is not in the export's network, or its source port is not reserved)",
  2: 'MNT3ERR_NOENT (no such path, or the path is not exported)',
  5: 'MNT3ERR_IO (I/O error on the server)',
  13: 'MNT3ERR_ACCES (access denied: the path is not exported to this client)',
  20: 'MNT3ERR_NOTDIR (not a directory)',
  22: 'MNT3ERR_INVAL (invalid argument)',
  63: 'MNT3ERR_NAMETOOLONG (path too long)',
  10004: 'MNT3ERR_NOTSUPP (operation not supported)',
  10006: 'MNT3ERR_SERVERFAULT (server fault)',
};

export function encodeMntArgs(path: string): Buffer {
  return new XdrWriter().string(path, MNTPATHLEN).bytes();
}

export function decodeMntArgs(data: Uint8Array): string {
  return new XdrReader(data).string('dirpath', MNTPATHLEN);
}

export type MntResult = { status: 0; handle: Buffer; authFlavors: number[] } | { status: number; message: string };

export function decodeMntResult(data: Uint8Array): MntResult {
  const r = new XdrReader(data);
  const status = r.uint('mountstat3');
  if (status !== 0) return { status, message: mountStatNames[status] ?? `mountstat3 ${status}` };
  const handle = r.opaque('fhandle3', FHSIZE3);
  const n = r.uint('auth_flavors length');
  if (n > 64) throw new RangeError(`MNT reply lists ${n} auth flavors`);
  const authFlavors: number[] = [];
  for (let i = 0; i < n; i++) authFlavors.push(r.uint('auth flavor'));
  return { status: 0, handle, authFlavors };
}

export function encodeMntResult(result: MntResult): Buffer {
  const w = new XdrWriter().uint(result.status);
  if ('handle' in result) {
    w.opaque(result.handle, FHSIZE3).uint(result.authFlavors.length);
    for (const f of result.authFlavors) w.uint(f);
  }
  return w.bytes();
}
