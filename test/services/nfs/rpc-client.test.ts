import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeCall, encodeAcceptedReply, encodeDeniedReply } from '../../../src/nfs/rpc.js';
import { decodeMntArgs, encodeMntResult } from '../../../src/nfs/mount.js';
import { mountHandle } from '../../../services/nfs/handle.js';
import { rpcCall } from '../../../services/nfs/rpc-client.js';
import { encodeGetportResult } from '../../../src/nfs/portmap.js';
import { needPeers } from '../../lan/peers.js';

// Reserved source ports need root; under CI=true its absence fails instead of skipping.
const asRoot = needPeers('RPC from a reserved port', [], { root: true });
const sockets: Socket[] = [];

/** A stand-in RPC server on loopback: answer(call, from) returns the reply bytes or undefined to stay silent. */
async function server(answer: (data: Buffer, from: RemoteInfo) => Buffer | undefined): Promise<{ port: number; seen: { xid: number; from: RemoteInfo }[] }> {
  const socket = createSocket('udp4');
  sockets.push(socket);
  const seen: { xid: number; from: RemoteInfo }[] = [];
  socket.on('message', (data, from) => {
    seen.push({ xid: data.readUInt32BE(0), from });
    const reply = answer(data, from);
    if (reply) socket.send(reply, from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { port: socket.address().port, seen };
}

afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});

const proc = { prog: 100005, vers: 3, proc: 0, args: Buffer.alloc(0), label: 'MOUNT v3 NULL' };

describe('UDP RPC client', () => {
  it('retransmits with the same xid until a reply comes', async () => {
    let n = 0;
    const s = await server((data) => (++n < 3 ? undefined : encodeAcceptedReply(data.readUInt32BE(0), Buffer.from('ok!!'))));
    const result = await rpcCall({ host: '127.0.0.1', port: s.port }, proc, { timeoutMs: 20, retries: 5 });
    expect(result.toString()).toBe('ok!!');
    expect(s.seen).toHaveLength(3);
    expect(new Set(s.seen.map((x) => x.xid)).size).toBe(1);
  });

  it('ignores replies that are not its own', async () => {
    const s = await server((data) => {
      const xid = data.readUInt32BE(0);
      return Buffer.concat([encodeAcceptedReply((xid + 1) >>> 0, Buffer.from('bad!')), Buffer.alloc(0)]);
    });
    await expect(rpcCall({ host: '127.0.0.1', port: s.port }, proc, { timeoutMs: 10, retries: 2 })).rejects.toThrow(/no reply after 3 tries/);
    expect(s.seen).toHaveLength(3);
  });

  it('ends with one clear line: silence, a closed port, a denial, an abort', async () => {
    const silent = await server(() => undefined);
    await expect(rpcCall({ host: '127.0.0.1', port: silent.port }, proc, { timeoutMs: 10, retries: 1 })).rejects.toThrow(
      new RegExp(`^MOUNT v3 NULL to 127\\.0\\.0\\.1:${silent.port}: no reply after 2 tries in \\d+ ms$`),
    );
    const closed = createSocket('udp4');
    await new Promise<void>((r) => closed.bind(0, '127.0.0.1', r));
    const port = closed.address().port;
    closed.close();
    await expect(rpcCall({ host: '127.0.0.1', port }, proc, { timeoutMs: 1000, retries: 3 })).rejects.toThrow(/connection refused \(nothing listens there\)/);
    const denying = await server((data) => encodeDeniedReply(data.readUInt32BE(0), 5));
    await expect(rpcCall({ host: '127.0.0.1', port: denying.port }, proc)).rejects.toThrow(/AUTH_ERROR: AUTH_TOOWEAK/);
    const controller = new AbortController();
    const pending = rpcCall({ host: '127.0.0.1', port: silent.port }, proc, { timeoutMs: 5000, signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toThrow(/aborted/);
  });

  it.skipIf(asRoot.skip)('as root, calls from a reserved port with AUTH_SYS uid 0, as the FreeBSD loader does', async () => {
    let auth: unknown;
    const s = await server((data) => {
      auth = decodeCall(data).auth;
      return encodeAcceptedReply(data.readUInt32BE(0), Buffer.alloc(0));
    });
    await rpcCall({ host: '127.0.0.1', port: s.port }, proc);
    expect(s.seen[0]!.from.port).toBeLessThanOrEqual(1023);
    expect(s.seen[0]!.from.port).toBeGreaterThanOrEqual(512);
    expect(auth).toMatchObject({ uid: 0, gid: 0, gids: [] });
  });

  it('mountHandle: portmapper, then MNT; a MOUNT status becomes a clear error', async () => {
    const handle = Buffer.alloc(28, 7);
    const mountd = await server((data) => {
      const call = decodeCall(data);
      const path = decodeMntArgs(call.args);
      return encodeAcceptedReply(call.xid, encodeMntResult(path === '/ROOT/head' ? { status: 0, handle, authFlavors: [1] } : { status: 13, message: '' }));
    });
    const portmap = await server((data) => encodeAcceptedReply(data.readUInt32BE(0), encodeGetportResult(mountd.port)));
    const got = await mountHandle('127.0.0.1', '/ROOT/head', { portmapPort: portmap.port, reservedPort: false });
    expect(got).toMatchObject({ handle, mountPort: mountd.port, authFlavors: [1] });
    await expect(mountHandle('127.0.0.1', '/etc', { portmapPort: portmap.port, reservedPort: false })).rejects.toThrow(
      '127.0.0.1: MOUNT /etc refused: MNT3ERR_ACCES (access denied: the path is not exported to this client)',
    );
    const empty = await server((data) => encodeAcceptedReply(data.readUInt32BE(0), encodeGetportResult(0)));
    await expect(mountHandle('127.0.0.1', '/ROOT/head', { portmapPort: empty.port, reservedPort: false })).rejects.toThrow(
      /MOUNT v3 over UDP is not registered with the portmapper/,
    );
  });
});
