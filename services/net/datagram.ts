/**
 * One interface for UDP sockets with two ways underneath: the native path (native/datagram.c, built
 * by scripts/build-native.mjs), which reads in batches and knows each datagram's arrival interface and
 * can send by an interface whatever the routing table says; and node:dgram, which knows neither. The
 * native path is taken when it loads (`auto`), unless the configuration says `node`; when it cannot
 * load, `auto` falls back to dgram by itself and `native` is an error.
 */
import { createRequire as requireFrom } from 'node:module';
import { constants } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'node:dgram';
import { BeError } from '../../src/errors.js';
import { intToIPv4, ipv4ToInt } from '../../src/net.js';
import { packageRoot } from '../config.js';
import { bindFailureMessage, bindUdp, type BindOptions } from '../udp.js';

export type DatagramsMode = 'auto' | 'native' | 'node';
export type DatagramPath = 'native' | 'node';

/** Where a datagram arrived: the interface (its index) and the local address it was sent to. */
export interface Arrival {
  ifindex: number;
  local: string;
}

export interface Sender {
  address: string;
  port: number;
}

export type MessageHandler = (msg: Buffer, from: Sender, arrival: Arrival | undefined) => void;

/** How a datagram leaves: by this interface (a broadcast too, with no route for it), from this address. */
export interface Via {
  ifindex?: number;
  source?: string;
}

/** One datagram and where it goes, for sendEach. */
export interface Outgoing {
  bytes: Uint8Array;
  port: number;
  address: string;
  via?: Via | undefined;
}

export interface DatagramSocket {
  readonly path: DatagramPath;
  /** The bound address and port. */
  address(): Sender;
  /**
   * Starts delivering datagrams. By default each is a copy the handler may keep; with `copy: false`
   * the native path hands a view of its batch buffer, valid only until the handler returns (a TFTP
   * ACK is decoded at once: no allocation per block).
   */
  onMessage(handler: MessageHandler, options?: { copy?: boolean }): void;
  /** A send that failed (dgram's 'error' event, or the native path's errno). */
  onError(handler: (err: NodeJS.ErrnoException) => void): void;
  /** Fire and forget; pieces are sent as one datagram (gathered, not copied); `via` is honoured on the native path only. */
  send(bytes: Uint8Array | readonly Uint8Array[], port: number, address: string, via?: Via): void;
  /** Several datagrams to one peer (a TFTP window): one sendmmsg(2) on the native path, one send each on node:dgram. */
  sendMany(datagrams: readonly (Uint8Array | readonly Uint8Array[])[], port: number, address: string): void;
  /** Datagrams to several peers (DHCP replies of one turn of the loop): sendmmsg(2) in batches on the native path. */
  sendEach(datagrams: readonly Outgoing[]): void;
  close(): Promise<void>;
}

export interface OpenOptions extends BindOptions {
  mode: DatagramsMode;
  /** SO_BROADCAST (dgram's setBroadcast; always on for native sockets). */
  broadcast?: boolean;
  /** Native path: the largest datagram read (larger ones are dropped); 64 of them are read at a time. Default 2048. */
  maxDatagram?: number;
}

interface NativeModule {
  open(address: string, port: number, recvBuffer: number, sendBuffer: number, reuseAddr: boolean): object;
  port(socket: object): number;
  start(socket: object, payload: ArrayBuffer, slot: number, meta: ArrayBuffer, callback: (count: number) => void): void;
  send(socket: object, bytes: Uint8Array | readonly Uint8Array[], address: number, port: number, ifindex: number, source: number): number;
  sendMany(socket: object, datagrams: readonly (Uint8Array | readonly Uint8Array[])[], address: number, port: number, destinations?: Int32Array): number;
  close(socket: object): void;
  interfaceIndex(name: string): number;
  interfaceName(index: number): string | undefined;
  readonly batch: number;
  readonly metaFields: number;
}

let loaded: { module: NativeModule } | { error: string } | undefined;

/** The native module, or why it cannot be had (not built, built for another Node, another OS). */
export function nativeDatagrams(): { module: NativeModule } | { error: string } {
  if (loaded) return loaded;
  const file = join(packageRoot(), 'build', 'native', 'datagram.node');
  try {
    loaded = { module: requireFrom(import.meta.url)(file) as NativeModule };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    loaded = { error: code === 'MODULE_NOT_FOUND' ? `${file} is not built (npm run build compiles it)` : (err as Error).message.split('\n')[0]! };
  }
  return loaded;
}

/** Which path a mode takes here, and why when it is not the native one. Throws for `native` when it cannot load. */
export function datagramPath(mode: DatagramsMode, key: string): { path: DatagramPath; why?: string } {
  if (mode === 'node') return { path: 'node', why: `${key} is node` };
  const native = nativeDatagrams();
  if ('module' in native) return { path: 'native' };
  if (mode === 'native') throw new BeError('E_CONFIG', `${key} is native, but the native datagram path cannot load: ${native.error}`);
  return { path: 'node', why: native.error };
}

