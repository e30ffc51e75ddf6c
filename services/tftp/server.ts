/**
 * The TFTP listener (RFC 1350): takes read requests on one port, refuses what it must with the right
 * error packet, and runs each accepted request as a Transfer on a socket of its own. Read-only by design:
 * a write request is answered with ERROR 2. A malformed datagram is logged and dropped; nothing a client
 * sends can stop the server.
 */
import { TftpError, wireError, type TftpErrorCode } from '../../src/tftp/errors.js';
import { transferMode } from '../../src/tftp/options.js';
import { decode, DecodeError, encode, type RequestPacket } from '../../src/tftp/packet.js';
import { normalizeRequestPath } from '../../src/tftp/paths.js';
import type { Logger } from '../log.js';
import { openDatagrams, type DatagramSocket, type DatagramsMode, type Sender } from '../net/datagram.js';
import { openAndRun, runOpened, type JobContext, type JobOutcome, type RunningJob, type TransferJob } from './job.js';
import { WorkerPool } from './pool.js';
import { DescriptorFile, type Client, type FileSource, type TftpFile } from './source.js';
import type { TransferOutcome, TransferResult, TransferTiming } from './transfer.js';
import type { TransferRow } from '../metrics.js';

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
  /** Called when a transfer completes: the appliance records loader and kernel downloads (src/boot/timeline.ts). */
  onComplete?: (path: string, client: Client) => void;
  /** Called when a request ends, served or refused: the metrics' transfers by outcome and bytes sent. */
  onEnded?: (outcome: TransferOutcome | 'refused', bytes: number) => void;
  /** Called when a transfer starts and when it ends: the list of transfers() changed. */
  onActivity?: () => void;
  /**
   * Run transfers of files open on a descriptor in this many worker threads (tftp.workers); files are
   * always opened here, through `source`. 0 or absent, and generated files: on the main thread.
   */
  workers?: number;
  /** tftp.datagrams: the native datagram path or node:dgram, for the listener and every transfer. Default node. */
  datagrams?: DatagramsMode;
}

/** What the server tells whoever watches it (tests, benchmarks) when a transfer ends. */
export interface FinishedTransfer extends TransferResult {
  file: string;
  client: string;
}

type Slot = { running: RunningJob; aborted: boolean; job: TransferJob; startedAt: number; size?: number };

export class TftpServer {
  private listener: DatagramSocket | undefined;
  /** Running and opening transfers by client address:port; a slot is taken before the file is opened. */
  private readonly slots = new Map<string, Slot>();
  private readonly pending = new Set<Promise<void>>();
  private closing: Promise<void> | undefined;
  /** Called after each transfer ends (after its socket and file are closed). */
  onFinished: ((result: FinishedTransfer) => void) | undefined;

  private pool: WorkerPool | undefined;
  private readonly context: JobContext;

  constructor(private readonly options: TftpServerOptions) {
    this.context = {
      address: options.address,
      limits: { maxBlksize: options.maxBlksize, maxWindowsize: options.maxWindowsize },
      timing: options.timing,
      log: options.log,
      datagrams: options.datagrams ?? 'node',
    };
  }

  /** Binds the listener (and starts the workers); rejects with BeError('E_BIND') naming tftp.port on failure. */
  async start(): Promise<void> {
    const workers = this.options.workers ?? 0;
    if (workers > 0) {
      const pool = new WorkerPool(
        workers,
        {
          address: this.options.address,
          limits: this.context.limits,
          timing: this.options.timing,
          minLevel: this.options.log.levelVal,
          datagrams: this.context.datagrams,
        },
        this.options.log,
      );
      await pool.start();
      this.pool = pool;
    }
    try {
      await this.bindListener();
    } catch (err) {
      await this.pool?.terminate();
      this.pool = undefined;
      throw err;
    }
  }

