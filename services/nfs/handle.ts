/**
 * File handles the way a guest gets them: ask the portmapper where MOUNT v3 listens over UDP, then MNT
 * the path, with AUTH_SYS from a reserved port (what the FreeBSD loader does). Plus NFSv3 GETATTR and
 * FSINFO with a handle, to prove a handle is one the server accepts. nfs.handleCommand is the way out
 * for servers whose mountd refuses MOUNT calls from this machine.
 */
import { BeError } from '../../src/errors.js';
import { decodeMntResult, encodeMntArgs, MOUNT_PROG, MOUNT_V3, MOUNTPROC3_MNT } from '../../src/nfs/mount.js';
import {
  decodeFsinfoResult,
  decodeGetattrResult,
  encodeHandleArgs,
  NFS3PROC_FSINFO,
  NFS3PROC_GETATTR,
  NFS_PROG,
  NFS_V3,
  type Fattr3,
  type Fsinfo3,
} from '../../src/nfs/nfs3.js';
import { decodeGetportResult, encodeGetport, IPPROTO_UDP, PMAP_PORT, PMAP_PROG, PMAP_VERS, PMAPPROC_GETPORT } from '../../src/nfs/portmap.js';
import { run } from '../os.js';
import { rpcCall, type RpcOptions } from './rpc-client.js';

export interface HandleOptions extends RpcOptions {
  /** Portmapper port (111). */
  portmapPort?: number;
}

const programNames: Record<number, string> = { [MOUNT_PROG]: 'MOUNT', [NFS_PROG]: 'NFS' };

/** Where a program version listens over UDP, from the portmapper. */
export async function getPort(server: string, prog: number, vers: number, options: HandleOptions = {}): Promise<number> {
  const name = `${programNames[prog] ?? `program ${prog}`} v${vers}`;
  const result = await rpcCall(
    { host: server, port: options.portmapPort ?? PMAP_PORT },
    {
      prog: PMAP_PROG,
      vers: PMAP_VERS,
      proc: PMAPPROC_GETPORT,
      args: encodeGetport({ prog, vers, prot: IPPROTO_UDP }),
      label: `portmapper GETPORT ${name}/udp`,
    },
    { ...options, auth: null },
  );
  const port = decodeGetportResult(result);
  if (port === 0)
    throw new BeError('E_NET', `${server}: ${name} over UDP is not registered with the portmapper (is the NFS server running, with UDP enabled?)`);
  return port;
}

export interface MountedHandle {
  server: string;
  path: string;
  handle: Buffer;
  mountPort: number;
  authFlavors: number[];
}

export async function mountHandle(server: string, path: string, options: HandleOptions = {}): Promise<MountedHandle> {
  const mountPort = await getPort(server, MOUNT_PROG, MOUNT_V3, options);
  const result = await rpcCall(
    { host: server, port: mountPort },
    { prog: MOUNT_PROG, vers: MOUNT_V3, proc: MOUNTPROC3_MNT, args: encodeMntArgs(path), label: `MOUNT v3 MNT ${path}` },
    options,
  );
  const mnt = decodeMntResult(result);
  if (!('handle' in mnt)) throw new BeError('E_NET', `${server}: MOUNT ${path} refused: ${mnt.message}`);
  return { server, path, handle: mnt.handle, mountPort, authFlavors: mnt.authFlavors };
}

/** nfs.handleCommand: run it with the path appended; it prints the handle as hex or X...X. */
export async function commandHandle(argv: readonly string[], path: string, signal?: AbortSignal): Promise<Buffer> {
  const { stdout } = await run(argv[0]!, [...argv.slice(1), path], { timeoutMs: 30_000, ...(signal ? { signal } : {}) });
  const text = stdout.trim().replace(/^X(.*)X$/, '$1');
  if (!/^([0-9a-fA-F]{2}){1,64}$/.test(text))
    throw new BeError('E_EXEC', `nfs.handleCommand printed ${JSON.stringify(stdout.trim().slice(0, 80))}, not a handle in hex`);
  return Buffer.from(text, 'hex');
}

/** The handle a guest of `server` gets for `path`: from nfs.handleCommand when set, else our own MOUNT v3 call. */
export async function handleFor(handleCommand: readonly string[] | null, server: string, path: string, options: HandleOptions = {}): Promise<Buffer> {
  if (handleCommand) return commandHandle(handleCommand, path, options.signal);
  return (await mountHandle(server, path, options)).handle;
}

async function nfsCall(server: string, proc: number, handle: Uint8Array, label: string, options: HandleOptions & { nfsPort?: number }): Promise<Buffer> {
  const port = options.nfsPort ?? (await getPort(server, NFS_PROG, NFS_V3, options));
  return rpcCall({ host: server, port }, { prog: NFS_PROG, vers: NFS_V3, proc, args: encodeHandleArgs(handle), label }, options);
}

export async function getattr(server: string, handle: Uint8Array, options: HandleOptions & { nfsPort?: number } = {}): Promise<Fattr3> {
  const result = decodeGetattrResult(await nfsCall(server, NFS3PROC_GETATTR, handle, 'NFSv3 GETATTR', options));
  if (!('value' in result)) throw new BeError('E_NET', `${server}: NFSv3 GETATTR refused the handle: ${result.message}`);
  return result.value;
}

export async function fsinfo(server: string, handle: Uint8Array, options: HandleOptions & { nfsPort?: number } = {}): Promise<Fsinfo3> {
  const result = decodeFsinfoResult(await nfsCall(server, NFS3PROC_FSINFO, handle, 'NFSv3 FSINFO', options));
  if (!('value' in result)) throw new BeError('E_NET', `${server}: NFSv3 FSINFO refused the handle: ${result.message}`);
  return result.value;
}
