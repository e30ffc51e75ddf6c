/**
 * A small TFTP read client of our own for tests and the benchmark: RFC 1350 with RFC 2347 options and an
 * RFC 7440 window. It follows the RFC where real clients disagree, and it can stop at a chosen point so
 * tests can abort transfers deliberately. Written from the RFCs; it shares the codec with the server.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { decode, encode, type Packet, type TftpOption } from '../../../src/tftp/packet.js';

export interface FetchOptions {
  host?: string;
  port: number;
  file: string;
  mode?: string;
  blksize?: number;
  windowsize?: number;
  tsize?: boolean;
  /** Extra options sent as they are. */
  options?: TftpOption[];
  /** Milliseconds without a packet before the client resends its last packet. */
  retransmitMs?: number;
  retries?: number;
  /**
   * Abort after this many DATA packets have been received in order (0: on the OACK): `error` sends
   * ERROR 0 to the server, `vanish` closes the socket without a word.
   */
  abortAfter?: { blocks: number; how: 'error' | 'vanish' };
  /** Called once the server's transfer port is known. */
  onTid?: (port: number) => void;
}

export interface FetchResult {
  data: Buffer;
  oack: Record<string, string> | undefined;
  /** DATA packets received, including duplicates. */
  dataPackets: number;
  aborted: boolean;
}

export class TftpClientError extends Error {
  constructor(
    readonly code: number,
    readonly serverMessage: string,
  ) {
    super(`server sent ERROR ${code}: ${serverMessage}`);
  }
}

export function fetchFile(options: FetchOptions): Promise<FetchResult> {
  const host = options.host ?? '127.0.0.1';
  const socket: Socket = createSocket('udp4');
  const requested: TftpOption[] = [...(options.options ?? [])];
  if (options.blksize !== undefined) requested.push({ name: 'blksize', value: String(options.blksize) });
  if (options.windowsize !== undefined) requested.push({ name: 'windowsize', value: String(options.windowsize) });
  if (options.tsize) requested.push({ name: 'tsize', value: '0' });
  const rrq = encode({ op: 'RRQ', filename: options.file, mode: options.mode ?? 'octet', options: requested });
  const retransmitMs = options.retransmitMs ?? 1000;
  const retries = options.retries ?? 5;

  return new Promise<FetchResult>((resolve, reject) => {
    let tid: number | undefined;
    let blksize = 512;
    let windowsize = 1;
    let oack: Record<string, string> | undefined;
    const chunks: Buffer[] = [];
    let expected = 1; // absolute number of the next block wanted
    let inWindow = 0;
    let dataPackets = 0;
    let lastSent: Uint8Array = rrq;
    let lastSentPort = options.port;
    let tries = 0;
    let timer: NodeJS.Timeout | undefined;
    let finished = false;

    const finish = (err: Error | undefined, aborted = false) => {
      if (finished) return;
      finished = true;
      if (timer) clearTimeout(timer);
      // Close only after datagrams handed to send() have left: dgram defers a send by a tick.
      setImmediate(() => socket.close());
      if (err) reject(err);
      else resolve({ data: Buffer.concat(chunks), oack, dataPackets, aborted });
    };
    const send = (bytes: Uint8Array, port: number) => {
      lastSent = bytes;
      lastSentPort = port;
      socket.send(bytes, port, host);
    };
    const arm = () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        if (++tries > retries) return finish(new Error(`no answer after ${retries} retries (expected block ${expected})`));
        socket.send(lastSent, lastSentPort, host);
        arm();
      }, retransmitMs);
    };
    const ack = (block: number) => send(encode({ op: 'ACK', block: block & 0xffff }), tid!);

    socket.on('error', (err) => finish(err));
    socket.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
      if (finished || rinfo.address !== host) return;
      if (tid === undefined) {
        tid = rinfo.port;
        options.onTid?.(tid);
      } else if (rinfo.port !== tid) {
        socket.send(encode({ op: 'ERROR', code: 5, message: 'Unknown transfer ID' }), rinfo.port, host);
        return;
      }
      let packet: Packet;
      try {
        packet = decode(msg);
      } catch {
        return;
      }
      tries = 0;
      switch (packet.op) {
        case 'ERROR':
          return finish(new TftpClientError(packet.code, packet.message));
        case 'OACK': {
          if (expected !== 1 || oack !== undefined) return; // a repeated OACK: our ACK 0 is on its way or resent by the timer
          oack = Object.fromEntries(packet.options.map((o) => [o.name.toLowerCase(), o.value]));
          if (options.abortAfter?.blocks === 0) {
            // A PXE ROM's tsize probe: read the OACK, then abort.
            if (options.abortAfter.how === 'error') socket.send(encode({ op: 'ERROR', code: 0, message: 'test abort' }), tid, host);
            return finish(undefined, true);
          }
          if (oack.blksize) blksize = Number(oack.blksize);
          if (oack.windowsize) windowsize = Number(oack.windowsize);
          ack(0);
          arm();
          return;
        }
        case 'DATA': {
          dataPackets++;
          if (packet.block !== (expected & 0xffff)) {
            // Ahead: a gap (RFC 7440 section 4). Behind: the server resent because our ACK was lost.
            // Either way, acknowledge the last block received in order and count the window afresh.
            ack(expected - 1);
            inWindow = 0;
            arm();
            return;
          }
          chunks.push(Buffer.from(packet.data));
          expected++;
          inWindow++;
          if (options.abortAfter && expected - 1 >= options.abortAfter.blocks) {
            if (options.abortAfter.how === 'error') socket.send(encode({ op: 'ERROR', code: 0, message: 'test abort' }), tid, host);
            return finish(undefined, true);
          }
          if (packet.data.length < blksize) {
            ack(expected - 1);
            return finish(undefined);
          }
          if (inWindow >= windowsize) {
            ack(expected - 1);
            inWindow = 0;
          }
          arm();
          return;
        }
        default:
          return;
      }
    });
    socket.bind(0, () => {
      send(rrq, options.port);
      arm();
    });
  });
}
