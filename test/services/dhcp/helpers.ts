/** A DHCP test client on loopback: sends requests to a server and collects its replies by xid. */
import { createSocket, type Socket } from 'node:dgram';
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../../services/log.js';
import { BOOTREQUEST, decodePacket, emptyPacket, encodePacket, MessageType, setOption, type DhcpPacket } from '../../../src/dhcp/packet.js';

export class LogCapture {
  readonly lines: Record<string, unknown>[] = [];
  readonly log: Logger;
  constructor(level: 'debug' | 'info' = 'debug') {
    const sink = new Writable({
      write: (chunk: Buffer, _enc, done) => {
        for (const line of chunk.toString().split('\n')) if (line) this.lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    this.log = createLogger({ level, destination: sink, pretty: false });
  }
  messages(): string[] {
    return this.lines.map((l) => String(l.msg));
  }
}

let nextXid = 0x1000;

export function macBytes(last: number): Uint8Array {
  return Uint8Array.of(0x52, 0x54, 0x00, 0xbe, 0x01, last);
}

export function request(type: number, mac: Uint8Array, fields: Partial<DhcpPacket> = {}): DhcpPacket {
  const p = emptyPacket(BOOTREQUEST);
  p.xid = nextXid++;
  p.chaddr = mac;
  Object.assign(p, fields);
  setOption(p, 'messageType', type);
  return p;
}

export class TestClient {
  private readonly waiting = new Map<number, (p: DhcpPacket) => void>();
  readonly received: { packet: DhcpPacket; from: string }[] = [];
  private constructor(readonly socket: Socket) {
    socket.on('message', (msg, rinfo) => {
      let packet: DhcpPacket;
      try {
        packet = decodePacket(msg);
      } catch {
        return;
      }
      this.received.push({ packet, from: `${rinfo.address}:${rinfo.port}` });
      this.waiting.get(packet.xid)?.(packet);
    });
  }

  static async open(): Promise<TestClient> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '0.0.0.0', resolve));
    return new TestClient(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  send(packet: DhcpPacket | Uint8Array, port: number, address = '127.0.0.1'): Promise<void> {
    const bytes = packet instanceof Uint8Array ? packet : encodePacket(packet);
    return new Promise((resolve, reject) => this.socket.send(bytes, port, address, (err) => (err ? reject(err) : resolve())));
  }

  /** Sends and waits for the reply with the same xid. */
  async exchange(packet: DhcpPacket, port: number, address = '127.0.0.1'): Promise<DhcpPacket> {
    const reply = new Promise<DhcpPacket>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply to xid 0x${packet.xid.toString(16)}`)), 5000);
      this.waiting.set(packet.xid, (p) => {
        clearTimeout(timer);
        this.waiting.delete(packet.xid);
        resolve(p);
      });
    });
    await this.send(packet, port, address);
    return reply;
  }

  /**
   * Sends a request that must get no answer, then an INFORM that must: the server handles datagrams in
   * order and decides silence without waiting on anything, so once the INFORM is answered, a reply to
   * the first would already have arrived. Returns the replies to the silent request (expected: none).
   */
  async silent(packet: DhcpPacket, port: number, barrier = request(MessageType.INFORM, macBytes(250), { ciaddr: '127.0.0.1' })): Promise<DhcpPacket[]> {
    await this.send(packet, port);
    await this.exchange(barrier, port);
    return this.received.filter((r) => r.packet.xid === packet.xid).map((r) => r.packet);
  }

  close(): void {
    this.socket.close();
  }
}