/** One log line at a service's start: which path its sockets take, and why when it is not the native one. */
export function logDatagramPath(log: { info(fields: object, msg: string): void }, mode: DatagramsMode, key: string, service: string): void {
  const { path, why } = datagramPath(mode, key);
  if (path === 'native') log.info({ datagrams: 'native' }, `${service}: native datagram path`);
  else log.info({ datagrams: 'node', why }, `${service}: node:dgram datagram path`);
}

const errnoNames = new Map(Object.entries(constants.errno).map(([name, number]) => [number, name]));

function errnoError(syscall: string, errno: number): NodeJS.ErrnoException {
  const code = errnoNames.get(errno) ?? `E${errno}`;
  return Object.assign(new Error(`${syscall} ${code}`), { code, errno: -errno, syscall });
}

/** Opens a bound socket on the path `options.mode` picks; rejects with BeError('E_BIND') as bindUdp does. */
export async function openDatagrams(options: OpenOptions, key: string): Promise<DatagramSocket> {
  const { path } = datagramPath(options.mode, key);
  if (path === 'native') return NativeSocket.open((nativeDatagrams() as { module: NativeModule }).module, options);
  const socket = await bindUdp(options);
  if (options.broadcast) socket.setBroadcast(true);
  return new NodeSocket(socket);
}

class NodeSocket implements DatagramSocket {
  readonly path = 'node';
  private errorHandler: (err: NodeJS.ErrnoException) => void = () => {};
  private closed = false;
  private readonly afterSend = (err: Error | null) => {
    if (err) this.errorHandler(err);
  };
  constructor(private readonly socket: Socket) {}

  address(): Sender {
    const { address, port } = this.socket.address();
    return { address, port };
  }

  onMessage(handler: MessageHandler): void {
    this.socket.on('message', (msg, rinfo) => handler(msg, { address: rinfo.address, port: rinfo.port }, undefined));
  }

  onError(handler: (err: NodeJS.ErrnoException) => void): void {
    this.errorHandler = handler;
    this.socket.on('error', handler);
  }

  send(bytes: Uint8Array | readonly Uint8Array[], port: number, address: string): void {
    if (this.closed) return;
    // With no callback, dgram drops a failed send without a word (ENETUNREACH for a broadcast with no
    // route for it: every OFFER lost, nothing logged), whatever its documentation says of 'error'.
    this.socket.send(bytes as Uint8Array, port, address, this.afterSend);
  }

  sendMany(datagrams: readonly (Uint8Array | readonly Uint8Array[])[], port: number, address: string): void {
    for (const datagram of datagrams) this.send(datagram, port, address);
  }

  sendEach(datagrams: readonly Outgoing[]): void {
    for (const datagram of datagrams) this.send(datagram.bytes, datagram.port, datagram.address);
  }

  close(): Promise<void> {
    this.closed = true;
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve(); // already closed
      }
    });
  }
}

class NativeSocket implements DatagramSocket {
  readonly path = 'native';
  private errorHandler: (err: NodeJS.ErrnoException) => void = () => {};
  private closed = false;

  private constructor(
    private readonly native: NativeModule,
    private readonly handle: object,
    private readonly bound: Sender,
    private readonly slotBytes: number,
  ) {}

  static open(native: NativeModule, options: OpenOptions): NativeSocket {
    let handle: object;
    try {
      handle = native.open(options.address, options.port, options.recvBufferSize ?? 0, options.sendBufferSize ?? 0, options.reuseAddr ?? false);
    } catch (err) {
      const errno = Number((err as NodeJS.ErrnoException).code);
      const cause = Number.isInteger(errno) ? errnoError('bind', errno) : (err as NodeJS.ErrnoException);
      throw new BeError('E_BIND', bindFailureMessage(cause, options), undefined, { cause });
    }
    return new NativeSocket(native, handle, { address: options.address, port: native.port(handle) }, options.maxDatagram ?? 2048);
  }

  address(): Sender {
    return this.bound;
  }

