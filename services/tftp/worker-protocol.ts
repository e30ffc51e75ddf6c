/**
 * The messages between the TFTP listener and its transfer workers: structured-clone plain data, and the
 * open file's FileHandle, which is transferred (the worker then owns and closes it).
 */
import type { FileHandle } from 'node:fs/promises';
import type { TftpErrorCode } from '../../src/tftp/errors.js';
import type { NegotiationLimits } from '../../src/tftp/options.js';
import type { DatagramsMode } from '../net/datagram.js';
import type { TransferJob } from './job.js';
import type { TransferResult, TransferTiming } from './transfer.js';

export interface WorkerInit {
  address: string;
  limits: NegotiationLimits;
  timing: TransferTiming;
  /** The lowest pino level number forwarded to the main thread (e.g. 20 for debug). */
  minLevel: number;
  datagrams: DatagramsMode;
}

export type ToWorker = { type: 'job'; id: number; job: TransferJob; handle: FileHandle; size: number } | { type: 'abort'; id: number };

export type WireOutcome = { kind: 'refused'; code: TftpErrorCode; detail: string } | { kind: 'ran'; result: TransferResult };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'outcome'; id: number; outcome: WireOutcome }
  /** Bytes acknowledged so far by each running transfer, sent once a second while any runs. */
  | { type: 'progress'; bytes: [id: number, bytes: number][] }
  | { type: 'log'; level: 'debug' | 'warn'; fields: Record<string, unknown>; msg: string };
