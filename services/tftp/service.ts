/**
 * The `tftp` service kind for the supervisor: a TftpServer over the PXE-bootable boot environments'
 * boot/ directories and the default root tftp.root (services/boot/tftp-source.ts).
 */
import { classifyDownload } from '../../src/boot/timeline.js';
import type { Config } from '../../src/config/schema.js';
import { bootFileSource } from '../boot/tftp-source.js';
import { logDatagramPath } from '../net/datagram.js';
import type { Logger } from '../log.js';
import type { Service, ServiceContext, ServiceKind } from '../service.js';
import { TftpServer } from './server.js';
import type { FileSource } from './source.js';
import type { TransferOutcome } from './transfer.js';
import type { TransferOutcome as MetricOutcome } from '../metrics.js';

type TftpConfig = Config['tftp'];

/** The server's settings from the `tftp` configuration section. */
export function serverTiming(config: TftpConfig) {
  return { retransmitMs: config.retransmit, retries: config.retries, idleTimeoutMs: config.idleTimeout * 1000, busyPollMicros: config.busyPoll };
}

/** A transfer's end as the metrics name it: read and socket errors are the server's errors. */
function metricOutcome(outcome: TransferOutcome | 'refused'): MetricOutcome {
  return outcome === 'read-error' || outcome === 'socket-error' ? 'error' : outcome;
}

class TftpService implements Service {
  readonly name = 'tftp';
  private server: TftpServer | undefined;
  private unregister: (() => void) | undefined;
  private readonly log: Logger;

  constructor(
    private readonly config: TftpConfig,
    private readonly context: ServiceContext,
  ) {
    this.log = context.log;
  }

  async start(): Promise<void> {
    // The same recipe as the HTTP service's (services/boot/tftp-source.ts), so both serve the same files.
    const source: FileSource = await bootFileSource(this.context);
    logDatagramPath(this.log, this.config.datagrams, 'tftp.datagrams', 'tftp');
    const server = new TftpServer({
      address: this.config.address,
      port: this.config.port,
      source,
      onComplete: (path, client) => {
        const step = classifyDownload(path);
        if (step) this.context.bootEvent({ step, ip: client.address, detail: path, protocol: 'tftp' });
      },
      onEnded: (outcome, bytes) => this.context.metrics.transferEnded('tftp', metricOutcome(outcome), bytes),
      onActivity: () => this.context.events.emit('transfer'),
      maxBlksize: this.config.maxBlksize,
      maxWindowsize: this.config.maxWindowsize,
      maxTransfers: this.config.maxTransfers,
      timing: serverTiming(this.config),
      log: this.log,
      workers: this.config.workers,
      datagrams: this.config.datagrams,
    });
    await server.start();
    this.server = server;
    this.unregister = this.context.commands.register('tftp.transfers', () => server.transfers());
  }

  async close(): Promise<void> {
    this.unregister?.();
    this.unregister = undefined;
    const server = this.server;
    this.server = undefined;
    await server?.close();
  }
}

export const tftpKind: ServiceKind = {
  name: 'tftp',
  enabled: (config) => config.tftp.enabled,
  settings: (config) => config.tftp,
  create: (context: ServiceContext) => new TftpService(context.config.tftp, context),
};
