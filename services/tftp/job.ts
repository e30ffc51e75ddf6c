/**
 * One accepted read request carried out: the main thread opens the file from the source (all policy and
 * checks live there), then binds the transfer's own socket, negotiates and runs the Transfer, either
 * itself or in a transfer worker (services/tftp/worker.ts) that received the open descriptor. Both run
 * runOpened, so both paths behave alike.
 */
import { isTftpError, TftpError } from '../../src/tftp/errors.js';
import { negotiate, type NegotiationLimits, type TransferMode } from '../../src/tftp/options.js';
import type { TftpOption } from '../../src/tftp/packet.js';
import { openDatagrams, type DatagramsMode } from '../net/datagram.js';
import type { Client, FileSource, TftpFile } from './source.js';
import { Transfer, type TransferLog, type TransferResult, type TransferTiming } from './transfer.js';

/** A request that passed the listener's checks (mode, path, limits). Plain data: it crosses to workers. */
export interface TransferJob {
  /** The name as the client sent it, for logs. */
  filename: string;
  /** The normalised path under the source (src/tftp/paths.ts). */
  path: string;
  mode: TransferMode;
  options: TftpOption[];
  client: Client;
}

export interface JobContext {
  /** The address transfer sockets bind to: the listener's. */
  address: string;
  limits: NegotiationLimits;
  timing: TransferTiming;
  log: TransferLog;
  /** tftp.datagrams: the path the transfer sockets take. */
  datagrams: DatagramsMode;
}

export type JobOutcome = { kind: 'refused'; error: TftpError } | { kind: 'ran'; result: TransferResult };

export interface RunningJob {
  /** Ends the job now: a running transfer tells its client the server is shutting down. */
  abort(): void;
  /** File bytes the client has acknowledged so far (a worker's transfer: as of its last report). */
  bytes(): number;
  readonly done: Promise<JobOutcome>;
}

/**
 * Opens the job's file from `source`, then hands it to `run` (on this thread or a worker). Aborting before
 * the file is open closes it as soon as it is; after, it aborts the transfer.
 */
export function openAndRun(job: TransferJob, source: FileSource, run: (file: TftpFile) => RunningJob): RunningJob {
  let aborted = false;
  let running: RunningJob | undefined;
  const done = (async (): Promise<JobOutcome> => {
    let file: TftpFile;
    try {
      file = await source.open(job.path, job.client);
    } catch (err) {
      return { kind: 'refused', error: isTftpError(err) ? err : new TftpError('E_TFTP_READ', (err as Error).message, { cause: err }) };
    }
    if (aborted) {
      await file.close().catch(() => {});
      return { kind: 'refused', error: new TftpError('E_TFTP_SHUTDOWN', 'server closing') };
    }
    running = run(file);
    return running.done;
  })();
  return {
    abort() {
      aborted = true;
      running?.abort();
    },
    bytes: () => running?.bytes() ?? 0,
    done,
  };
}

/** Binds the transfer's socket, negotiates and runs the transfer of an open file; closes the file in the end. */
export function runOpened(job: TransferJob, file: TftpFile, context: JobContext): RunningJob {
  let aborted = false;
  let transfer: Transfer | undefined;
  const done = (async (): Promise<JobOutcome> => {
    let socket;
    try {
      // Only ACKs and ERRORs come back on a transfer's socket: small datagrams, small buffers.
      socket = await openDatagrams(
        {
          mode: context.datagrams,
          address: context.address,
          port: 0,
          service: 'tftp transfer',
          keys: { address: 'tftp.address', port: 'tftp.port' },
          literalAddressesOnly: true,
          maxDatagram: 1024,
        },
        'tftp.datagrams',
      );
    } catch (err) {
      await file.close().catch(() => {});
      return { kind: 'refused', error: new TftpError('E_TFTP_READ', `no socket for the transfer: ${(err as Error).message}`, { cause: err }) };
    }
    // netascii changes the length on the wire, so its tsize would be a guess: leave tsize out (RFC 2349 allows it).
    const negotiated = negotiate(job.options, context.limits, job.mode === 'octet' ? file.size : undefined);
    transfer = new Transfer({
      socket,
      client: job.client,
      file,
      mode: job.mode,
      negotiated,
      timing: context.timing,
      log: context.log.child({ client: `${job.client.address}:${job.client.port}` }),
    });
    transfer.start();
    if (aborted) transfer.abort('E_TFTP_SHUTDOWN');
    return { kind: 'ran', result: await transfer.done };
  })();
  return {
    abort() {
      aborted = true;
      transfer?.abort('E_TFTP_SHUTDOWN');
    },
    bytes: () => transfer?.acknowledged ?? 0,
    done,
  };
}
