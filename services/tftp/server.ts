/**
 * The TFTP listener (RFC 1350): takes read requests on one port, refuses what it must with the right
 * error packet, and runs each accepted request as a Transfer on a socket of its own. Read-only by design:
 * a write request is answered with ERROR 2. A malformed datagram is logged and dropped; nothing a client
 * sends can stop the server.
 */
import type { RemoteInfo, Socket } from 'node:dgram';
import { isTftpError, TftpError, wireError, type TftpErrorCode } from '../../src/tftp/errors.js';
import { negotiate, transferMode } from '../../src/tftp/options.js';
import { decode, DecodeError, encode, type RequestPacket } from '../../src/tftp/packet.js';
import { normalizeRequestPath } from '../../src/tftp/paths.js';
import type { Logger } from '../log.js';
import { bindUdp } from '../udp.js';
import type { Client, FileSource, TftpFile } from './source.js';
import { Transfer, type TransferResult, type TransferTiming } from './transfer.js';

export interface TftpServerOptions {
  address: string;
  /** 0 picks a free port (tests). */
  port: number;
  source: FileSource;
  maxBlksize: number;
  maxWindowsize: number;
  maxTransfers: number;
  timing: TransferTiming;
  log: Logger;
}

/** What the server tells whoever watches it (tests, benchmarks) when a transfer ends. */
export interface FinishedTransfer extends TransferResult {
  file: string;
  client: string;
}

type Slot = { transfer: Transfer | undefined; aborted: boolean };

export class TftpServer {
  private listener: Socket | undefined;
  /** Running and opening transfers by client address:port; a slot is taken before the file is opened. */
  private readonly slots = new Map<string, Slot>();
  private readonly pending = new Set<Promise<void>>();
  private closing: Promise<void> | undefined;
  /** Called after each transfer ends (after its socket and file are closed). */
  onFinished: ((result: FinishedTransfer) => void) | undefined;

  constructor(private readonly options: TftpServerOptions) {}

  /** Binds the listener; rejects with BeError('E_BIND') naming tftp.port on failure. */
  async start(): Promise<void> {
    this.listener = await bindUdp({
      address: this.options.address,
      port: this.options.port,
      service: 'tftp',
      keys: { address: 'tftp.address', port: 'tftp.port' },
      recvBufferSize: 1 << 20,
      literalAddressesOnly: true,
    });
    this.listener.on('message', (msg, rinfo) => {
      try {
        this.onDatagram(msg, rinfo);
      } catch (err) {
        // Defence in depth: a bug in handling one datagram must not take the server down.
        this.options.log.error({ err: (err as Error).message, client: `${rinfo.address}:${rinfo.port}` }, 'datagram handling failed');
      }
    });
    this.listener.on('error', (err) => this.options.log.warn({ err: err.message }, 'listener socket error'));
    const bound = this.listener.address();
    this.options.log.info({ address: bound.address, port: bound.port, maxTransfers: this.options.maxTransfers }, 'tftp listening');
  }

  /** The port actually bound (useful with port 0). */
  get port(): number {
    if (!this.listener) throw new Error('tftp server not started');
    return this.listener.address().port;
  }

  /** Transfers running or opening now. */
  get activeTransfers(): number {
    return this.slots.size;
  }

