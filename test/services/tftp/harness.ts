/** Starts a TftpServer on 127.0.0.1, port 0, over a temporary root, with its log lines captured. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '../../../services/log.js';
import { testDatagrams } from '../../lan/datagrams.js';
import { TftpServer, type FinishedTransfer, type TftpServerOptions } from '../../../services/tftp/server.js';
import { DirectorySource, type FileSource } from '../../../services/tftp/source.js';
import type { TransferTiming } from '../../../services/tftp/transfer.js';

export interface Harness {
  server: TftpServer;
  root: string;
  port: number;
  /** Parsed JSON log lines. */
  logs: Record<string, unknown>[];
  finished: FinishedTransfer[];
  close(): Promise<void>;
}

export function tempRoot(prefix = 'be-tftp-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function startServer(
  options: Partial<Omit<TftpServerOptions, 'log' | 'source' | 'timing'>> & {
    timing?: Partial<TransferTiming>;
    root?: string;
    source?: FileSource;
    logLevel?: 'info' | 'debug' | 'silent';
  } = {},
): Promise<Harness> {
  const root = options.root ?? tempRoot();
  const ownsRoot = options.root === undefined;
  const logs: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) logs.push(JSON.parse(line));
      done();
    },
  });
  const log = createLogger({ level: options.logLevel ?? 'info', pretty: false, destination });
  const server = new TftpServer({
    // The native path unless BE_TEST_DATAGRAMS says otherwise (npm run test:datagrams runs node:dgram).
    datagrams: testDatagrams(),
    address: '127.0.0.1',
    port: 0,
    source: options.source ?? (await DirectorySource.create(root)),
    maxBlksize: options.maxBlksize ?? 1468,
    maxWindowsize: options.maxWindowsize ?? 16,
    maxTransfers: options.maxTransfers ?? 256,
    // busyPollMicros: the product's default (tftp.busyPoll), so the tests run what ships.
    timing: { retransmitMs: 200, retries: 5, idleTimeoutMs: 30_000, busyPollMicros: 1000, ...options.timing },
    log,
    ...(options.workers ? { workers: options.workers } : {}),
  });
  const finished: FinishedTransfer[] = [];
  server.onFinished = (result) => finished.push(result);
  await server.start();
  return {
    server,
    root,
    port: server.port,
    logs,
    finished,
    async close() {
      await server.close();
      if (ownsRoot) rmSync(root, { recursive: true, force: true });
    },
  };
}
