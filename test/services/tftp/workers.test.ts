/**
 * tftp.workers: transfers run in worker threads (the compiled dist/services/tftp/worker.js, which
 * `npm test` builds first) and behave exactly as on the main thread. The main thread opens every file
 * through the source and hands the descriptor over, so any source works with workers.
 */
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchFile, TftpClientError } from './client.js';
import { startServer, type Harness } from './harness.js';
import { bytesFile, DirectorySource, type FileSource } from '../../../services/tftp/source.js';
import { RawPeer } from './raw.js';

const sha = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

describe('TFTP transfers in worker threads', () => {
  let h: Harness;
  const files = new Map<string, Buffer>();

  beforeAll(async () => {
    h = await startServer({ workers: 2, timing: { retransmitMs: 10_000, retries: 2, idleTimeoutMs: 60_000 } });
    for (const [name, size] of [
      ['a', 300_000],
      ['b', 512 * 3],
      ['c', 0],
    ] as const) {
      const data = randomBytes(size);
      files.set(name, data);
      writeFileSync(join(h.root, name), data);
    }
  });
  afterAll(() => h?.close());

  it("reports a worker's transfer under way with the bytes acknowledged, as the worker last said", async () => {
    const peer = await RawPeer.open();
    try {
      peer.send({ op: 'RRQ', filename: 'a', mode: 'octet', options: [] }, h.port);
      for (let block = 1; block <= 2; block++) {
        const data = await peer.next();
        peer.send({ op: 'ACK', block }, data.port);
      }
      // Workers report progress once a second: poll until the report has come.
      await expect
        .poll(() => h.server.transfers(), { timeout: 10_000 })
        .toEqual([{ protocol: 'tftp', file: 'a', client: `127.0.0.1:${peer.port}`, bytes: 1024, size: 300_000, startedAt: expect.any(String) }]);
    } finally {
      peer.close();
    }
  });

  it('serves many clients at once, spread over the workers, with the right bytes', async () => {
    const runs = await Promise.all(
      Array.from({ length: 12 }, (_, i) => {
        const name = ['a', 'b', 'c'][i % 3]!;
        return fetchFile({ port: h.port, file: name, blksize: [512, 1468, 1024][i % 3], windowsize: [1, 4, 16][i % 3], tsize: true }).then((r) => ({
          name,
          r,
        }));
      }),
    );
    for (const { name, r } of runs) {
      expect(sha(r.data)).toBe(sha(files.get(name)!));
      expect(r.oack?.tsize).toBe(String(files.get(name)!.length));
    }
    // The main thread still writes one line per transfer.
    await expect.poll(() => h.logs.filter((l) => l.msg === 'transfer complete').length).toBe(12);
  });

  it('refuses from a worker with the same error packets and log lines', async () => {
    await expect(fetchFile({ port: h.port, file: 'missing' })).rejects.toEqual(new TftpClientError(1, 'File not found'));
    await expect.poll(() => h.logs.some((l) => l.msg === 'request refused' && l.code === 'E_TFTP_NOT_FOUND')).toBe(true);
  });

  it('answers another TID with ERROR 5 from the worker socket', async () => {
    const stranger = await RawPeer.open();
    try {
      const result = await fetchFile({ port: h.port, file: 'a', onTid: (port) => stranger.send({ op: 'ACK', block: 1 }, port) });
      expect(sha(result.data)).toBe(sha(files.get('a')!));
      expect((await stranger.next()).packet).toMatchObject({ op: 'ERROR', code: 5 });
    } finally {
      stranger.close();
    }
  });

  it('serves what any source opens: files of another directory go to the workers, generated content stays on the main thread', async () => {
    const other = await startServer({ logLevel: 'silent' }); // only for its temporary directory
    const elsewhere = randomBytes(100_000);
    writeFileSync(join(other.root, 'kernel'), elsewhere);
    const generated = new TextEncoder().encode('set root-path per host\n'.repeat(200));
    const directory = await DirectorySource.create(other.root);
    const source: FileSource = {
      open: (path, client) => (path === 'loader.rc' ? Promise.resolve(bytesFile(generated)) : directory.open(path, client)),
    };
    const t = await startServer({ workers: 2, source, timing: { retransmitMs: 10_000, retries: 2, idleTimeoutMs: 60_000 } });
    try {
      const [kernel, rc] = await Promise.all([
        fetchFile({ port: t.port, file: 'kernel', blksize: 1468 }),
        fetchFile({ port: t.port, file: 'loader.rc', blksize: 512 }),
      ]);
      expect(sha(kernel.data)).toBe(sha(elsewhere));
      expect(sha(rc.data)).toBe(sha(generated));
      await expect(fetchFile({ port: t.port, file: 'a' })).rejects.toEqual(new TftpClientError(1, 'File not found'));
    } finally {
      await t.close();
      await other.close();
    }
  });

  it('close() aborts transfers running in workers and stops the workers', async () => {
    const t = await startServer({ workers: 2, timing: { retransmitMs: 60_000, retries: 1, idleTimeoutMs: 60_000 } });
    const peer = await RawPeer.open();
    try {
      writeFileSync(join(t.root, 'f'), randomBytes(5000));
      peer.send({ op: 'RRQ', filename: 'f', mode: 'octet', options: [] }, t.port);
      expect((await peer.next()).packet).toMatchObject({ op: 'DATA', block: 1 });
      await t.close();
      expect((await peer.next()).packet).toEqual({ op: 'ERROR', code: 0, message: 'Server shutting down' });
      expect(t.server.activeTransfers).toBe(0);
    } finally {
      peer.close();
    }
  });
});
