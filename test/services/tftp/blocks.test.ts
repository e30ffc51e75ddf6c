import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BlockReader } from '../../../services/tftp/blocks.js';
import type { TftpFile } from '../../../services/tftp/source.js';

/** A file whose reads return at most the next of `readSizes` bytes (cycled): short reads, as a generated source gives. */
function fileOf(content: Uint8Array, readSizes: number[]): TftpFile {
  let at = 0;
  let turn = 0;
  return {
    size: content.length,
    async read(target) {
      const want = Math.min(target.length, readSizes[turn++ % readSizes.length]!, content.length - at);
      target.set(content.subarray(at, at + want));
      at += want;
      return want;
    },
    async close() {},
  };
}

/** Bytes that differ between any two offsets less than 64 KiB apart, so a block read from the wrong place shows. */
const pattern = (length: number) => Uint8Array.from({ length }, (_, i) => (i * 7 + (i >> 8)) & 0xff);

/** Reads the whole file as a sender does, holding up to `held` blocks, checking each held block on every step. */
async function readHolding(content: Uint8Array, blksize: number, readSizes: number[], held: number): Promise<number> {
  const reader = new BlockReader(fileOf(content, readSizes), blksize, false);
  const window: { number: number; block: Uint8Array }[] = [];
  let number = 0;
  for (;;) {
    const block = reader.tryNext() ?? (await reader.next());
    number++;
    window.push({ number, block });
    const last = block.length < blksize;
    for (const h of window) {
      const from = (h.number - 1) * blksize;
      expect(Buffer.from(h.block).equals(Buffer.from(content.subarray(from, from + blksize))), `block ${h.number} after block ${number}`).toBe(true);
    }
    while (window.length > held || (last && window.length > 0)) reader.release(window.shift()!.number);
    if (last) return number;
  }
}

describe('BlockReader', () => {
  it('keeps every held block intact while it reuses read buffers, whatever the read sizes and how many blocks are held', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 150_000 }),
        fc.constantFrom(64, 512, 1468, 9000),
        // Reads of whole blocks (a buffer then ends on a block boundary), of whole blocks and a bit, and
        // shorter than a block; up to past a 64 KiB chunk.
        fc.array(
          fc.record({
            blocks: fc.oneof(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 5, max: 60 })),
            extra: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 8999 })),
          }),
          {
            minLength: 1,
            maxLength: 5,
          },
        ),
        fc.integer({ min: 1, max: 40 }),
        async (length, blksize, reads, held) => {
          const readSizes = reads.map(({ blocks, extra }) => Math.max(1, blocks * blksize + (extra % blksize)));
          const number = await readHolding(pattern(length), blksize, readSizes, held);
          expect(number).toBe(Math.floor(length / blksize) + 1);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('does not reuse a buffer whose last block is still held (reads ending on block boundaries)', async () => {
    // Two blocks, then one, alternately: each buffer ends on a block boundary, so a buffer freed one
    // block early is read into while its last block is still in the window.
    expect(await readHolding(pattern(100_000), 512, [1024, 512], 3)).toBe(196);
  });

  it('reads a long file into a bounded set of buffers when blocks are released', async () => {
    const content = pattern(8 << 20);
    let allocations = 0;
    const file = fileOf(content, [1 << 20]);
    const counting: TftpFile = {
      size: file.size,
      read: (target) => {
        if (!seen.has(target.buffer)) {
          seen.add(target.buffer);
          allocations++;
        }
        return file.read(target);
      },
      close: file.close,
    };
    const seen = new Set<ArrayBufferLike>();
    const reader = new BlockReader(counting, 1468, false);
    for (let n = 1; ; n++) {
      const block = reader.tryNext() ?? (await reader.next());
      reader.release(n - 1); // lock-step: the previous block is acknowledged when this one goes out
      if (block.length < 1468) break;
    }
    // 8 MiB in 64 KiB reads is 128 reads; lock-step holds one block, so two buffers take turns.
    expect(allocations).toBeLessThanOrEqual(3);
  });

  it('gives the buffers of a finished reader to the next reader of the same block size, and to no other', async () => {
    /** The buffers a whole lock-step read of `content` read into; recycles the reader afterwards when asked. */
    async function buffersOf(content: Uint8Array, blksize: number, recycle: boolean): Promise<Set<ArrayBufferLike>> {
      const seen = new Set<ArrayBufferLike>();
      const file = fileOf(content, [1 << 20]);
      const read = (target: Uint8Array) => {
        seen.add(target.buffer);
        return file.read(target);
      };
      const reader = new BlockReader({ ...file, read }, blksize, false);
      for (let n = 1; ; n++) {
        const block = reader.tryNext() ?? (await reader.next());
        reader.release(n - 1);
        if (block.length < blksize) break;
      }
      if (recycle) reader.recycle();
      return seen;
    }
    const content = pattern(1 << 20);
    const first = await buffersOf(content, 1432, true);
    const second = await buffersOf(content, 1432, false);
    expect([...second].filter((b) => first.has(b)).length).toBeGreaterThan(0);
    const otherSize = await buffersOf(content, 512, false);
    expect([...otherSize].some((b) => first.has(b) || second.has(b))).toBe(false);
    // What the second reader took, it did not give back: a third starts with fresh buffers, or the first's rest.
    const third = await buffersOf(content, 1432, false);
    expect([...third].some((b) => second.has(b))).toBe(false);
  });
});
