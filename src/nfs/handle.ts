/**
 * NFS file handles as the FreeBSD kernel reads them from the loader's environment
 * (sys/nfs/nfs_diskless.c, decode_nfshandle): `boot.nfsroot.nfshandle` is `X`, then two hex digits per
 * byte, then a closing `X` (without it the kernel says "no NFS handle"). With
 * `boot.nfsroot.nfshandlelen` (1..64) the kernel takes the NFSv3 path and the decoded length must equal
 * it; without it, the NFSv2 path and a handle of exactly 32 bytes (NFSX_V2FH).
 */

export const NFSX_V2FH = 32;
export const NFSX_V3FHMAX = 64;

export class HandleError extends Error {
  override readonly name = 'HandleError';
}

/** `X` + lowercase hex + `X`. */
export function formatHandle(handle: Uint8Array): string {
  if (handle.length < 1 || handle.length > NFSX_V3FHMAX) throw new HandleError(`an NFS handle is 1-${NFSX_V3FHMAX} bytes, got ${handle.length}`);
  return `X${Buffer.from(handle).toString('hex')}X`;
}

/**
 * The NFSv2 form for kernels that know only NFSv2 diskless boots (7.x and older): the handle padded
 * with zeros to 32 bytes, which is how a FreeBSD server pads its 28-byte fhandle_t for NFSv2.
 */
export function toV2Handle(handle: Uint8Array): Buffer {
  if (handle.length > NFSX_V2FH) throw new HandleError(`a ${handle.length}-byte handle does not fit the 32-byte NFSv2 form`);
  const out = Buffer.alloc(NFSX_V2FH);
  out.set(handle);
  return out;
}

/**
 * Parse a handle the way the kernel does, refusing what it would refuse: the leading and closing `X`,
 * whole hex byte pairs (the kernel's sscanf("%2x") accepts either case), and the length rules above.
 * `declaredLength` is boot.nfsroot.nfshandlelen (undefined: the NFSv2 path).
 */
export function parseHandle(text: string, declaredLength?: number): Buffer {
  if (declaredLength !== undefined && (!Number.isInteger(declaredLength) || declaredLength < 1 || declaredLength > NFSX_V3FHMAX)) {
    throw new HandleError(`bad NFS handle len ${declaredLength}: must be 1-${NFSX_V3FHMAX}`);
  }
  if (text.length < 2 || !text.startsWith('X')) throw new HandleError('no NFS handle: it must start with "X"');
  if (!text.endsWith('X') || text.length < 3) throw new HandleError('no NFS handle: it must end with "X"');
  const hex = text.slice(1, -1);
  if (!/^[0-9a-fA-F]*$/.test(hex)) throw new HandleError('no NFS handle: only hex digits may stand between the two "X"');
  if (hex.length % 2) throw new HandleError('no NFS handle: an odd number of hex digits');
  const bytes = Buffer.from(hex, 'hex');
  const max = declaredLength ?? NFSX_V2FH;
  if (bytes.length > max || bytes.length === 0) throw new HandleError(`bad NFS handle len: ${bytes.length} bytes, expected ${max}`);
  if (bytes.length !== max)
    throw new HandleError(
      `bad NFS handle len: ${bytes.length} bytes decoded, ${declaredLength === undefined ? 'the NFSv2 path needs 32' : `nfshandlelen says ${declaredLength}`}`,
    );
  return bytes;
}

/** The loader variables that carry a handle to the kernel. */
export function handleEnv(handle: Uint8Array, version: 2 | 3 = 3): Record<string, string> {
  if (version === 2) return { 'boot.nfsroot.nfshandle': formatHandle(toV2Handle(handle)) };
  return { 'boot.nfsroot.nfshandle': formatHandle(handle), 'boot.nfsroot.nfshandlelen': String(handle.length) };
}