  onMessage(handler: MessageHandler, options: { copy?: boolean } = {}): void {
    const copy = options.copy ?? true;
    const { batch, metaFields } = this.native;
    const slotBytes = this.slotBytes;
    const payload = new ArrayBuffer(slotBytes * batch);
    const slots = Array.from({ length: batch }, (_, i) => Buffer.from(payload, i * slotBytes, slotBytes));
    const views = [...slots];
    const bytes = new Uint8Array(payload);
    const metaBuffer = new ArrayBuffer(4 * metaFields * batch);
    const meta = new Int32Array(metaBuffer);
    // The same peer and local address come again and again (DHCP: 0.0.0.0:68 and the server's address):
    // convert each only when it changes.
    const fromAddress = new AddressText();
    const localAddress = new AddressText();
    this.native.start(this.handle, payload, slotBytes, metaBuffer, (count) => {
      // A copy unless told otherwise: the next batch reuses these bytes, and decoders keep views. One
      // allocation for the whole batch, not one per datagram, and from Node's shared pool when it is
      // small (a few DHCP requests): an ArrayBuffer of its own per batch showed in GC profiles.
      let copies: Buffer | undefined;
      if (copy) {
        let total = 0;
        for (let i = 0; i < count; i++) total += meta[i * metaFields]!;
        copies = Buffer.allocUnsafe(total);
      }
      let at = 0;
      for (let i = 0; i < count; i++) {
        const m = i * metaFields;
        if (meta[m + 5] !== 0) continue; // truncated: larger than any request we serve
        const length = meta[m]!;
        let msg: Buffer;
        if (copies) {
          copies.set(bytes.subarray(i * slotBytes, i * slotBytes + length), at);
          msg = copies.subarray(at, at + length);
          at += length;
        } else {
          // A transfer's ACKs are all 4 bytes: the view of the last length read into a slot serves again.
          if (views[i]!.length !== length) views[i] = slots[i]!.subarray(0, length);
          msg = views[i]!;
        }
        const from = { address: fromAddress.of(meta[m + 1]!), port: meta[m + 2]! };
        const ifindex = meta[m + 3]!;
        handler(msg, from, ifindex === 0 ? undefined : { ifindex, local: localAddress.of(meta[m + 4]!) });
      }
    });
  }

  onError(handler: (err: NodeJS.ErrnoException) => void): void {
    this.errorHandler = handler;
  }

  send(bytes: Uint8Array | readonly Uint8Array[], port: number, address: string, via?: Via): void {
    if (this.closed) return;
    const sent = this.native.send(this.handle, bytes, this.number(address), port, via?.ifindex ?? 0, via?.source ? ipv4ToInt(via.source) : 0);
    if (sent < 0) this.errorHandler(errnoError('sendmsg', -sent));
  }

  sendMany(datagrams: readonly (Uint8Array | readonly Uint8Array[])[], port: number, address: string): void {
    if (this.closed) return;
    const to = this.number(address);
    this.sendInBatches(datagrams.length, (at, count) =>
      this.native.sendMany(this.handle, count === datagrams.length ? datagrams : datagrams.slice(at, at + count), to, port),
    );
  }

  private destinations: Int32Array | undefined;
  private lastAddress = '';
  private lastNumber = 0;

  /** An address as the addon takes it, remembered for the last one: a transfer sends every block to the same peer. */
  private number(address: string): number {
    if (address !== this.lastAddress) {
      this.lastNumber = ipv4ToInt(address);
      this.lastAddress = address;
    }
    return this.lastNumber;
  }

  sendEach(datagrams: readonly Outgoing[]): void {
    if (this.closed) return;
    this.destinations ??= new Int32Array(4 * this.native.batch);
    const destinations = this.destinations;
    this.sendInBatches(datagrams.length, (at, count) => {
      const part = datagrams.slice(at, at + count);
      part.forEach((datagram, i) => {
        destinations[4 * i] = this.number(datagram.address);
        destinations[4 * i + 1] = datagram.port;
        destinations[4 * i + 2] = datagram.via?.ifindex ?? 0;
        destinations[4 * i + 3] = datagram.via?.source ? ipv4ToInt(datagram.via.source) : 0;
      });
      return this.native.sendMany(
        this.handle,
        part.map((datagram) => datagram.bytes),
        0,
        0,
        destinations,
      );
    });
  }

  /**
   * `count` datagrams in sendmmsg batches, `sendBatch(at, n)` sending n from `at` and returning how many
   * went (or -errno). Fewer than n is a partial send: the next batch starts at the first one left, and
   * sendmmsg(2) then reports the error that stopped it, which ends the loop; the rest is lost, as one
   * failed send would be (TFTP's timer resends, DHCP clients retry), and the error handler hears why.
   */
  private sendInBatches(count: number, sendBatch: (at: number, n: number) => number): void {
    for (let at = 0; at < count; ) {
      const sent = sendBatch(at, Math.min(this.native.batch, count - at));
      if (sent < 0) {
        this.errorHandler(errnoError('sendmmsg', -sent));
        return;
      }
      if (sent === 0) return; // sendmmsg(2) fails rather than send nothing; defensive
      at += sent;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.native.close(this.handle);
  }
}

/** An interface's index, 0 when there is no such interface or no native path to ask. */
export function interfaceIndex(name: string): number {
  const native = nativeDatagrams();
  return 'module' in native ? native.module.interfaceIndex(name) : 0;
}

/** An IPv4 address as text, remembered for the last number converted. */
class AddressText {
  private number = -1;
  private text = '';

  of(value: number): string {
    if (value !== this.number) {
      this.number = value;
      this.text = intToIPv4(value >>> 0);
    }
    return this.text;
  }
}