  /** Stops listening, aborts every transfer (clients get ERROR 0) and waits until all are closed. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const listener = this.listener;
      this.listener = undefined;
      if (listener) await new Promise<void>((resolve) => listener.close(() => resolve()));
      for (const slot of this.slots.values()) {
        slot.aborted = true;
        slot.transfer?.abort('E_TFTP_SHUTDOWN');
      }
      while (this.pending.size > 0) await Promise.all([...this.pending]);
    })();
    return this.closing;
  }

  private onDatagram(msg: Buffer, rinfo: RemoteInfo): void {
    if (rinfo.port === 0) return; // nobody to answer
    let packet;
    try {
      packet = decode(msg);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      this.options.log.debug(
        { client: `${rinfo.address}:${rinfo.port}`, err: err.message, hex: msg.subarray(0, 64).toString('hex') },
        'malformed request dropped',
      );
      return;
    }
    const client = { address: rinfo.address, port: rinfo.port };
    switch (packet.op) {
      case 'RRQ':
        this.onRead(packet, client);
        return;
      case 'WRQ':
        this.refuse(client, packet.filename, new TftpError('E_TFTP_READ_ONLY', 'write request refused: the server is read-only'));
        return;
      default:
        // DATA, ACK, ERROR or OACK to the listening port belong to no transfer (RFC 1350 section 4).
        this.options.log.debug({ client: `${client.address}:${client.port}`, op: packet.op }, 'non-request on the listening port dropped');
    }
  }

  private refuse(client: Client, file: string, err: TftpError): void {
    this.options.log.warn({ client: `${client.address}:${client.port}`, file, code: err.code, reason: err.detail }, 'request refused');
    this.sendError(client, err.code);
  }

  private sendError(client: Client, code: TftpErrorCode): void {
    const { code: wire, message } = wireError(code);
    try {
      this.listener?.send(encode({ op: 'ERROR', code: wire, message }), client.port, client.address);
    } catch {
      // the listener is closing
    }
  }

  private onRead(request: RequestPacket, client: Client): void {
    const key = `${client.address}:${client.port}`;
    // A client that did not hear our first answer sends its RRQ again; the running transfer's own
    // retransmission answers it, so a second transfer would only compete with the first.
    if (this.slots.has(key)) {
      this.options.log.debug({ client: key, file: request.filename }, 'repeated request for a running transfer ignored');
      return;
    }
    if (this.slots.size >= this.options.maxTransfers) {
      this.refuse(client, request.filename, new TftpError('E_TFTP_BUSY', `${this.options.maxTransfers} transfers running (tftp.maxTransfers)`));
      return;
    }
    const mode = transferMode(request.mode);
    if (!mode) {
      this.refuse(client, request.filename, new TftpError('E_TFTP_BAD_MODE', `mode ${JSON.stringify(request.mode)}`));
      return;
    }
    const path = normalizeRequestPath(request.filename);
    if (!path.ok) {
      this.refuse(client, request.filename, new TftpError('E_TFTP_BAD_PATH', path.reason));
      return;
    }
    const slot: Slot = { transfer: undefined, aborted: false };
    this.slots.set(key, slot);
    const work = this.serve(request, path.path, mode, client, slot).finally(() => {
      this.slots.delete(key);
      this.pending.delete(work);
    });
    this.pending.add(work);
  }

  private async serve(request: RequestPacket, path: string, mode: 'octet' | 'netascii', client: Client, slot: Slot): Promise<void> {
    const log = this.options.log;
    const clientText = `${client.address}:${client.port}`;
    let file: TftpFile;
    try {
      file = await this.options.source.open(path, client);
    } catch (err) {
      const refusal = isTftpError(err) ? err : new TftpError('E_TFTP_READ', (err as Error).message, { cause: err });
      if (!slot.aborted) this.refuse(client, request.filename, refusal);
      return;
    }
    let socket: Socket;
    try {
      if (slot.aborted) throw new Error('server closing');
      socket = await bindUdp({
        address: this.options.address,
        port: 0,
        service: 'tftp transfer',
        keys: { address: 'tftp.address', port: 'tftp.port' },
        literalAddressesOnly: true,
      });
    } catch (err) {
      await file.close().catch(() => {});
      if (!slot.aborted) {
        log.warn({ client: clientText, file: path, err: (err as Error).message }, 'no socket for the transfer');
        this.sendError(client, 'E_TFTP_READ');
      }
      return;
    }
    // netascii changes the length on the wire, so its tsize would be a guess: leave tsize out (RFC 2349 allows it).
    const negotiated = negotiate(
      request.options,
      { maxBlksize: this.options.maxBlksize, maxWindowsize: this.options.maxWindowsize },
      mode === 'octet' ? file.size : undefined,
    );
    const transfer = new Transfer({ socket, client, file, mode, negotiated, timing: this.options.timing, log: log.child({ client: clientText }) });
    slot.transfer = transfer;
    transfer.start();
    if (slot.aborted) transfer.abort('E_TFTP_SHUTDOWN');
    const result = await transfer.done;
    const fields = { file: path, client: clientText, bytes: result.bytes, ms: result.ms, blksize: result.blksize, windowsize: result.windowsize, retransmits: result.retransmits };
    if (result.outcome === 'complete') log.info(fields, 'transfer complete');
    else if (result.outcome === 'client-error') log.info({ ...fields, reason: result.reason }, 'transfer ended by the client');
    else log.warn({ ...fields, outcome: result.outcome, reason: result.reason }, 'transfer failed');
    this.onFinished?.({ ...result, file: path, client: clientText });
  }
}
