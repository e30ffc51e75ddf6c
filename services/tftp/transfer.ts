/**
 * One read transfer on its own socket (its TID, RFC 1350 section 4): OACK if options were accepted, then
 * DATA blocks in windows (RFC 7440; a window of 1 is RFC 1350 lock-step) until the short last block is
 * acknowledged.
 *
 * Rules this file implements, and why:
 * - A datagram from any other address or port gets ERROR 5 and changes nothing (RFC 1350 section 4).
 * - A duplicate ACK is ignored; only the timer retransmits (RFC 1123 4.2.3.1: answering duplicates
 *   doubles every later block, the Sorcerer's Apprentice syndrome). With a window, one repeat per
 *   window position is taken as a gap report and resends the window once.
 * - An ACK for a block inside the window slides the window to just after it and sends from there
 *   (RFC 7440 section 4: the receiver acknowledges the last block it got in order).
 * - Block numbers wrap from 65535 to 0, as tftp-hpa and dnsmasq do, so files over 32 MiB load at blksize 512.
 * - Retransmission backs off (doubling, capped) and gives up after tftp.retries; tftp.idleTimeout bounds
 *   the time without progress even when the file source is what stalls.
 * - A client ERROR ends the transfer quietly: PXE ROMs ask for tsize, read it from the OACK, then abort.
 * - Memory is bounded by the window: blocks are read ahead at most one window beyond the one in flight.
 */
import { isTftpError, wireError, type TftpErrorCode } from '../../src/tftp/errors.js';
import type { Negotiated, TransferMode } from '../../src/tftp/options.js';
import { dataHeader, decode, DecodeError, encode, type TftpOption } from '../../src/tftp/packet.js';
import type { DatagramSocket, Sender } from '../net/datagram.js';
import { BlockReader } from './blocks.js';
import { SpinTrial, threadBusyPoll } from './busy-poll.js';
import type { Client, TftpFile } from './source.js';

export interface TransferTiming {
  /** First retransmit interval in milliseconds when the client did not negotiate RFC 2349 timeout. */
  retransmitMs: number;
  /** Retransmissions of one packet before giving up. */
  retries: number;
  /** Milliseconds without progress before the transfer is abandoned. */
  idleTimeoutMs: number;
  /** Microseconds the thread keeps polling for the client's answer after a send (busy-poll.ts); 0: never. */
  busyPollMicros: number;
}

export type TransferOutcome = 'complete' | 'client-error' | 'timeout' | 'read-error' | 'aborted' | 'socket-error';

export interface TransferResult {
  outcome: TransferOutcome;
  /** File bytes acknowledged by the client. */
  bytes: number;
  ms: number;
  blksize: number;
  windowsize: number;
  /** Timer expiries that resent a packet or window. */
  retransmits: number;
  /** Why it ended, when it did not complete. */
  reason?: string;
}

/** The logging a transfer needs: pino's Logger fits, and so does a worker's forwarder to the main thread. */
export interface TransferLog {
  debug(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
  child(bindings: Record<string, unknown>): TransferLog;
}

export interface TransferOptions {
  socket: DatagramSocket;
  client: Client;
  file: TftpFile;
  mode: TransferMode;
  negotiated: Negotiated;
  timing: TransferTiming;
  log: TransferLog;
}

/** The longest retransmit interval backoff reaches, unless the first interval is already longer. */
const backoffCapMs = 8000;

export class Transfer {
  private readonly socket: DatagramSocket;
  private readonly client: Client;
  private readonly file: TftpFile;
  private readonly reader: BlockReader;
  private readonly blksize: number;
  private readonly windowsize: number;
  private readonly oack: TftpOption[];
  private readonly timing: TransferTiming;
  private readonly log: TransferLog;
  private readonly started = Date.now();

  private state: 'oack' | 'data' | 'done' = 'data';
  /** Absolute number (never wrapped) of the last block the client acknowledged. */
  private base = 0;
  /** Blocks base+1 .. base+window.length, read and not yet acknowledged. */
  private window: Uint8Array[] = [];
  /** Absolute number of the last block sent since the window last moved. */
  private sentTo = 0;
  /** Absolute number of the final (short) block, once it has been read. */
  private lastBlock = Number.POSITIVE_INFINITY;
  private bytesAcked = 0;

  /** File bytes the client has acknowledged so far (progress on the status page). */
  get acknowledged(): number {
    return this.bytesAcked;
  }

