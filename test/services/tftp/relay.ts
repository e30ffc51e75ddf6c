/**
 * A lossy UDP relay for TFTP tests: clients talk to the relay as if it were the server. Every port the
 * server uses (the listener and each transfer's TID) gets a front port of its own, so clients see the same
 * TID rules as without the relay. Datagrams are dropped both ways with a seeded pseudo-random choice.
 */
import { createSocket, type Socket } from 'node:dgram';

/** Mulberry32: small, seeded, good enough to pick which datagrams to drop. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Session {
  /** Talks to the server for one client. */
  upstream: Socket;
  clientPort: number;
  /** Front sockets by server port. */
  fronts: Map<number, Socket>;
}

export class LossyRelay {
  private listener!: Socket;
  private readonly sessions = new Map<number, Session>();
  private readonly sockets = new Set<Socket>();
  dropped = 0;
  forwarded = 0;

  constructor(
    private readonly serverPort: number,
    private readonly lossRate: number,
    private readonly random: () => number,
  ) {}

  get port(): number {
    return this.listener.address().port;
  }

  async start(): Promise<void> {
    this.listener = await this.bind();
    this.listener.on('message', (msg, rinfo) => {
      const session = this.session(rinfo.port);
      this.forward(msg, session.upstream, this.serverPort);
    });
  }

  private async bind(): Promise<Socket> {
    const socket = createSocket('udp4');
    this.sockets.add(socket);
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    return socket;
  }

  private forward(msg: Buffer, via: Socket, port: number): void {
    if (this.random() < this.lossRate) {
      this.dropped++;
      return;
    }
    this.forwarded++;
    via.send(msg, port, '127.0.0.1');
  }

  private session(clientPort: number): Session {
    const session = this.sessions.get(clientPort);
    if (session) return session;
    const upstream = createSocket('udp4');
    this.sockets.add(upstream);
    const created: Session = { upstream, clientPort, fronts: new Map() };
    upstream.bind(0, '127.0.0.1');
    upstream.on('message', (msg, rinfo) => {
      const front = created.fronts.get(rinfo.port);
      if (front) {
        this.forward(msg, front, clientPort);
        return;
      }
      // The first datagram from a new server port: give it a front port of its own, then forward.
      const pending = createSocket('udp4');
      this.sockets.add(pending);
      created.fronts.set(rinfo.port, pending);
      pending.on('message', (back) => this.forward(back, upstream, rinfo.port));
      pending.bind(0, '127.0.0.1', () => this.forward(msg, pending, clientPort));
    });
    this.sessions.set(clientPort, created);
    return created;
  }

  close(): void {
    for (const socket of this.sockets) {
      try {
        socket.close();
      } catch {
        // already closed
      }
    }
    this.sockets.clear();
  }
}
