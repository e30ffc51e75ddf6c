/**
 * Cuts a TftpFile into TFTP blocks. Reads in chunks of many blocks (one read call per ~64 KiB rather than
 * per block), converts to netascii when asked, and hands out blocks of exactly blksize bytes until the
 * last one, which is shorter (possibly empty: RFC 1350 ends a transfer with a block of fewer than blksize
 * bytes, so a file whose size is a multiple of blksize ends with an empty block).
 */
import { NetasciiEncoder } from '../../src/tftp/netascii.js';
import type { TftpFile } from './source.js';

const chunkTarget = 64 * 1024;

export class BlockReader {
  private chunk: Uint8Array = new Uint8Array(0);
  private eof = false;
  private readonly chunkSize: number;
  private readonly encoder: NetasciiEncoder | undefined;

  constructor(
    private readonly file: TftpFile,
    private readonly blksize: number,
    netascii: boolean,
  ) {
    // A multiple of blksize, so blocks come out of a chunk without copying.
    this.chunkSize = Math.max(1, Math.floor(chunkTarget / blksize)) * blksize;
    this.encoder = netascii ? new NetasciiEncoder() : undefined;
  }

  /** The next block if it can be cut without reading (the common case), else undefined: then call next(). */
  tryNext(): Uint8Array | undefined {
    if (this.chunk.length >= this.blksize) return this.take(this.blksize);
    if (this.eof && this.chunk.length > 0) return this.take(this.chunk.length);
    if (this.eof) return new Uint8Array(0);
    return undefined;
  }

  /** The next block; shorter than blksize only for the last one. */
  async next(): Promise<Uint8Array> {
    if (this.chunk.length >= this.blksize) return this.take(this.blksize);
    const parts: Uint8Array[] = [];
    let need = this.blksize;
    while (need > 0) {
      if (this.chunk.length === 0) {
        if (this.eof) break;
        await this.refill();
        continue;
      }
      const part = this.take(Math.min(need, this.chunk.length));
      parts.push(part);
      need -= part.length;
    }
    if (parts.length === 1) return parts[0]!;
    const block = new Uint8Array(this.blksize - need);
    let at = 0;
    for (const part of parts) {
      block.set(part, at);
      at += part.length;
    }
    return block;
  }

  private take(n: number): Uint8Array {
    const part = this.chunk.subarray(0, n);
    this.chunk = this.chunk.subarray(n);
    return part;
  }

  private async refill(): Promise<void> {
    // A fresh buffer each time: blocks still in the send window point into the previous one.
    const buffer = new Uint8Array(this.chunkSize);
    const n = await this.file.read(buffer);
    if (n === 0) {
      this.eof = true;
      return;
    }
    const raw = buffer.subarray(0, n);
    this.chunk = this.encoder ? this.encoder.push(raw) : raw;
  }
}
