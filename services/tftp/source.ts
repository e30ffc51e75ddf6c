/**
 * The FileSource boundary: the TFTP server asks a source for a file by its normalised name and the client
 * that wants it, and gets back something to read from. The server knows nothing of directories, ZFS or
 * hosts; a per-host source (a host's boot environment, a generated loader.rc) implements the same interface.
 *
 * The default source is a directory (tftp.root). It checks the opened descriptor, not only the name: the
 * name is resolved with realpath and must stay under the root, the descriptor must be a regular file, and
 * where the descriptor really leads must lie under the root too, so swapping a link or a directory between
 * check and open cannot hand out a file from elsewhere. On Linux that last check is exact (/proc/self/fd);
 * descriptorInside explains the weaker fallback on systems without it.
 */
import { constants } from 'node:fs';
import type { Stats } from 'node:fs';
import { open, readlink, realpath, stat, type FileHandle } from 'node:fs/promises';
import { sep } from 'node:path';
import { TftpError } from '../../src/tftp/errors.js';

export interface Client {
  address: string;
  port: number;
}

/** A file being read: pull-based, so the transfer holds only its window in memory. */
export interface TftpFile {
  /** Bytes in the file, if known (answers tsize); undefined for generated content of unknown length. */
  readonly size: number | undefined;
  /** Fills `target` from the current position; resolves with the bytes read, 0 at the end. */
  read(target: Uint8Array): Promise<number>;
  /**
   * Fills `target` from byte `position` without moving the current position; resolves with the bytes
   * read, 0 at the end. Optional: HTTP answers Range requests from it (services/http/), and serves a
   * file without it whole. A file on a descriptor reads from the descriptor it opened and checked.
   */
  readAt?(target: Uint8Array, position: number): Promise<number>;
  /** When the content last changed, in ms since the epoch, if known (HTTP Last-Modified). */
  readonly mtimeMs?: number | undefined;
  /** Releases what the file holds; called exactly once on every exit path. */
  close(): Promise<void>;
}

export interface FileSource {
  /** Opens `path` (already normalised by src/tftp/paths.ts) for `client`; rejects with TftpError. */
  open(path: string, client: Client): Promise<TftpFile>;
}

/** A file from bytes in memory: for generated content (a per-host loader.rc or iPXE script) and tests. */
export function bytesFile(bytes: Uint8Array): TftpFile {
  let position = 0;
  return {
    size: bytes.length,
    async read(target) {
      const n = Math.min(target.length, bytes.length - position);
      target.set(bytes.subarray(position, position + n));
      position += n;
      return n;
    },
    async readAt(target, at) {
      const n = Math.max(0, Math.min(target.length, bytes.length - at));
      target.set(bytes.subarray(at, at + n));
      return n;
    },
    async close() {},
  };
}

/** A file from any async iterable of chunks (a stream, a generator), of unknown size. */
export function streamFile(chunks: AsyncIterable<Uint8Array>, size?: number): TftpFile {
  const iterator = chunks[Symbol.asyncIterator]();
  let pending: Uint8Array = new Uint8Array(0);
  let done = false;
  return {
    size,
    async read(target) {
      let filled = 0;
      while (filled < target.length) {
        if (pending.length === 0) {
          if (done) break;
          const next = await iterator.next();
          if (next.done) {
            done = true;
            break;
          }
          pending = next.value;
          continue;
        }
        const n = Math.min(pending.length, target.length - filled);
        target.set(pending.subarray(0, n), filled);
        pending = pending.subarray(n);
        filled += n;
      }
      return filled;
    },
    async close() {
      if (!done) await iterator.return?.();
      done = true;
    },
  };
}

/** A regular file open on a descriptor: what DirectorySource hands out. */
export class DescriptorFile implements TftpFile {
  private position = 0;
  constructor(
    /** Transferable to a worker thread (services/tftp/pool.ts), which then owns it. */
    readonly handle: FileHandle,
    readonly size: number,
    readonly mtimeMs?: number,
  ) {}

  async read(target: Uint8Array): Promise<number> {
    const { bytesRead } = await this.handle.read(target, 0, target.length, this.position);
    this.position += bytesRead;
    return bytesRead;
  }

