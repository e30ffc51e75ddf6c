/** A bare UDP peer for packet-level tests: send what you like, read decoded replies in order. */
import { createSocket, type Socket } from 'node:dgram';
import { decode, encode, type Packet } from '../../../src/tftp/packet.js';

export interface Received {
  packet: Packet;
  port: number;
}

export class RawPeer {
  private readonly queue: Received[] = [];
  private waiter: ((r: Received) => void) | undefined;
  private constructor(readonly socket: Socket) {
    socket.on('message', (msg, rinfo) => {
      const received = { packet: decode(msg), port: rinfo.port };
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = undefined;
        w(received);
      } else this.queue.push(received);
    });
  }

  static async open(): Promise<RawPeer> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    return new RawPeer(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  send(packet: Packet | Uint8Array, port: number): void {
    this.socket.send(packet instanceof Uint8Array ? packet : encode(packet), port, '127.0.0.1');
  }

  /** The next datagram; the guard only stops a broken test from hanging, it asserts nothing about time. */
  next(guardMs = 20_000): Promise<Received> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no datagram arrived')), guardMs);
      this.waiter = (r) => {
        clearTimeout(timer);
        resolve(r);
      };
    });
  }

  close(): void {
    this.socket.close();
  }
}
