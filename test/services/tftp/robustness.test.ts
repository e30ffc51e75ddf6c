/**
 * The server under stress: a lossy path, a flood of random and mutated datagrams during real transfers,
 * and thousands of transfers abandoned at random points. Sizes are chosen so the file runs in well under
 * a minute on two cores; nothing here asserts a duration.
 */
import { createHash } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { encode, type Packet } from '../../../src/tftp/packet.js';
import { fetchFile, TftpClientError } from './client.js';
import { startServer } from './harness.js';
import { LossyRelay, seededRandom } from './relay.js';

const sha = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

function pattern(size: number, seed: number): Buffer {
  const random = seededRandom(seed);
  const data = Buffer.alloc(size);
  for (let i = 0; i < size; i++) data[i] = Math.floor(random() * 256);
  return data;
}

const openFds = () => readdirSync('/proc/self/fd').length;

describe('TFTP over a path that drops 5 % of datagrams both ways', () => {
  it('completes every transfer with the right bytes', async () => {
    const t = await startServer({ logLevel: 'silent', timing: { retransmitMs: 25, retries: 12, idleTimeoutMs: 60_000 } });
    const relay = new LossyRelay(t.port, 0.05, seededRandom(5));
    await relay.start();
    try {
      const small = pattern(200_000, 1);
      const large = pattern(1_000_000, 2);
      const text = Buffer.from('a\nb\r\nc\rd\n'.repeat(3000));
      writeFileSync(join(t.root, 'small'), small);
      writeFileSync(join(t.root, 'large'), large);
      writeFileSync(join(t.root, 'text'), text);
      const common = { port: relay.port, retransmitMs: 60, retries: 20 };
      const runs = await Promise.all([
        fetchFile({ ...common, file: 'small' }),
        fetchFile({ ...common, file: 'small', blksize: 1468, tsize: true }),
        fetchFile({ ...common, file: 'large', blksize: 1468, windowsize: 8 }),
        fetchFile({ ...common, file: 'large', blksize: 1024, windowsize: 16 }),
        fetchFile({ ...common, file: 'text', mode: 'netascii', blksize: 512 }),
      ]);
      expect(sha(runs[0]!.data)).toBe(sha(small));
      expect(sha(runs[1]!.data)).toBe(sha(small));
      expect(sha(runs[2]!.data)).toBe(sha(large));
      expect(sha(runs[3]!.data)).toBe(sha(large));
      expect(runs[4]!.data.toString()).toBe(text.toString().replace(/\r/g, '\r\0').replace(/\n/g, '\r\n'));
      // The loss really happened, in both directions' share of ~2,000 datagrams.
      expect(relay.dropped).toBeGreaterThan(20);
    } finally {
      relay.close();
      await t.close();
    }
  });
});

/** Random bytes, and valid packets with bytes flipped, cut or appended. */
function fuzzDatagram(random: () => number, files: readonly string[]): Uint8Array {
  const int = (n: number) => Math.floor(random() * n);
  const kind = int(4);
  if (kind === 0) {
    const bytes = new Uint8Array(int(600));
    for (let i = 0; i < bytes.length; i++) bytes[i] = int(256);
    return bytes;
  }
  const names = [...files, 'missing', '../etc/passwd', '', '\\..\\x', 'a'.repeat(300)];
  const options = [
    { name: 'blksize', value: String(int(70_000)) },
    { name: 'windowsize', value: String(int(70_000)) },
    { name: 'tsize', value: '0' },
    { name: 'timeout', value: String(int(300)) },
    { name: 'x' + int(9), value: 'y' },
  ].filter(() => random() < 0.4);
  const packets: Packet[] = [
    { op: 'RRQ', filename: names[int(names.length)]!, mode: ['octet', 'netascii', 'mail', 'OcTeT'][int(4)]!, options },
    { op: 'WRQ', filename: names[int(names.length)]!, mode: 'octet', options },
    { op: 'ACK', block: int(65536) },
    { op: 'DATA', block: int(65536), data: new Uint8Array(int(1500)) },
    { op: 'ERROR', code: int(9), message: 'fuzz' },
    { op: 'OACK', options },
  ];
  const bytes = Array.from(encode(packets[int(packets.length)]!));
  if (kind === 2) {
    for (let flips = 1 + int(3); flips > 0 && bytes.length > 0; flips--) bytes[int(bytes.length)] = int(256);
  } else if (kind === 3) {
    if (random() < 0.5) bytes.length = int(bytes.length + 1);
    else for (let i = int(8); i > 0; i--) bytes.push(int(256));
  }
  return Uint8Array.from(bytes);
}