  private timer: NodeJS.Timeout | undefined;
  private initialTimeoutMs: number;
  private timeoutMs: number;
  private retriesLeft: number;
  private lastProgress = Date.now();

  private settle!: (result: TransferResult) => void;
  /** Resolves once the transfer has ended and its socket and file are closed. */
  readonly done: Promise<TransferResult> = new Promise((resolve) => (this.settle = resolve));

  constructor(options: TransferOptions) {
    this.socket = options.socket;
    this.client = options.client;
    this.file = options.file;
    this.blksize = options.negotiated.blksize;
    this.windowsize = options.negotiated.windowsize;
    this.oack = options.negotiated.oack;
    this.timing = options.timing;
    this.log = options.log;
    this.reader = new BlockReader(options.file, this.blksize, options.mode === 'netascii');
    // RFC 2349: the client's timeout option is the interval both sides use.
    const negotiatedTimeout = options.negotiated.timeoutSec;
    this.initialTimeoutMs = negotiatedTimeout !== undefined ? negotiatedTimeout * 1000 : options.timing.retransmitMs;
    this.timeoutMs = this.initialTimeoutMs;
    this.retriesLeft = options.timing.retries;
    threadBusyPoll.count(true);
    // Decoded at once, so the native path may hand a view of its buffer (no copy per ACK).
    this.socket.onMessage(
      (msg, from) => {
        try {
          this.onMessage(msg, from);
        } catch (err) {
          // Defence in depth, as on the listener: one datagram must not take the process down.
          this.log.warn({ err: (err as Error).message }, 'datagram handling failed');
        }
      },
      { copy: false },
    );
    // Send failures (ENOBUFS, an ICMP error reported late) are left to the retransmit timer.
    this.socket.onError((err) => this.log.debug({ err: err.message }, 'transfer socket error'));
  }

  /** Sends the OACK or the first window. */
  start(): void {
    if (this.oack.length > 0) {
      this.state = 'oack';
      this.sendOack();
      this.armTimer();
    } else {
      this.state = 'data';
      this.pump();
    }
  }

  /** Ends the transfer now, telling the client why (server shutdown, a limit). */
  abort(code: TftpErrorCode = 'E_TFTP_SHUTDOWN'): void {
    if (this.state === 'done') return;
    this.sendError(code);
    this.finish('aborted', wireError(code).message);
  }

  private onMessage(msg: Buffer, rinfo: Sender): void {
    if (this.state === 'done') return;
    if (rinfo.address !== this.client.address || rinfo.port !== this.client.port) {
      // RFC 1350 section 4: answer the stranger with ERROR 5 and leave the transfer alone.
      this.log.debug({ from: `${rinfo.address}:${rinfo.port}` }, 'datagram from another TID');
      this.sendErrorTo('E_TFTP_UNKNOWN_TID', rinfo.address, rinfo.port);
      return;
    }
    let packet;
    try {
      packet = decode(msg);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      this.log.debug({ err: err.message, hex: msg.subarray(0, 64).toString('hex') }, 'malformed datagram dropped');
      return;
    }
    switch (packet.op) {
      case 'ACK':
        this.onAck(packet.block);
        return;
      case 'ERROR':
        // The client gave up (or only wanted tsize): no reply, no retransmission.
        this.finish('client-error', `client sent ERROR ${packet.code}: ${packet.message}`);
        return;
      default:
        this.log.debug({ op: packet.op }, 'unexpected packet in a read transfer dropped');
    }
  }

  private onAck(block: number): void {
    if (this.state === 'oack') {
      // RFC 2347: the client acknowledges an OACK with ACK 0; then data starts with block 1.
      if (block !== 0) return;
      this.state = 'data';
      this.progress();
      this.pump();
      return;
    }
    // The distance from the last acknowledged block, modulo the 16-bit wrap.
    const delta = (block - (this.base & 0xffff) + 0x10000) & 0xffff;
    if (delta === 0) {
      // In lock-step a duplicate ACK is ignored; only the timer resends (Sorcerer's Apprentice). In a
      // window, the first repeat of the last ACK after a window went out is RFC 7440's gap report for
      // the window's first block: resend the window once, and not again until the client makes progress.
      if (this.windowsize > 1 && this.sentTo > this.base && !this.resentForGap) {
        this.resentForGap = true;
        this.sentTo = this.base;
        this.pump();
      }
      return;
    }
    if (delta > this.sentTo - this.base) return; // not a block we sent: stale or forged
    // shift() for the lock-step case: splice() would allocate the array of removed blocks for every ACK.
    if (delta === 1) this.window.shift();
    else this.window.splice(0, delta);
    this.bytesAcked += this.ackedBytes(delta);
    this.base += delta;
    this.reader.release(this.base);
    this.progress();
    this.measureRoundTrip();
    if (this.base >= this.lastBlock) {
      this.finish('complete');
      return;
    }
    // RFC 7440: continue right after the acknowledged block, resending whatever followed it.
    this.sentTo = this.base;
    this.pump();
  }

