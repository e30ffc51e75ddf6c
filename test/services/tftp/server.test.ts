import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesFile, streamFile, type FileSource } from '../../../services/tftp/source.js';
import { fetchFile } from './client.js';
import { startServer, type Harness } from './harness.js';
import { RawPeer } from './raw.js';

const sha = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** Deterministic file contents: a counter pattern no two blocks share, so a misplaced block shows. */
function pattern(size: number, seed = 1): Buffer {
  const data = Buffer.alloc(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    data[i] = x >>> 24;
  }
  return data;
}

let h: Harness;
const files = new Map<string, Buffer>();

beforeAll(async () => {
  h = await startServer({ timing: { retransmitMs: 10_000, retries: 3, idleTimeoutMs: 60_000 } });
  for (const size of [0, 1, 511, 512, 513, 1468, 100_000]) {
    const data = pattern(size, size + 1);
    files.set(`f${size}`, data);
    writeFileSync(join(h.root, `f${size}`), data);
  }
  // 8-byte blocks make rollover cheap: 65536 blocks of 8 bytes, and one byte more.
  for (const size of [8 * 65536, 8 * 65536 + 1]) {
    const data = pattern(size, 7);
    files.set(`roll${size}`, data);
    writeFileSync(join(h.root, `roll${size}`), data);
  }
  writeFileSync(join(h.root, 'text.rc'), 'boot_serial="YES"\nconsole="comconsole"\r\nend');
});
afterAll(() => h.close());

describe('TFTP server: reads', () => {
  it.each([0, 1, 511, 512, 513, 1468, 100_000])('serves a %i-byte file in lock-step at 512 (RFC 1350)', async (size) => {
    const result = await fetchFile({ port: h.port, file: `f${size}` });
    expect(sha(result.data)).toBe(sha(files.get(`f${size}`)!));
    expect(result.oack).toBeUndefined();
  });

  it.each([
    [8, 1],
    [1468, 1],
    [1468, 4],
    [1024, 16],
    [600, 7],
  ])('serves 100000 bytes at blksize %i, windowsize %i (RFC 2348, RFC 7440)', async (blksize, windowsize) => {
    const result = await fetchFile({ port: h.port, file: 'f100000', blksize, windowsize, tsize: true });
    expect(sha(result.data)).toBe(sha(files.get('f100000')!));
    expect(result.oack).toEqual({ blksize: String(blksize), windowsize: String(windowsize), tsize: '100000' });
    // Without loss every block is sent once.
    expect(result.dataPackets).toBe(Math.floor(100_000 / blksize) + 1);
  });

  it.each([8 * 65536, 8 * 65536 + 1])('wraps block numbers past 65535 (%i bytes at blksize 8)', async (size) => {
    const result = await fetchFile({ port: h.port, file: `roll${size}`, blksize: 8, windowsize: 16 });
    expect(result.data.length).toBe(size);
    expect(sha(result.data)).toBe(sha(files.get(`roll${size}`)!));
  });

  it('clamps blksize and windowsize to the configured maximum', async () => {
    const result = await fetchFile({ port: h.port, file: 'f100000', blksize: 9000, windowsize: 64 });
    expect(result.oack).toEqual({ blksize: '1468', windowsize: '16' });
    expect(sha(result.data)).toBe(sha(files.get('f100000')!));
  });

  it('ignores unknown options and answers with DATA 1 when none is accepted (RFC 2347)', async () => {
    const result = await fetchFile({
      port: h.port,
      file: 'f513',
      options: [
        { name: 'multicast', value: '' },
        { name: 'blksize', value: '4' },
      ],
    });
    expect(result.oack).toBeUndefined();
    expect(sha(result.data)).toBe(sha(files.get('f513')!));
  });

  it('echoes the timeout option and answers tsize with the file size (RFC 2349)', async () => {
    const result = await fetchFile({ port: h.port, file: 'f1468', tsize: true, options: [{ name: 'timeout', value: '3' }] });
    expect(result.oack).toEqual({ tsize: '1468', timeout: '3' });
  });

  it('converts to netascii and leaves tsize out in that mode', async () => {
    const result = await fetchFile({ port: h.port, file: 'text.rc', mode: 'NETASCII', tsize: true, blksize: 8 });
    expect(result.data.toString('latin1')).toBe('boot_serial="YES"\r\nconsole="comconsole"\r\0\r\nend');
    expect(result.oack).toEqual({ blksize: '8' });
  });

  it('logs one info line per finished transfer with file, client, bytes, ms, blksize and windowsize', async () => {
    await fetchFile({ port: h.port, file: 'f513', blksize: 1468 });
    // The client is done when it sends the last ACK; the server logs once that ACK arrives and the file is closed.
    const mine = () => h.logs.filter((l) => l.msg === 'transfer complete' && l.file === 'f513' && l.blksize === 1468);
    await expect.poll(() => mine().length).toBe(1);
    const line = mine()[0]!;
    expect(line).toMatchObject({ level: 30, file: 'f513', bytes: 513, blksize: 1468, windowsize: 1 });
    expect(String(line.client)).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(typeof line.ms).toBe('number');
  });

  it('answers a repeated RRQ from the same client port with one transfer, not two', async () => {
    const peer = await RawPeer.open();
    try {
      const rrq = { op: 'RRQ' as const, filename: 'f513', mode: 'octet', options: [] };
      peer.send(rrq, h.port);
      peer.send(rrq, h.port);
      const first = await peer.next();
      expect(first.packet).toMatchObject({ op: 'DATA', block: 1 });
      peer.send({ op: 'ACK', block: 1 }, first.port);
      const second = await peer.next();
      // Had the repeat started a second transfer, its DATA 1 would arrive here from another port.
      expect(second.packet).toMatchObject({ op: 'DATA', block: 2 });
      expect(second.port).toBe(first.port);
      peer.send({ op: 'ACK', block: 2 }, first.port);
    } finally {
      peer.close();
    }
  });
});