  private async bindListener(): Promise<void> {
    this.listener = await openDatagrams(
      {
        mode: this.context.datagrams,
        address: this.options.address,
        port: this.options.port,
        service: 'tftp',
        keys: { address: 'tftp.address', port: 'tftp.port' },
        recvBufferSize: 1 << 20,
        literalAddressesOnly: true,
      },
      'tftp.datagrams',
    );
    this.listener.onMessage((msg, rinfo) => {
      try {
        this.onDatagram(msg, rinfo);
      } catch (err) {
        // Defence in depth: a bug in handling one datagram must not take the server down.
        this.options.log.error({ err: (err as Error).message, client: `${rinfo.address}:${rinfo.port}` }, 'datagram handling failed');
      }
    });
    this.listener.onError((err) => this.options.log.warn({ err: err.message }, 'listener socket error'));
    const bound = this.listener.address();
    this.options.log.info(
      {
        address: bound.address,
        port: bound.port,
        maxTransfers: this.options.maxTransfers,
        workers: this.pool ? this.options.workers : 0,
        datagrams: this.listener.path,
      },
      'tftp listening',
    );
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

  /** The transfers under way, with their progress (the status page, /api/transfers). */
  transfers(): TransferRow[] {
    return [...this.slots.values()].map(({ job, running, startedAt, size }) => ({
      protocol: 'tftp',
      file: job.path,
      client: `${job.client.address}:${job.client.port}`,
      bytes: running.bytes(),
      ...(size !== undefined ? { size } : {}),
      startedAt: new Date(startedAt).toISOString(),
    }));
  }

  /** Stops listening, aborts every transfer (clients get ERROR 0) and waits until all are closed. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const listener = this.listener;
      this.listener = undefined;
      await listener?.close();
      for (const slot of this.slots.values()) {
        slot.aborted = true;
        slot.running.abort();
      }
      while (this.pending.size > 0) await Promise.all([...this.pending]);
      await this.pool?.terminate();
    })();
    return this.closing;
  }

  private onDatagram(msg: Buffer, rinfo: Sender): void {
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
    this.options.onEnded?.('refused', 0);
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
    const job: TransferJob = { filename: request.filename, path: path.path, mode, options: request.options, client };
    const startedAt = Date.now();
    const running = openAndRun(job, this.options.source, (file) => {
      const slot = this.slots.get(key);
      if (slot && file.size !== undefined) slot.size = file.size;
      return this.run(job, file);
    });
    const slot: Slot = { running, aborted: false, job, startedAt };
    this.slots.set(key, slot);
    this.options.onActivity?.();
    const work = running.done
      .then((outcome) => this.finished(job, slot, outcome))
      .finally(() => {
        this.slots.delete(key);
        this.pending.delete(work);
        this.options.onActivity?.();
      });
    this.pending.add(work);
  }

  /** A file on a descriptor goes to a worker when there are workers; generated content stays here. */
  private run(job: TransferJob, file: TftpFile): RunningJob {
    if (this.pool && file instanceof DescriptorFile) return this.pool.run(job, file.handle, file.size);
    return runOpened(job, file, this.context);
  }

  private finished(job: TransferJob, slot: Slot, outcome: JobOutcome): void {
    const clientText = `${job.client.address}:${job.client.port}`;
    if (outcome.kind === 'refused') {
      if (!slot.aborted) this.refuse(job.client, job.filename, outcome.error);
      else this.options.onEnded?.('aborted', 0);
      return;
    }
    const result = outcome.result;
    const log = this.options.log;
    const fields = {
      file: job.path,
      client: clientText,
      bytes: result.bytes,
      ms: result.ms,
      blksize: result.blksize,
      windowsize: result.windowsize,
      retransmits: result.retransmits,
    };
    if (result.outcome === 'complete') {
      log.info(fields, 'transfer complete');
      this.options.onComplete?.(job.path, job.client);
    } else if (result.outcome === 'client-error') log.info({ ...fields, reason: result.reason }, 'transfer ended by the client');
    else log.warn({ ...fields, outcome: result.outcome, reason: result.reason }, 'transfer failed');
    this.options.onEnded?.(result.outcome, result.bytes);
    this.onFinished?.({ ...result, file: job.path, client: clientText });
  }
}