  private ackedBytes(blocks: number): number {
    // Every acknowledged block is full except the last one, whose length is known once it is acknowledged.
    const end = this.base + blocks;
    if (end < this.lastBlock) return blocks * this.blksize;
    return (blocks - 1) * this.blksize + this.lastLength;
  }

  private lastLength = 0;
  private retransmits = 0;

  private resentForGap = false;

  private progress(): void {
    this.resentForGap = false;
    this.lastProgress = Date.now();
    this.timeoutMs = this.initialTimeoutMs;
    this.retriesLeft = this.timing.retries;
  }

  /**
   * Sends the blocks of the window not yet sent, from what is already read, then reads ahead in the
   * background. Synchronous on purpose: in lock-step the next block is almost always read already, so
   * an ACK is answered without waiting for a promise.
   */
  private pump(): void {
    if (this.state !== 'data') return;
    this.sendReady();
    this.armTimer();
    if (this.loading) return;
    // Reading ahead comes after the send, off the client's wait; blocks just cut that belong to the window go at once.
    this.cutReadBlocks();
    this.sendReady();
    if (this.wantsBlock()) void this.load();
  }

  private loading = false;

  /** Whether the window may take another block: up to two windows past base (bounded memory), not past the last. */
  private wantsBlock(): boolean {
    return this.state === 'data' && this.window.length < 2 * this.windowsize && this.base + this.window.length < this.lastBlock;
  }

  private addToWindow(block: Uint8Array): void {
    this.window.push(block);
    if (block.length < this.blksize) {
      this.lastBlock = this.base + this.window.length;
      this.lastLength = block.length;
    }
  }

  /** Takes the blocks already read (no promise: in lock-step nearly every ACK is answered from these). */
  private cutReadBlocks(): void {
    while (this.wantsBlock()) {
      const block = this.reader.tryNext();
      if (!block) return;
      this.addToWindow(block);
    }
  }

  /** Reads ahead up to two windows past base; one load runs at a time. */
  private async load(): Promise<void> {
    this.loading = true;
    try {
      while (this.wantsBlock()) {
        const block = this.reader.tryNext() ?? (await this.reader.next());
        if (this.state !== 'data') return;
        this.addToWindow(block);
        // A block that belongs to the current window goes out as soon as it is read.
        if (this.sentTo < this.base + this.windowsize && this.sentTo < this.base + this.window.length) this.sendReady();
      }
    } catch (err) {
      if (this.state === 'done') return;
      const detail = isTftpError(err) ? err.detail : (err as Error).message;
      this.sendError('E_TFTP_READ');
      this.finish('read-error', detail);
    } finally {
      this.loading = false;
    }
  }

  /** Blocks first..last (absolute numbers) of the window: a window of several leaves in one sendmmsg on the native path. */
  private sendBlocks(first: number, last: number): void {
    if (last < first || this.socketClosed) return;
    // The header in Buffer's pool, which lives outside V8's heap: a 4-byte Uint8Array lives inside it,
    // and handing one to the native path made V8 move it out, a malloc and a free per block.
    const datagram = (abs: number) => [dataHeader(abs & 0xffff, Buffer.allocUnsafe(4)), this.window[abs - this.base - 1]!];
    if (first === last) {
      this.send(datagram(first), this.client.port, this.client.address);
      return;
    }
    const datagrams: Uint8Array[][] = [];
    for (let abs = first; abs <= last; abs++) datagrams.push(datagram(abs));
    try {
      this.socket.sendMany(datagrams, this.client.port, this.client.address);
    } catch (err) {
      // As for one datagram: a send that throws is a lost window, which the timer resends.
      this.log.debug({ err: (err as Error).message }, 'send failed');
    }
  }

  private sendReady(): void {
    const end = Math.min(this.base + this.window.length, this.base + this.windowsize);
    this.sendBlocks(this.sentTo + 1, end);
    if (end > this.sentTo) {
      this.sentTo = end;
      this.sent();
      this.armTimer();
    }
  }

