/**
 * ONC RPC over UDP: one call, one reply, retransmitted with the same xid on a doubling timeout, and
 * a clear error at the end instead of a hang. As root the socket binds a reserved port, counting down
 * from 1023 like the FreeBSD loader does, because mountd refuses MOUNT calls from other ports unless
 * it runs with -n (FREEBSD.md). The codecs are in src/nfs/.
 */
import { createSocket, type Socket } from 'node:dgram';
import { randomInt } from 'node:crypto';
import { hostname } from 'node:os';
import { BeError } from '../../src/errors.js';
import { decodeReply, encodeCall, peekReply, type AuthSys } from '../../src/nfs/rpc.js';

export interface RpcTarget {
  host: string;
  port: number;
}

export interface RpcProcedure {
  prog: number;
  vers: number;
  proc: number;
  args: Uint8Array;
  /** What the call is, for messages: "MOUNT v3 MNT /ROOT/head". */
  label: string;
}

export interface RpcOptions {
  /** First wait for a reply, doubled on each retransmission (capped at 8 s). Default 1000 ms. */
  timeoutMs?: number;
  /** Retransmissions after the first send. Default 3. */
  retries?: number;
  /** Bind a reserved source port (512-1023). Default: when running as root. */
  reservedPort?: boolean;
  /** AUTH_SYS credentials; default uid/gid of this process, as the loader sends them (root: 0/0). undefined → AUTH_SYS default; null → AUTH_NONE. */
  auth?: AuthSys | null;
  signal?: AbortSignal;
}

export function defaultAuth(): AuthSys {
  return {
    stamp: Math.floor(Date.now() / 1000) >>> 0,
    machine: hostname().slice(0, 255),
    uid: process.getuid?.() ?? 0,
    gid: process.getgid?.() ?? 0,
    gids: [],
  };
}

function bindSocket(socket: Socket, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    socket.once('error', onError);
    socket.bind({ port, exclusive: true }, () => {
      socket.off('error', onError);
      resolve();
    });
  });
}

/** A udp4 socket on a reserved port when asked (first free one counting down from 1023), else any port. */
async function openSocket(reserved: boolean): Promise<Socket> {
  if (!reserved) {
    const socket = createSocket('udp4');
    await bindSocket(socket, 0);
    return socket;
  }
  for (let port = 1023; port >= 512; port--) {
    const socket = createSocket('udp4');
    try {
      await bindSocket(socket, port);
      return socket;
    } catch (err) {
      socket.close();
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM')
        throw new BeError('E_BIND', 'cannot bind a reserved UDP port (512-1023): run as root, or ask without a reserved port');
      if (code !== 'EADDRINUSE') throw err;
    }
  }
  throw new BeError('E_BIND', 'every reserved UDP port from 1023 down to 512 is in use');
}

/** Make one call and return the procedure's result bytes; rejects with one clear line. */
export async function rpcCall(target: RpcTarget, procedure: RpcProcedure, options: RpcOptions = {}): Promise<Buffer> {
  const where = `${target.host}:${target.port}`;
  if (options.signal?.aborted) throw new BeError('E_NET', `${procedure.label} to ${where}: aborted`);
  const reserved = options.reservedPort ?? process.getuid?.() === 0;
  const auth = options.auth === null ? undefined : (options.auth ?? defaultAuth());
  const xid = randomInt(1, 0xffffffff);
  const message = encodeCall({ xid, prog: procedure.prog, vers: procedure.vers, proc: procedure.proc, args: procedure.args, ...(auth ? { auth } : {}) });
  const socket = await openSocket(reserved);
  const retries = options.retries ?? 3;
  let wait = options.timeoutMs ?? 1000;
  let tries = 0;
  const started = Date.now();

  return new Promise<Buffer>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (err: Error | undefined, value?: Buffer) => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      socket.close();
      if (err) reject(err);
      else resolve(value!);
    };
    const onAbort = () => finish(new BeError('E_NET', `${procedure.label} to ${where}: aborted`));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    // Aborted while the socket was being bound.
    if (options.signal?.aborted) {
      onAbort();
      return;
    }

    const send = () => {
      tries++;
      socket.send(message, (err) => {
        if (err) finish(new BeError('E_NET', `${procedure.label} to ${where}: cannot send: ${(err as NodeJS.ErrnoException).code ?? err.message}`));
      });
      timer = setTimeout(() => {
        if (tries > retries) {
          finish(new BeError('E_NET', `${procedure.label} to ${where}: no reply after ${tries} tries in ${Date.now() - started} ms`));
          return;
        }
        wait = Math.min(wait * 2, 8000);
        send();
      }, wait);
    };

    socket.on('message', (data) => {
      const head = peekReply(data);
      // Not ours (an old retransmission's duplicate reply has the same xid and is harmless).
      if (!head || head.xid !== xid || !head.isReply) return;
      let reply;
      try {
        reply = decodeReply(data);
      } catch (err) {
        finish(new BeError('E_NET', `${procedure.label} to ${where}: malformed reply: ${(err as Error).message}`));
        return;
      }
      if (reply.ok) finish(undefined, reply.result);
      else finish(new BeError('E_NET', `${procedure.label} to ${where}: ${reply.reason}`));
    });
    // A connected UDP socket reports the ICMP port-unreachable of a closed port as ECONNREFUSED.
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'ECONNREFUSED' ? 'connection refused (nothing listens there)' : (err.code ?? err.message);
      finish(new BeError('E_NET', `${procedure.label} to ${where}: ${why}`));
    });
    socket.connect(target.port, target.host, () => {
      if (!done) send();
    });
  });
}
