/**
 * ONC RPC version 2 messages (RFC 5531): a CALL with AUTH_NONE or AUTH_SYS (AUTH_UNIX) credentials,
 * and the REPLY, decoded into either the procedure's result bytes or a precise reason it failed.
 * Pure: the UDP transport lives in services/nfs/rpc-client.ts.
 */
import { XdrError, XdrReader, XdrWriter } from './xdr.js';

export const RPC_VERSION = 2;
const CALL = 0;
const REPLY = 1;

/** RFC 5531 §8.2 auth_flavor. */
export const AuthFlavor = { none: 0, sys: 1 } as const;

export interface AuthSys {
  /** Arbitrary id the server may use to cache credentials. */
  stamp: number;
  /** Client host name, at most 255 bytes (RFC 5531 appendix A). */
  machine: string;
  uid: number;
  gid: number;
  /** At most 16 supplementary groups. */
  gids: readonly number[];
}

export interface RpcCall {
  xid: number;
  prog: number;
  vers: number;
  proc: number;
  /** undefined: AUTH_NONE. */
  auth?: AuthSys;
  /** The procedure's XDR-encoded arguments. */
  args: Uint8Array;
}

export function encodeAuthSys(auth: AuthSys): Buffer {
  if (auth.gids.length > 16) throw new XdrError(`AUTH_SYS allows 16 groups, got ${auth.gids.length}`);
  const w = new XdrWriter().uint(auth.stamp).string(auth.machine, 255).uint(auth.uid).uint(auth.gid).uint(auth.gids.length);
  for (const g of auth.gids) w.uint(g);
  return w.bytes();
}

export function decodeAuthSys(body: Uint8Array): AuthSys {
  const r = new XdrReader(body);
  const stamp = r.uint('stamp');
  const machine = r.string('machinename', 255);
  const uid = r.uint('uid');
  const gid = r.uint('gid');
  const n = r.uint('gids length');
  if (n > 16) throw new XdrError(`AUTH_SYS: ${n} groups, at most 16 allowed`);
  const gids: number[] = [];
  for (let i = 0; i < n; i++) gids.push(r.uint('gid'));
  return { stamp, machine, uid, gid, gids };
}

export function encodeCall(call: RpcCall): Buffer {
  const w = new XdrWriter().uint(call.xid).uint(CALL).uint(RPC_VERSION).uint(call.prog).uint(call.vers).uint(call.proc);
  if (call.auth) w.uint(AuthFlavor.sys).opaque(encodeAuthSys(call.auth), 400);
  else w.uint(AuthFlavor.none).opaque(new Uint8Array(0));
  // Verifier: AUTH_NONE, as AUTH_SYS has no verifier of its own.
  w.uint(AuthFlavor.none).opaque(new Uint8Array(0));
  return Buffer.concat([w.bytes(), call.args]);
}

/** The decoded call (used by tests and by servers that want to look at what a client sent). */
export function decodeCall(data: Uint8Array): RpcCall & { credFlavor: number } {
  const r = new XdrReader(data);
  const xid = r.uint('xid');
  const type = r.uint('msg_type');
  if (type !== CALL) throw new XdrError(`not a CALL (msg_type ${type})`);
  const rpcvers = r.uint('rpcvers');
  if (rpcvers !== RPC_VERSION) throw new XdrError(`RPC version ${rpcvers}, expected 2`);
  const prog = r.uint('prog');
  const vers = r.uint('vers');
  const proc = r.uint('proc');
  const credFlavor = r.uint('cred flavor');
  const cred = r.opaque('cred body', 400);
  r.uint('verf flavor');
  r.opaque('verf body', 400);
  const args = Buffer.from(data.subarray(r.position));
  return { xid, prog, vers, proc, credFlavor, args, ...(credFlavor === AuthFlavor.sys ? { auth: decodeAuthSys(cred) } : {}) };
}

/** RFC 5531 §9 accept_stat and reject_stat, auth_stat. */
export const acceptStatNames: Record<number, string> = {
  1: 'PROG_UNAVAIL (the program is not served here)',
  2: 'PROG_MISMATCH (the program version is not supported)',
  3: 'PROC_UNAVAIL (no such procedure)',
  4: 'GARBAGE_ARGS (the server could not decode the arguments)',
  5: 'SYSTEM_ERR (server error)',
};
export const authStatNames: Record<number, string> = {
  1: 'AUTH_BADCRED',
  2: 'AUTH_REJECTEDCRED',
  3: 'AUTH_BADVERF',
  4: 'AUTH_REJECTEDVERF',
  5: 'AUTH_TOOWEAK (the server wants stronger credentials, e.g. a reserved source port)',
  6: 'AUTH_INVALIDRESP',
  7: 'AUTH_FAILED',
};

export type RpcReply =
  | { xid: number; ok: true; result: Buffer }
  | { xid: number; ok: false; reason: string; kind: 'accept' | 'rpc-mismatch' | 'auth'; stat: number; low?: number; high?: number };

/** Read just the xid and message type, so a transport can drop datagrams that are not its replies. */
export function peekReply(data: Uint8Array): { xid: number; isReply: boolean } | undefined {
  if (data.length < 8) return undefined;
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return { xid: b.readUInt32BE(0), isReply: b.readUInt32BE(4) === REPLY };
}

export function decodeReply(data: Uint8Array): RpcReply {
  const r = new XdrReader(data);
  const xid = r.uint('xid');
  const type = r.uint('msg_type');
  if (type !== REPLY) throw new XdrError(`not a REPLY (msg_type ${type})`);
  const replyStat = r.uint('reply_stat');
  if (replyStat === 0) {
    r.uint('verf flavor');
    r.opaque('verf body', 400);
    const stat = r.uint('accept_stat');
    if (stat === 0) return { xid, ok: true, result: Buffer.from(data.subarray(r.position)) };
    if (stat === 2) {
      const low = r.uint('low version');
      const high = r.uint('high version');
      return { xid, ok: false, kind: 'accept', stat, low, high, reason: `${acceptStatNames[2]}: versions ${low}-${high}` };
    }
    return { xid, ok: false, kind: 'accept', stat, reason: acceptStatNames[stat] ?? `accept_stat ${stat}` };
  }
  if (replyStat === 1) {
    const reject = r.uint('reject_stat');
    if (reject === 0) {
      const low = r.uint('low version');
      const high = r.uint('high version');
      return { xid, ok: false, kind: 'rpc-mismatch', stat: 0, low, high, reason: `RPC_MISMATCH: server speaks RPC ${low}-${high}` };
    }
    if (reject === 1) {
      const stat = r.uint('auth_stat');
      return { xid, ok: false, kind: 'auth', stat, reason: `AUTH_ERROR: ${authStatNames[stat] ?? `auth_stat ${stat}`}` };
    }
    throw new XdrError(`reject_stat ${reject} is not defined`);
  }
  throw new XdrError(`reply_stat ${replyStat} is not defined`);
}

/** Encode a reply (for tests and stand-in servers). */
export function encodeAcceptedReply(xid: number, result: Uint8Array, acceptStat = 0): Buffer {
  const w = new XdrWriter().uint(xid).uint(REPLY).uint(0).uint(AuthFlavor.none).opaque(new Uint8Array(0)).uint(acceptStat);
  return Buffer.concat([w.bytes(), result]);
}

export function encodeDeniedReply(xid: number, authStat: number): Buffer {
  return new XdrWriter().uint(xid).uint(REPLY).uint(1).uint(1).uint(authStat).bytes();
}
