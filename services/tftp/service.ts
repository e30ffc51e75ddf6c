/**
 * The `tftp` service kind for the supervisor: a TftpServer over the PXE-bootable boot environments'
 * boot/ directories and the default root tftp.root (services/boot/tftp-source.ts).
 */
import { mkdir } from 'node:fs/promises';
import { classifyDownload } from '../../src/boot/timeline.js';
import type { Config } from '../../src/config/schema.js';
import { BeError } from '../../src/errors.js';
import { BootEnvironmentSource } from '../boot/tftp-source.js';
import type { Logger } from '../log.js';
import type { Service, ServiceContext, ServiceKind } from '../service.js';
import { TftpServer } from './server.js';
import { DirectorySource, type FileSource } from './source.js';

type TftpConfig = Config['tftp'];

/** The server's settings from the `tftp` configuration section. */
export function serverTiming(config: TftpConfig) {
  return { retransmitMs: config.retransmit, retries: config.retries, idleTimeoutMs: config.idleTimeout * 1000, busyPollMicros: config.busyPoll };
}

class TftpService implements Service {
  readonly name = 'tftp';
  private server: TftpServer | undefined;
  private readonly log: Logger;

  constructor(
    private readonly config: TftpConfig,
    private readonly context: ServiceContext,
  ) {
    this.log = context.log;
  }

  async start(): Promise<void> {
    let root: DirectorySource;
    try {
      // The default root lives in the appliance's own state directory: make it on a fresh machine.
      if (this.config.root.startsWith(`${this.context.config.server.stateDir}/`)) await mkdir(this.config.root, { recursive: true });
      root = await DirectorySource.create(this.config.root);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOENT' ? 'no such directory' : code === 'ENOTDIR' ? 'not a directory' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
      throw new BeError('E_CONFIG', `tftp.root ${this.config.root}: ${why}: create it or set tftp.root to the directory holding the boot files`);
    }
    const leases = {
      holderOf: async (ip: string) => (await this.context.commands.call('dhcp.holderOf', { ip }).catch(() => null)) as { mac?: string; host?: string } | null,
    };
    const source: FileSource = new BootEnvironmentSource(() => this.context.boot.current, leases, root);
    const server = new TftpServer({
      address: this.config.address,
      port: this.config.port,
      source,
      onComplete: (path, client) => {
        const step = classifyDownload(path);
        if (step) this.context.bootEvent({ step, ip: client.address, detail: path });
      },
      maxBlksize: this.config.maxBlksize,
      maxWindowsize: this.config.maxWindowsize,
      maxTransfers: this.config.maxTransfers,
      timing: serverTiming(this.config),
      log: this.log,
      workers: this.config.workers,
    });
    await server.start();
    this.server = server;
  }

  async close(): Promise<void> {
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
