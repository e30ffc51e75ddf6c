/** The `tftp` service kind for the supervisor: a TftpServer over the directory tftp.root. */
import type { Config } from '../../src/config/schema.js';
import { BeError } from '../../src/errors.js';
import type { Logger } from '../log.js';
import type { Service, ServiceContext, ServiceKind } from '../service.js';
import { TftpServer } from './server.js';
import { DirectorySource } from './source.js';

type TftpConfig = Config['tftp'];

/** The server's settings from the `tftp` configuration section. */
export function serverTiming(config: TftpConfig) {
  return { retransmitMs: config.retransmit, retries: config.retries, idleTimeoutMs: config.idleTimeout * 1000 };
}

class TftpService implements Service {
  readonly name = 'tftp';
  private server: TftpServer | undefined;

  constructor(
    private readonly config: TftpConfig,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    let source: DirectorySource;
    try {
      source = await DirectorySource.create(this.config.root);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such directory' : code === 'ENOTDIR' ? 'not a directory' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
      throw new BeError('E_CONFIG', `tftp.root ${this.config.root}: ${why}: create it or set tftp.root to the directory holding the boot files`);
    }
    const server = new TftpServer({
      address: this.config.address,
      port: this.config.port,
      source,
      maxBlksize: this.config.maxBlksize,
      maxWindowsize: this.config.maxWindowsize,
      maxTransfers: this.config.maxTransfers,
      timing: serverTiming(this.config),
      log: this.log,
      ...(this.config.workers > 0 ? { workers: { count: this.config.workers, root: this.config.root } } : {}),
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
  create: (context: ServiceContext) => new TftpService(context.config.tftp, context.log),
};