  /** pread(2) on the descriptor DirectorySource checked: never the name again, which could lead elsewhere by now. */
  async readAt(target: Uint8Array, position: number): Promise<number> {
    const { bytesRead } = await this.handle.read(target, 0, target.length, position);
    return bytesRead;
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

function errnoOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

function refusal(err: unknown, path: string): TftpError {
  const code = errnoOf(err);
  if (code === 'ENOENT' || code === 'ENOTDIR') return new TftpError('E_TFTP_NOT_FOUND', `${path}: no such file`, { cause: err });
  if (code === 'EACCES' || code === 'EPERM') return new TftpError('E_TFTP_ACCESS', `${path}: permission denied`, { cause: err });
  if (code === 'ELOOP') return new TftpError('E_TFTP_ACCESS', `${path}: too many symbolic links`, { cause: err });
  return new TftpError('E_TFTP_READ', `${path}: ${code ?? (err as Error).message}`, { cause: err });
}

/** Serves regular files beneath one directory. */
export class DirectorySource implements FileSource {
  private constructor(private readonly root: string) {}

  /** Resolves the root once; rejects with the errno when it is missing or not a directory. */
  static async create(root: string): Promise<DirectorySource> {
    const real = await realpath(root);
    const info = await stat(real);
    if (!info.isDirectory()) throw Object.assign(new Error(`${root} is not a directory`), { code: 'ENOTDIR' });
    return new DirectorySource(real);
  }

  /** The root's bytes plus a separator: every path we serve starts with them. */
  private get prefix(): Buffer {
    return Buffer.from(this.root === sep ? sep : this.root + sep);
  }

  /** Compared as bytes: a name need not be valid UTF-8, and a lossy string could alias another file. */
  private inside(real: Buffer): boolean {
    const prefix = this.prefix;
    return real.length > prefix.length && real.subarray(0, prefix.length).equals(prefix);
  }

  /**
   * Where does the open descriptor really lead? On Linux, /proc/self/fd/N names the opened file itself,
   * atomically: that is the answer. Elsewhere (FreeBSD has no such link) resolve the name again before and
   * after a stat and require both resolutions to agree, to lie under the root and to name the inode we
   * hold; a swap timed between those steps can still slip through there, so keep tftp.root writable only
   * by whoever is trusted with the boot files.
   */
  private async descriptorInside(handle: FileHandle, full: Buffer, opened: Stats): Promise<boolean> {
    let proc: Buffer | undefined;
    try {
      proc = await readlink(`/proc/self/fd/${handle.fd}`, { encoding: 'buffer' });
    } catch {
      proc = undefined;
    }
    if (proc) return this.inside(proc);
    const first = await realpath(full, { encoding: 'buffer' });
    const now = await stat(first);
    const second = await realpath(full, { encoding: 'buffer' });
    return this.inside(first) && first.equals(second) && now.dev === opened.dev && now.ino === opened.ino;
  }

  async open(path: string, _client: Client): Promise<TftpFile> {
    // The name arrived as latin1 characters, one per byte (src/tftp/packet.ts): give the file system those bytes.
    const full = Buffer.concat([this.prefix, Buffer.from(path, 'latin1')]);
    let real: Buffer;
    try {
      real = await realpath(full, { encoding: 'buffer' });
    } catch (err) {
      throw refusal(err, path);
    }
    if (!this.inside(real)) throw new TftpError('E_TFTP_ACCESS', `${path}: resolves outside the root (${real.toString()})`);
    // Refuse by type before opening: opening a device or FIFO can block or have side effects.
    let before;
    try {
      before = await stat(real);
    } catch (err) {
      throw refusal(err, path);
    }
    if (!before.isFile()) throw new TftpError('E_TFTP_ACCESS', `${path}: not a regular file`);
    let handle: FileHandle;
    try {
      // O_NONBLOCK: should the name be swapped for a FIFO after the check, open must not hang.
      handle = await open(real, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
    } catch (err) {
      throw refusal(err, path);
    }
    try {
      // The check that counts comes after open, on the descriptor we hold.
      const opened = await handle.stat();
      if (!opened.isFile()) throw new TftpError('E_TFTP_ACCESS', `${path}: not a regular file once opened`);
      if (!(await this.descriptorInside(handle, full, opened))) {
        throw new TftpError('E_TFTP_ACCESS', `${path}: changed between check and open`);
      }
      return new DescriptorFile(handle, opened.size, opened.mtimeMs);
    } catch (err) {
      await handle.close();
      throw err instanceof TftpError ? err : refusal(err, path);
    }
  }
}
