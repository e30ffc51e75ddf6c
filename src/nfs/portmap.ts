/** Portmapper version 2 GETPORT (RFC 1833 §3): which port a program version listens on, 0 when none. */
import { XdrReader, XdrWriter } from './xdr.js';

export const PMAP_PROG = 100000;
export const PMAP_VERS = 2;
export const PMAP_PORT = 111;
export const PMAPPROC_GETPORT = 3;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

export interface Mapping {
  prog: number;
  vers: number;
  prot: typeof IPPROTO_TCP | typeof IPPROTO_UDP;
}

export function encodeGetport(m: Mapping): Buffer {
  // The port field of the argument is ignored by GETPORT.
  return new XdrWriter().uint(m.prog).uint(m.vers).uint(m.prot).uint(0).bytes();
}

export function decodeGetportArgs(data: Uint8Array): Mapping & { port: number } {
  const r = new XdrReader(data);
  const prog = r.uint('prog');
  const vers = r.uint('vers');
  const prot = r.uint('prot') as Mapping['prot'];
  return { prog, vers, prot, port: r.uint('port') };
}

export function decodeGetportResult(data: Uint8Array): number {
  const port = new XdrReader(data).uint('port');
  if (port > 65535) throw new RangeError(`portmapper returned port ${port}`);
  return port;
}

export function encodeGetportResult(port: number): Buffer {
  return new XdrWriter().uint(port).bytes();
}