describe('TFTP fuzzing', () => {
  it('stays up through 100,000 random and mutated datagrams while real transfers finish intact', async () => {
    const t = await startServer({ logLevel: 'silent', timing: { retransmitMs: 40, retries: 10, idleTimeoutMs: 30_000 } });
    const fuzzers: Socket[] = [];
    try {
      const files = ['a', 'b'];
      const contents = [pattern(150_000, 3), pattern(40_000, 4)];
      files.forEach((name, i) => writeFileSync(join(t.root, name), contents[i]!));
      const livePorts = new Set<number>();
      for (let i = 0; i < 4; i++) {
        const socket = createSocket('udp4');
        socket.on('message', () => {}); // replies (ERROR 5, DATA, refusals) are read and ignored
        await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
        fuzzers.push(socket);
      }
      let fuzzing = true;
      let legit = 0;
      const client = async (index: number) => {
        while (fuzzing) {
          const which = (index + legit) % 2;
          let tid: number | undefined;
          const result = await fetchFile({
            port: t.port,
            file: files[which]!,
            blksize: [512, 1468, 1024][index % 3],
            windowsize: [1, 4, 16][index % 3],
            retransmitMs: 100,
            retries: 30,
            onTid: (port) => {
              tid = port;
              livePorts.add(port);
            },
          });
          // Forgotten once its transfer is over: the system may hand the port number to a new client
          // socket of ours next, and a fuzzed ERROR sent there would end a real transfer (seen in CI).
          if (tid !== undefined) livePorts.delete(tid);
          expect(sha(result.data)).toBe(sha(contents[which]!));
          legit++;
        }
      };
      const clients = [0, 1, 2, 3, 4, 5].map(client);
      const random = seededRandom(42);
      const total = 100_000;
      for (let sent = 0; sent < total; sent++) {
        const ports = [...livePorts];
        // Half to the listener, half to the ports of transfers under way.
        const port = ports.length > 0 && random() < 0.5 ? ports[Math.floor(random() * ports.length)]! : t.port;
        fuzzers[sent % fuzzers.length]!.send(fuzzDatagram(random, files), port, '127.0.0.1');
        if (sent % 100 === 99) await yieldLoop();
        if (livePorts.size > 200) livePorts.clear();
      }
      fuzzing = false;
      await Promise.all(clients);
      expect(legit).toBeGreaterThanOrEqual(6);
      // Still serving after the storm.
      const after = await fetchFile({ port: t.port, file: 'b', blksize: 1468 });
      expect(sha(after.data)).toBe(sha(contents[1]!));
    } finally {
      for (const socket of fuzzers) socket.close();
      await t.close();
    }
  });
});

describe('TFTP descriptor hygiene', () => {
  it('5,000 transfers abandoned at random points leave the open-file count where it started', async () => {
    await yieldLoop();
    const baseline = openFds();
    const t = await startServer({ logLevel: 'silent', timing: { retransmitMs: 5, retries: 1, idleTimeoutMs: 10_000 } });
    try {
      writeFileSync(join(t.root, 'f'), pattern(20 * 512 + 7, 9));
      const random = seededRandom(7);
      const outcomes = new Map<string, number>();
      const count = (key: string) => outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
      let next = 0;
      const worker = async () => {
        while (next < 5000) {
          const i = next++;
          const roll = random();
          const how = random() < 0.5 ? 'error' : 'vanish';
          const blocks = Math.floor(random() * 21); // 0 aborts on the OACK; 21 blocks would complete
          try {
            if (roll < 0.05) {
              await fetchFile({ port: t.port, file: 'missing' });
            } else {
              const result = await fetchFile({
                port: t.port,
                file: 'f',
                tsize: blocks === 0 || roll < 0.5,
                windowsize: roll < 0.3 ? 4 : undefined,
                abortAfter: roll < 0.95 ? { blocks, how } : undefined,
                retransmitMs: 200,
                retries: 10,
              });
              count(result.aborted ? `aborted-${how}` : 'complete');
            }
          } catch (err) {
            if (!(err instanceof TftpClientError)) throw err;
            count(`error-${err.code}`);
          }
          if (i % 500 === 0) await yieldLoop();
        }
      };
      await Promise.all(Array.from({ length: 32 }, worker));
      // Every kind of exit happened.
      expect(outcomes.get('aborted-error')).toBeGreaterThan(100);
      expect(outcomes.get('aborted-vanish')).toBeGreaterThan(100);
      expect(outcomes.get('error-1')).toBeGreaterThan(100);
      await expect.poll(() => t.server.activeTransfers, { timeout: 20_000 }).toBe(0);
      expect(t.finished.length).toBeGreaterThanOrEqual(4500);
      expect(new Set(t.finished.map((f) => f.outcome))).toEqual(new Set(['complete', 'client-error', 'timeout']));
    } finally {
      await t.close();
    }
    // Sockets close on the next turn of the loop; poll until they have.
    await expect.poll(openFds, { timeout: 10_000 }).toBe(baseline);
  });

  it('closing the server with transfers running closes every descriptor', async () => {
    await yieldLoop();
    const baseline = openFds();
    const t = await startServer({ logLevel: 'silent', timing: { retransmitMs: 60_000, retries: 1, idleTimeoutMs: 60_000 } });
    writeFileSync(join(t.root, 'f'), pattern(100_000, 11));
    const stalled = Array.from({ length: 50 }, () => fetchFile({ port: t.port, file: 'f', abortAfter: { blocks: 1, how: 'vanish' } }));
    await Promise.all(stalled);
    expect(t.server.activeTransfers).toBe(50);
    await t.close();
    expect(t.server.activeTransfers).toBe(0);
    await expect.poll(openFds, { timeout: 10_000 }).toBe(baseline);
  });
});
