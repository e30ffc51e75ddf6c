/**
 * A file's bytes onto an HTTP response, streamed: one chunk is read from the file while the one before
 * it drains to the socket, so a few chunks are alive whatever the file's size, and they are reused. A file with
 * positional reads (TftpFile.readAt, the descriptor DirectorySource opened and checked) is read from
 * any offset; one without is read from its start, and only whole.
 */
import type { ServerResponse } from 'node:http';
import { finished } from 'node:stream/promises';
import type { TftpFile } from '../tftp/source.js';

/**
 * 1 MiB: measured on loopback with curl (32 MiB, medians of 40), node:http alone moved it at 0.76x
 * nginx's speed (sendfile) with 256 KiB reads and 0.88x with 1 MiB; 4 MiB gained nothing more. A download
 * holds two or three such buffers, never more than its own length.
 */
export const chunkBytes = 1024 * 1024;

export interface SendResult {
  /** Bytes handed to the socket. */
  bytes: number;
  /** Whether the client got every byte of [start, end] (the response finished). */
  complete: boolean;
  /** Why not, when not: the client went away, or the file ended early or failed to read. */
  reason?: string;
  /** Whose doing that was, when not complete. */
  fault?: 'client' | 'file';
}

/**
 * Whether the response's connection is gone, and a wait for room in it that also ends then. Not
 * `res.destroyed` alone: a socket destroyed under the response (the server closing, the client
 * leaving) says so only through 'close', and 'drain' never comes after it.
 */
function watch(res: ServerResponse): { gone: () => boolean; drained: () => Promise<void> } {
  let gone = res.destroyed;
  const closed = new Promise<void>((resolve) => {
    if (gone) resolve();
    else res.once('close', () => resolve());
  });
  void closed.then(() => (gone = true));
  return {
    gone: () => gone || res.destroyed,
    drained: () => {
      if (gone) return Promise.resolve();
      let onDrain: () => void = () => {};
      const drain = new Promise<void>((resolve) => {
        onDrain = resolve;
        res.once('drain', onDrain);
      });
      return Promise.race([drain, closed]).finally(() => res.off('drain', onDrain));
    },
  };
}

/**
 * Writes bytes start..end (inclusive; end undefined: to the end of a file of unknown length) and ends
 * the response. A file that yields fewer bytes than the headers promised destroys the connection, so
 * the client sees a short body instead of waiting for bytes that will never come. `progress.bytes`
 * follows the bytes written so far (the transfers on the status page).
 */
export async function sendFile(
  file: TftpFile,
  res: ServerResponse,
  start: number,
  end: number | undefined,
  progress: { bytes: number } = { bytes: 0 },
): Promise<SendResult> {
  const stop = end === undefined ? Number.POSITIVE_INFINITY : end + 1;
  const readAt = file.readAt?.bind(file);
  if (start !== 0 && !readAt) throw new RangeError('a range of a file without positional reads');
  // Buffers go back to `spare` once the socket has written them (write's callback), so a download
  // reuses its two or three chunks instead of leaving one dead chunk per MiB for the collector:
  // memory stays flat under many downloads, not only what is alive.
  const spare: Buffer[] = [];
  // Every later read wants no more than the first: a small file gets small buffers.
  const size = Math.min(chunkBytes, stop - start);
  const read = (position: number): Promise<{ buffer: Buffer; chunk: Buffer }> => {
    const buffer = spare.pop() ?? Buffer.allocUnsafeSlow(size);
    const target = buffer.subarray(0, Math.min(chunkBytes, stop - position));
    return (readAt ? readAt(target, position) : file.read(target)).then((n) => ({ buffer, chunk: target.subarray(0, n) }));
  };
  const connection = watch(res);
  let position = start;
  let bytes = 0;
  let reason: string | undefined;
  try {
    let next = position < stop ? read(position) : undefined;
    while (next !== undefined) {
      const { buffer, chunk } = await next;
      if (chunk.length === 0) {
        if (end !== undefined) reason = `the file ended ${stop - position} bytes early`;
        break;
      }
      position += chunk.length;
      next = position < stop ? read(position) : undefined;
      // The next read runs while this chunk drains: disk and socket work at once.
      if (connection.gone()) break;
      const more = res.write(chunk, () => spare.push(buffer));
      bytes += chunk.length;
      progress.bytes = bytes;
      if (!more) await connection.drained();
      if (connection.gone()) break;
    }
    // A read still running when the client left: let it settle before the file is closed.
    await next?.catch(() => {});
  } catch (err) {
    reason = `read failed: ${(err as Error).message}`;
  }
  if (reason !== undefined) {
    res.destroy();
    return { bytes, complete: false, reason, fault: 'file' };
  }
  if (connection.gone()) return { bytes, complete: false, reason: 'the connection closed', fault: 'client' };
  res.end();
  try {
    await finished(res);
    return { bytes, complete: true };
  } catch {
    return { bytes, complete: false, reason: 'the client closed the connection', fault: 'client' };
  }
}
