/**
 * The datagram interface on both paths, on loopback: the same behaviour from node:dgram and the native
 * addon, and what only the native one gives (the arrival interface, batches). Under CI the native path
 * must load: a missing compiler would otherwise pass unnoticed as a fallback.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { datagramPath, interfaceIndex, nativeDatagrams, openDatagrams, type DatagramSocket, type DatagramsMode } from '../../../services/net/datagram.js';
import { BeError } from '../../../src/errors.js';

const native = nativeDatagrams();
const paths: DatagramsMode[] = 'module' in native ? ['node', 'native'] : ['node'];
const open = (mode: DatagramsMode, port = 0) =>
  openDatagrams({ mode, address: '127.0.0.1', port, service: 'test', keys: { address: 'test.address', port: 'test.port' }, broadcast: true }, 'test.datagrams');

const sockets: DatagramSocket[] = [];
afterEach(async () => {
  await Promise.all(sockets.splice(0).map((s) => s.close()));
});

interface Got {
  msg: Buffer;
  from: { address: string; port: number };
  arrival: { ifindex: number; local: string } | undefined;
}

function collect(socket: DatagramSocket, count: number): Promise<Got[]> {
  const got: Got[] = [];
  return new Promise((resolve) =>
    socket.onMessage((msg, from, arrival) => {
      got.push({ msg, from, arrival });
      if (got.length === count) resolve(got);
    }),
  );
}

describe('the datagram paths', () => {
  it('loads the native path under CI', () => {
    if (process.env.CI === 'true') expect(native).toHaveProperty('module');
    expect(datagramPath('node', 'k')).toEqual({ path: 'node', why: 'k is node' });
    expect(datagramPath('auto', 'k').path).toBe('module' in native ? 'native' : 'node');
  });

  it.each(paths)('%s: sends and receives, copies each datagram, and names the sender', async (mode) => {
    const a = await open(mode);
    const b = await open(mode);
    sockets.push(a, b);
    expect(a.path).toBe(mode);
    const arrived = collect(b, 100);
    for (let i = 0; i < 100; i++) a.send(new TextEncoder().encode(`datagram ${i}`), b.address().port, '127.0.0.1');
    const got = await arrived;
    expect(got.map((g) => g.msg.toString())).toEqual(Array.from({ length: 100 }, (_, i) => `datagram ${i}`));
    expect(got[0]!.from).toEqual({ address: '127.0.0.1', port: a.address().port });
    if (mode === 'native') expect(got[0]!.arrival).toEqual({ ifindex: interfaceIndex('lo'), local: '127.0.0.1' });
    else expect(got[0]!.arrival).toBeUndefined();
  });

  it.each(paths)('%s: sends a window of datagrams, each gathered from its pieces, in order', async (mode) => {
    const a = await open(mode);
    const b = await open(mode);
    sockets.push(a, b);
    const arrived = collect(b, 70);
    const header = (n: number) => Uint8Array.of(0, 3, n >> 8, n & 255);
    // 70: more than one sendmmsg of 64 on the native path.
    const window = Array.from({ length: 70 }, (_, n) => [header(n), new TextEncoder().encode(`block ${n}`)]);
    a.sendMany(window, b.address().port, '127.0.0.1');
    const got = await arrived;
    expect(got.map((g) => [...g.msg.subarray(0, 4)])).toEqual(window.map(([h]) => [...h!]));
    expect(got.map((g) => g.msg.subarray(4).toString())).toEqual(window.map((_, n) => `block ${n}`));
  });

  it.each(paths)('%s: sends datagrams to several peers at once, each to its own', async (mode) => {
    const a = await open(mode);
    const b = await open(mode);
    const c = await open(mode);
    sockets.push(a, b, c);
    const toB = collect(b, 35);
    const toC = collect(c, 35);
    // 70 alternating: more than one sendmmsg of 64 on the native path, the second starting mid-way.
    const datagrams = Array.from({ length: 70 }, (_, n) => ({
      bytes: new TextEncoder().encode(`reply ${n}`),
      port: (n % 2 === 0 ? b : c).address().port,
      address: '127.0.0.1',
      via: { ifindex: interfaceIndex('lo') },
    }));
    a.sendEach(datagrams);
    const [gotB, gotC] = await Promise.all([toB, toC]);
    expect(gotB.map((g) => g.msg.toString())).toEqual(Array.from({ length: 35 }, (_, i) => `reply ${2 * i}`));
    expect(gotC.map((g) => g.msg.toString())).toEqual(Array.from({ length: 35 }, (_, i) => `reply ${2 * i + 1}`));
    expect(gotC[0]!.from).toEqual({ address: '127.0.0.1', port: a.address().port });
  });

  it.each(paths)('%s: a port in use is one BeError line naming the key', async (mode) => {
    const a = await open(mode);
    sockets.push(a);
    const refused = await open(mode, a.address().port).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(BeError);
    expect((refused as BeError).message).toBe(
      `test: cannot bind UDP 127.0.0.1:${a.address().port}: address already in use (another server holds port ${a.address().port}): stop it or set test.port to a free port`,
    );
  });

  it.each(paths)('%s: reports a failed send to its error handler, and close is idempotent', async (mode) => {
    const a = await open(mode);
    const errors: string[] = [];
    a.onError((err) => errors.push(String(err.code)));
    // A datagram over 64 KiB cannot be sent: EMSGSIZE on both paths.
    a.send(new Uint8Array(70_000), 9, '127.0.0.1');
    await expect.poll(() => errors).toEqual(['EMSGSIZE']);
    await a.close();
    await a.close();
    a.send(new Uint8Array(1), 9, '127.0.0.1'); // after close: nothing, no throw
  });

  it.each(paths)('%s: a window stopped part-way by a failed datagram delivers those before it and reports the error', async (mode) => {
    const a = await open(mode);
    const b = await open(mode);
    sockets.push(a, b);
    const errors: string[] = [];
    a.onError((err) => errors.push(String(err.code)));
    const arrived = collect(b, 2);
    // The third cannot be sent (over 64 KiB): sendmmsg(2) sends two, and reports EMSGSIZE on the next call.
    const window = [0, 1, 2, 3, 4].map((n) => (n === 2 ? new Uint8Array(70_000) : new TextEncoder().encode(`block ${n}`)));
    a.sendMany(window, b.address().port, '127.0.0.1');
    expect((await arrived).map((g) => g.msg.toString())).toEqual(['block 0', 'block 1']);
    await expect.poll(() => errors).toContain('EMSGSIZE');
  });

  it.skipIf(!('module' in native))('native: drops a datagram larger than its slot, and reads the next ones whole, each with its own sender', async () => {
    const small = await openDatagrams(
      { mode: 'native', address: '127.0.0.1', port: 0, service: 'test', keys: { address: 'test.address', port: 'test.port' }, maxDatagram: 64 },
      'test.datagrams',
    );
    const a = await open('native');
    const b = await open('native');
    sockets.push(small, a, b);
    const arrived = collect(small, 3);
    // The read headers are reused from batch to batch: a truncated read and a sender's address length must not carry over.
    a.send(new Uint8Array(100), small.address().port, '127.0.0.1');
    await new Promise((resolve) => setTimeout(resolve, 20));
    b.send(new TextEncoder().encode('from b'), small.address().port, '127.0.0.1');
    await new Promise((resolve) => setTimeout(resolve, 20));
    a.send(new TextEncoder().encode('from a'), small.address().port, '127.0.0.1');
    b.send(new Uint8Array(64).fill(7), small.address().port, '127.0.0.1');
    const got = await arrived;
    expect(got.map((g) => [g.msg.length, g.from.port])).toEqual([
      [6, b.address().port],
      [6, a.address().port],
      [64, b.address().port],
    ]);
    expect(got.map((g) => g.arrival?.local)).toEqual(['127.0.0.1', '127.0.0.1', '127.0.0.1']);
  });

  it.skipIf(!('module' in native))('native: sends by an interface index', async () => {
    const a = await open('native');
    const b = await open('native');
    sockets.push(a, b);
    const arrived = collect(b, 1);
    a.send(Uint8Array.of(1, 2, 3), b.address().port, '127.0.0.1', { ifindex: interfaceIndex('lo'), source: '127.0.0.1' });
    expect([...(await arrived)[0]!.msg]).toEqual([1, 2, 3]);
    expect(interfaceIndex('no-such-if0')).toBe(0);
  });
});