  private readonly spinTrial = new SpinTrial();
  /** performance.now() of the first send since the window last moved; 0: none yet; -1: a retransmit, not measured (Karn). */
  private sentAt = 0;

  /** Blocks went out: start the round-trip clock, and busy-poll for the ACK if that pays for this client. */
  private sent(): void {
    if (this.timing.busyPollMicros <= 0) return;
    if (this.sentAt === 0) this.sentAt = performance.now();
    if (this.spinTrial.spinning) threadBusyPoll.sent(this.timing.busyPollMicros);
  }

  /** The window moved: one round trip for the spin trial, unless it was retransmitted. */
  private measureRoundTrip(): void {
    if (this.sentAt > 0) {
      const before = this.spinTrial.lastTrial;
      this.spinTrial.roundTrip(performance.now() - this.sentAt);
      if (this.spinTrial.lastTrial !== before) this.log.debug({ ...this.spinTrial.lastTrial }, 'busy-poll trial');
    }
    this.sentAt = 0;
  }

  private timerMs = 0;

  private armTimer(): void {
    // refresh() restarts the same timer without allocating; a new one only when backoff changed the interval.
    if (this.timer && this.timerMs === this.timeoutMs) {
      this.timer.refresh();
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timerMs = this.timeoutMs;
    this.timer = setTimeout(() => this.onTimeout(), this.timeoutMs);
  }

  private onTimeout(): void {
    this.timer = undefined;
    if (this.state === 'done') return;
    if (Date.now() - this.lastProgress >= this.timing.idleTimeoutMs) {
      this.sendError('E_TFTP_TIMEOUT');
      this.finish('timeout', `no progress for ${this.timing.idleTimeoutMs} ms`);
      return;
    }
    if (this.retriesLeft <= 0) {
      this.sendError('E_TFTP_TIMEOUT');
      this.finish('timeout', `no answer after ${this.timing.retries} retransmissions`);
      return;
    }
    this.retriesLeft--;
    this.retransmits++;
    this.log.debug(
      { state: this.state, acked: this.base, sentTo: this.sentTo, loaded: this.window.length, loading: this.loading, timeoutMs: this.timeoutMs },
      'retransmit',
    );
    this.timeoutMs = Math.min(this.timeoutMs * 2, Math.max(backoffCapMs, this.initialTimeoutMs));
    if (this.state === 'oack') {
      this.sendOack();
      this.armTimer();
      return;
    }
    // Resend the whole unacknowledged window.
    this.sentTo = this.base;
    this.sentAt = -1;
    this.pump();
  }

  private sendOack(): void {
    this.send(encode({ op: 'OACK', options: this.oack }), this.client.port, this.client.address);
  }

  private sendError(code: TftpErrorCode): void {
    this.sendErrorTo(code, this.client.address, this.client.port);
  }

  private sendErrorTo(code: TftpErrorCode, address: string, port: number): void {
    if (port === 0) return;
    const { code: wire, message } = wireError(code);
    this.send(encode({ op: 'ERROR', code: wire, message }), port, address);
  }

  private send(data: Uint8Array | readonly Uint8Array[], port: number, address: string): void {
    if (this.socketClosed) return;
    try {
      this.socket.send(data, port, address);
    } catch (err) {
      // A send that throws synchronously (bad port, socket gone) is the same as a lost datagram.
      this.log.debug({ err: (err as Error).message }, 'send failed');
    }
  }

  private socketClosed = false;

  private finish(outcome: TransferOutcome, reason?: string): void {
    if (this.state === 'done') return;
    this.state = 'done';
    threadBusyPoll.count(false);
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.window = [];
    // Only a complete transfer: every block was acknowledged, so no send still reads from its buffers.
    if (outcome === 'complete') this.reader.recycle();
    const result: TransferResult = {
      outcome,
      bytes: this.bytesAcked,
      ms: Date.now() - this.started,
      blksize: this.blksize,
      windowsize: this.windowsize,
      retransmits: this.retransmits,
      ...(reason !== undefined ? { reason } : {}),
    };
    // Close after pending sends (the final ERROR) have been handed to the kernel.
    setImmediate(() => {
      this.socketClosed = true;
      void this.socket.close();
      this.file.close().then(
        () => this.settle(result),
        (err: Error) => {
          this.log.warn({ err: err.message }, 'closing the file failed');
          this.settle(result);
        },
      );
    });
  }
}
