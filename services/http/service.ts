/**
 * The `http` service kind for the supervisor: the boot files TFTP serves, over HTTP, from the same
 * per-host file source (services/boot/tftp-source.ts bootFileSource: the PXE-bootable boot
 * environments' boot/, the client's own BE for `boot/...`, tftp.root for the rest), so the rules are
 * the same by construction. Hosts and assignments reach it through the shared boot snapshot, like
 * TFTP: a reload that changes only them keeps the socket.
 */
import { classifyDownload } from '../../src/boot/timeline.js';
import type { Config } from '../../src/config/schema.js';
import { parseNetwork } from '../../src/http/networks.js';
import { bootFileSource, dhcpLeases, hostOfClient } from '../boot/tftp-source.js';
import type { Service, ServiceContext, ServiceKind } from '../service.js';
import { Window } from './api.js';
import { HttpBootServer } from './server.js';

class HttpService implements Service {
  readonly name = 'http';
  private server: HttpBootServer | undefined;
  private unregister: (() => void) | undefined;

  constructor(private readonly context: ServiceContext) {}

  async start(): Promise<void> {
    const config = this.context.config;
    const leases = dhcpLeases(this.context.commands);
    const server = new HttpBootServer({
      address: config.http.address,
      port: config.http.port,
      source: await bootFileSource(this.context),
      allow: config.http.allow.map(parseNetwork),
      token: config.http.token,
      log: this.context.log,
      window: new Window({ commands: this.context.commands, metrics: this.context.metrics, events: this.context.events, log: this.context.log }),
      onEnded: (outcome, bytes) => this.context.metrics.transferEnded('http', outcome, bytes),
      onActivity: () => this.context.events.emit('transfer'),
      onComplete: (path, client) => {
        const step = classifyDownload(path);
        if (!step) return;
        // The host too, when the address tells (hosts[].ip or a lease): `be status HOST` finds the step
        // even when this machine's DHCP came from elsewhere.
        void hostOfClient(this.context.boot.current.config, leases, client.address)
          .catch(() => ({}))
          .then((who) => this.context.bootEvent({ step, ip: client.address, ...who, detail: path, protocol: 'http' }));
      },
    });
    await server.start();
    this.server = server;
    this.unregister = this.context.commands.register('http.transfers', () => server.transfers());
  }

  async close(): Promise<void> {
    this.unregister?.();
    this.unregister = undefined;
    const server = this.server;
    this.server = undefined;
    await server?.close();
  }
}

export const httpKind: ServiceKind = {
  name: 'http',
  enabled: (config) => config.http.enabled,
  // tftp.root is the default root it serves; hosts and assignments come through the boot snapshot.
  settings: (config: Config) => ({ http: config.http, root: config.tftp.root, stateDir: config.server.stateDir }),
  create: (context: ServiceContext) => new HttpService(context),
};
