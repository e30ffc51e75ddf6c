/**
 * Cuts a TftpFile into TFTP blocks. Reads in chunks of many blocks (one read call per ~64 KiB rather than
 * per block), converts to netascii when asked, and hands out blocks of exactly blksize bytes until the
 * last one, which is shorter (possibly empty: RFC 1350 ends a transfer with a block of fewer than blksize
 * bytes, so a file whose size is a multiple of blksize ends with an empty block).
 *
 * Blocks are views into the chunk they were cut from, and a chunk is read into again only once the
 * caller has released every block cut from it (release()): allocating a fresh 64 KiB per read made
 * garbage that V8 collects only once a thread holds tens of MiB of it, which put 100 transfers on two
 * worker threads at 250 MiB RSS (bench/RESULTS.md).
 */
import { NetasciiEncoder } from '../../src/tftp/netascii.js';
import type { TftpFile } from './source.js';

const chunkTarget = 64 * 1024;

/**
 * Read buffers of finished transfers, of one size, for the next transfers on this thread (module state is
 * per thread). Without it each transfer's buffers became garbage when it ended, and V8 let tens of MiB of
 * them pile up per thread before collecting: 100 clients of a 4 MiB file a round, seven rounds, took the
 * process from 66 to 150 MiB on the main thread and to 220 MiB with two workers (measured by hand; 134
 * and 160-167 MiB with this and the workers' smaller young generation, services/tftp/pool.ts).
 */
const finished: { size: number; buffers: Uint8Array[] } = { size: 0, buffers: [] };
/** Buffers kept: 4 MiB of 64 KiB ones, enough for the transfers that start together. */
const keptBuffers = 64;

export class BlockReader {
  private chunk: Uint8Array = new Uint8Array(0);
  private eof = false;
  private readonly chunkSize: number;
  private readonly encoder: NetasciiEncoder | undefined;
  /** Blocks handed out so far; block n is the n-th (1-based). */
  private handedOut = 0;
  /** Read buffers that still back blocks the caller may hold, oldest first, with the last block cut from each. */
  private readonly inUse: { buffer: Uint8Array; lastBlock: number }[] = [];
  /** Read buffers no block points into any more. */
  private readonly spare: Uint8Array[] = [];

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
    if (this.chunk.length >= this.blksize) return this.handOut(this.take(this.blksize));
    if (this.eof && this.chunk.length > 0) return this.handOut(this.take(this.chunk.length));
    if (this.eof) return this.handOut(new Uint8Array(0));
    return undefined;
  }

  /** The caller holds no block numbered `block` or lower any more: their buffers may be read into again. */
  release(block: number): void {
    // The newest buffer is the one being cut: it stays, even when every block so far is released.
    while (this.inUse.length > 1 && this.inUse[0]!.lastBlock <= block) this.spare.push(this.inUse.shift()!.buffer);
  }

  /** The next block; shorter than blksize only for the last one. */
  async next(): Promise<Uint8Array> {
    if (this.chunk.length >= this.blksize) return this.handOut(this.take(this.blksize));
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
    if (parts.length === 1) return this.handOut(parts[0]!);
    const block = new Uint8Array(this.blksize - need);
    let at = 0;
    for (const part of parts) {
      block.set(part, at);
      at += part.length;
    }
    return this.handOut(block);
  }

  /**
   * The transfer is over and every block it sent was acknowledged (none can still be on its way out):
   * its read buffers go to the next transfers on this thread. The reader must not be used again.
   */
  recycle(): void {
    // Buffers of one size at a time, the last finished transfer's: the size follows the client's blksize,
    // and a pool per size would let clients asking for ever new sizes pin 4 MiB each.
    if (finished.size !== this.chunkSize) {
      finished.size = this.chunkSize;
      finished.buffers = [];
    }
    const kept = finished.buffers;
    for (const buffer of [...this.spare, ...this.inUse.map((u) => u.buffer)]) if (kept.length < keptBuffers) kept.push(buffer);
    this.spare.length = 0;
    this.inUse.length = 0;
    this.chunk = new Uint8Array(0);
  }

  private handOut(block: Uint8Array): Uint8Array {
    this.handedOut++;
    return block;
  }

  private take(n: number): Uint8Array {
    const part = this.chunk.subarray(0, n);
    this.chunk = this.chunk.subarray(n);
    // Whatever is cut now may end up in the next block handed out (even when netascii copied it: be safe).
    const newest = this.inUse.at(-1);
    if (newest) newest.lastBlock = this.handedOut + 1;
    return part;
  }

  private async refill(): Promise<void> {
    const buffer = this.spare.pop() ?? (finished.size === this.chunkSize ? finished.buffers.pop() : undefined) ?? new Uint8Array(this.chunkSize);
    this.inUse.push({ buffer, lastBlock: this.handedOut });
    const n = await this.file.read(buffer);
    if (n === 0) {
      this.eof = true;
      return;
    }
    const raw = buffer.subarray(0, n);
    this.chunk = this.encoder ? this.encoder.push(raw) : raw;
  }
}