describe('TFTP server: transfer rules', () => {
  it('ignores duplicate ACKs: one DATA per new ACK, never one per duplicate (RFC 1123 4.2.3.1)', async () => {
    const peer = await RawPeer.open();
    try {
      peer.send({ op: 'RRQ', filename: 'f100000', mode: 'octet', options: [] }, h.port);
      const one = await peer.next();
      expect(one.packet).toMatchObject({ op: 'DATA', block: 1 });
      for (let i = 0; i < 5; i++) peer.send({ op: 'ACK', block: 1 }, one.port);
      peer.send({ op: 'ACK', block: 2 }, one.port);
      // Replies come back in the order the ACKs were handled: any DATA answering a duplicate would precede DATA 3.
      const seen: number[] = [];
      for (;;) {
        const r = await peer.next();
        expect(r.packet.op).toBe('DATA');
        if (r.packet.op === 'DATA') seen.push(r.packet.block);
        if (seen.at(-1) === 3) break;
      }
      expect(seen).toEqual([2, 3]);
      peer.send({ op: 'ERROR', code: 0, message: 'done' }, one.port);
    } finally {
      peer.close();
    }
  });

  it('with a window, takes the first repeat of the last ACK as a gap report and resends the window once (RFC 7440)', async () => {
    const peer = await RawPeer.open();
    try {
      peer.send({ op: 'RRQ', filename: 'f100000', mode: 'octet', options: [{ name: 'windowsize', value: '4' }] }, h.port);
      const oack = await peer.next();
      expect(oack.packet).toEqual({ op: 'OACK', options: [{ name: 'windowsize', value: '4' }] });
      peer.send({ op: 'ACK', block: 0 }, oack.port);
      const blocks = async (n: number) => {
        const seen: number[] = [];
        while (seen.length < n) {
          const r = await peer.next();
          if (r.packet.op === 'DATA') seen.push(r.packet.block);
        }
        return seen;
      };
      expect(await blocks(4)).toEqual([1, 2, 3, 4]);
      for (let i = 0; i < 3; i++) peer.send({ op: 'ACK', block: 0 }, oack.port);
      peer.send({ op: 'ACK', block: 4 }, oack.port);
      expect(await blocks(8)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      peer.send({ op: 'ERROR', code: 0, message: 'done' }, oack.port);
    } finally {
      peer.close();
    }
  });

  it('answers a datagram from another TID with ERROR 5 and finishes the transfer intact', async () => {
    const stranger = await RawPeer.open();
    try {
      let strangerSent = false;
      const result = await fetchFile({
        port: h.port,
        file: 'f100000',
        onTid: (port) => {
          // Mid-transfer: the client has its first DATA and has not yet answered it.
          stranger.send({ op: 'ACK', block: 1 }, port);
          stranger.send({ op: 'ERROR', code: 0, message: 'go away' }, port);
          strangerSent = true;
        },
      });
      expect(strangerSent).toBe(true);
      expect(sha(result.data)).toBe(sha(files.get('f100000')!));
      const replies = [await stranger.next(), await stranger.next()];
      for (const reply of replies) expect(reply.packet).toMatchObject({ op: 'ERROR', code: 5 });
    } finally {
      stranger.close();
    }
  });

  it('ends quietly on a client ERROR after reading tsize, as PXE ROMs do', async () => {
    const peer = await RawPeer.open();
    try {
      peer.send({ op: 'RRQ', filename: 'f100000', mode: 'octet', options: [{ name: 'tsize', value: '0' }] }, h.port);
      const oack = await peer.next();
      expect(oack.packet).toEqual({ op: 'OACK', options: [{ name: 'tsize', value: '100000' }] });
      peer.send({ op: 'ERROR', code: 0, message: 'tsize probe' }, oack.port);
      const mine = () => h.finished.find((f) => f.client === `127.0.0.1:${peer.port}`);
      await expect.poll(mine).toBeDefined();
      expect(mine()).toMatchObject({ outcome: 'client-error', bytes: 0 });
      expect(h.logs.some((l) => l.msg === 'transfer ended by the client' && l.level === 30)).toBe(true);
    } finally {
      peer.close();
    }
  });

  it('drops malformed datagrams on the listener and on a transfer port, and keeps serving', async () => {
    const peer = await RawPeer.open();
    try {
      for (const junk of ['', '00', '0009abcd', '000161', '0004000100', '0006']) peer.send(Buffer.from(junk, 'hex'), h.port);
      peer.send({ op: 'RRQ', filename: 'f1468', mode: 'octet', options: [] }, h.port);
      const one = await peer.next();
      expect(one.packet).toMatchObject({ op: 'DATA', block: 1 });
      for (const junk of ['', '00', '000400', '0003', '0001666f6f00']) peer.send(Buffer.from(junk, 'hex'), one.port);
      peer.send({ op: 'ACK', block: 1 }, one.port);
      const rest: number[] = [];
      for (;;) {
        const r = await peer.next();
        expect(r.packet.op).toBe('DATA');
        if (r.packet.op !== 'DATA') break;
        rest.push(r.packet.block);
        peer.send({ op: 'ACK', block: r.packet.block }, one.port);
        if (r.packet.data.length < 512) break;
      }
      expect(rest).toEqual([2, 3]);
    } finally {
      peer.close();
    }
  });
});

describe('TFTP server: timeouts and limits', () => {
  it('retransmits a fixed number of times, then gives up with ERROR 0', async () => {
    const t = await startServer({ timing: { retransmitMs: 20, retries: 2, idleTimeoutMs: 60_000 } });
    const peer = await RawPeer.open();
    try {
      writeFileSync(join(t.root, 'f'), pattern(2000));
      peer.send({ op: 'RRQ', filename: 'f', mode: 'octet', options: [] }, t.port);
      const seen = [];
      for (let i = 0; i < 4; i++) seen.push((await peer.next()).packet);
      expect(seen.slice(0, 3).map((p) => (p.op === 'DATA' ? p.block : p.op))).toEqual([1, 1, 1]);
      expect(seen[3]).toEqual({ op: 'ERROR', code: 0, message: 'Timed out' });
      await expect.poll(() => t.finished.length).toBe(1);
      expect(t.finished[0]).toMatchObject({ outcome: 'timeout', retransmits: 2 });
    } finally {
      peer.close();
      await t.close();
    }
  });

  it('abandons a transfer whose source stalls once tftp.idleTimeout passes without progress, and closes the file', async () => {
    let closed = 0;
    const source: FileSource = {
      async open() {
        let calls = 0;
        return {
          size: undefined,
          read(target: Uint8Array) {
            // The first chunk arrives; the second never does (a hung generator or disk).
            if (++calls > 1) return new Promise<number>(() => {});
            target.fill(2);
            return Promise.resolve(target.length);
          },
          async close() {
            closed++;
          },
        };
      },
    };
    const t = await startServer({ source, timing: { retransmitMs: 20, retries: 1000, idleTimeoutMs: 200 } });
    try {
      // 64 KiB arrive (blocks 1-128 at 512), then the client waits for block 129 in vain.
      await expect(fetchFile({ port: t.port, file: 'x', retransmitMs: 50, retries: 1000 })).rejects.toThrow(/ERROR 0: Timed out/);
      await expect.poll(() => t.finished.length).toBe(1);
      expect(t.finished[0]).toMatchObject({ outcome: 'timeout', reason: 'no progress for 200 ms', bytes: 128 * 512 });
      expect(closed).toBe(1);
    } finally {
      await t.close();
    }
  });

  it('answers ERROR 0 "busy" beyond tftp.maxTransfers', async () => {
    const t = await startServer({ maxTransfers: 1, timing: { retransmitMs: 10_000, retries: 1, idleTimeoutMs: 60_000 } });
    const holder = await RawPeer.open();
    const late = await RawPeer.open();
    try {
      writeFileSync(join(t.root, 'f'), pattern(2000));
      holder.send({ op: 'RRQ', filename: 'f', mode: 'octet', options: [] }, t.port);
      expect((await holder.next()).packet).toMatchObject({ op: 'DATA', block: 1 });
      late.send({ op: 'RRQ', filename: 'f', mode: 'octet', options: [] }, t.port);
      expect((await late.next()).packet).toEqual({ op: 'ERROR', code: 0, message: 'Server busy, try again later' });
      expect(t.logs.some((l) => l.msg === 'request refused' && l.code === 'E_TFTP_BUSY' && l.level === 40)).toBe(true);
    } finally {
      holder.close();
      late.close();
      await t.close();
    }
  });

  it('lists the transfers under way with the bytes the client acknowledged (the status page)', async () => {
    const t = await startServer({ timing: { retransmitMs: 10_000, retries: 1, idleTimeoutMs: 60_000 } });
    const peer = await RawPeer.open();
    try {
      writeFileSync(join(t.root, 'f'), pattern(5000));
      peer.send({ op: 'RRQ', filename: 'f', mode: 'octet', options: [] }, t.port);
      for (let block = 1; block <= 3; block++) {
        const data = await peer.next();
        expect(data.packet).toMatchObject({ op: 'DATA', block });
        peer.send({ op: 'ACK', block }, data.port);
      }
      await peer.next(); // block 4: the server has taken the third ACK
      expect(t.server.transfers()).toEqual([
        { protocol: 'tftp', file: 'f', client: `127.0.0.1:${peer.port}`, bytes: 3 * 512, size: 5000, startedAt: expect.any(String) },
      ]);
    } finally {
      peer.close();
      await t.close();
    }
    expect(t.server.transfers()).toEqual([]);
  });

  it('close() tells running clients the server is shutting down and waits for their transfers', async () => {
    const t = await startServer({ timing: { retransmitMs: 10_000, retries: 1, idleTimeoutMs: 60_000 } });
    const peer = await RawPeer.open();
    try {
      writeFileSync(join(t.root, 'f'), pattern(2000));
      peer.send({ op: 'RRQ', filename: 'f', mode: 'octet', options: [] }, t.port);
      await peer.next();
      expect(t.server.activeTransfers).toBe(1);
      await t.close();
      expect(t.server.activeTransfers).toBe(0);
      expect((await peer.next()).packet).toEqual({ op: 'ERROR', code: 0, message: 'Server shutting down' });
      await t.close(); // idempotent
    } finally {
      peer.close();
    }
  });
});

describe('TFTP server: file sources', () => {
  it('serves generated content of unknown size, without tsize', async () => {
    const script = Buffer.from('#!ipxe\nchain tftp://10.0.0.1/boot/loader.efi\n'.repeat(40));
    const source: FileSource = {
      async open(path, client) {
        async function* chunks() {
          yield Buffer.from(`# for ${client.address} asking ${path}\n`);
          for (let i = 0; i < script.length; i += 100) yield script.subarray(i, i + 100);
        }
        return streamFile(chunks());
      },
    };
    const t = await startServer({ source });
    try {
      const result = await fetchFile({ port: t.port, file: '/menu.ipxe', tsize: true, blksize: 512 });
      expect(result.oack).toEqual({ blksize: '512' });
      expect(result.data.toString()).toBe(`# for 127.0.0.1 asking menu.ipxe\n${script.toString()}`);
    } finally {
      await t.close();
    }
  });

  it('serves bytes from memory with their size', async () => {
    const t = await startServer({ source: { open: async () => bytesFile(Buffer.from('loader_conf_files="x"\n')) } });
    try {
      const result = await fetchFile({ port: t.port, file: 'loader.rc', tsize: true });
      expect(result.oack).toEqual({ tsize: '22' });
      expect(result.data.toString()).toBe('loader_conf_files="x"\n');
    } finally {
      await t.close();
    }
  });

  it('answers ERROR 0 when the source fails while reading, and closes the file', async () => {
    let closed = 0;
    const source: FileSource = {
      async open() {
        let calls = 0;
        return {
          size: undefined,
          async read(target: Uint8Array) {
            if (++calls > 1) throw new Error('disk on fire');
            target.fill(1);
            return target.length;
          },
          async close() {
            closed++;
          },
        };
      },
    };
    const t = await startServer({ source });
    try {
      await expect(fetchFile({ port: t.port, file: 'x', blksize: 1468 })).rejects.toThrow(/ERROR 0: Read error/);
      await expect.poll(() => t.finished.length).toBe(1);
      expect(t.finished[0]).toMatchObject({ outcome: 'read-error', reason: 'disk on fire' });
      expect(closed).toBe(1);
    } finally {
      await t.close();
    }
  });
});
