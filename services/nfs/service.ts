/**
 * The `exports` service kind: in `be serve`, a reconciler keeps nfs.exportsFile in step with the
 * inventory, at start, every nfs.reconcileInterval seconds, and on SIGHUP. It has no sockets, so its
 * settings are fresh on every reload: the supervisor restarts it on each SIGHUP, and start() reconciles.
 * A failed round is logged and retried next time; it never stops the appliance.
 */
import type { Config } from '../../src/config/schema.js';
import type { ExportEntry } from '../../src/nfs/exports.js';
import type { CommandBus } from '../control/bus.js';
import type { Logger } from '../log.js';
import type { Service, ServiceContext, ServiceKind } from '../service.js';
import { openBackend } from '../be/backend.js';
import { applyExports } from './exports.js';

export class ExportsReconciler implements Service {
  readonly name = 'exports';
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private abort = new AbortController();
  private closed = false;
  /** What the last successful round exported (exports.list: /metrics). */
  private exported: ExportEntry[] = [];
  private unregister: (() => void) | undefined;

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
    private readonly commands?: CommandBus,
  ) {}

  async start(): Promise<void> {
    this.unregister = this.commands?.register('exports.list', () => ({ paths: this.exported.map((e) => e.path) }));
    await this.reconcile();
    if (this.closed) return;
    this.timer = setInterval(() => void this.reconcile(), this.config.nfs.reconcileInterval * 1000);
    this.timer.unref();
  }

  /** One round; overlapping calls share the round in progress. */
  reconcile(): Promise<void> {
    this.running ??= this.round().finally(() => (this.running = undefined));
    return this.running;
  }

  private async round(): Promise<void> {
    try {
      const backend = await openBackend(this.config);
      const outcome = await applyExports(this.config, backend, { signal: this.abort.signal });
      this.exported = outcome.entries;
      for (const problem of outcome.problems) this.log.warn({ problem }, 'not exported');
      if (outcome.notRunning) this.log.warn({ file: this.config.nfs.exportsFile }, outcome.notRunning);
      else if (outcome.written)
        this.log.info({ file: this.config.nfs.exportsFile, lines: outcome.text.split('\n').length - 1 }, 'exports rewritten, NFS server reloaded');
      else this.log.debug({ file: this.config.nfs.exportsFile }, 'exports unchanged');
    } catch (err) {
      if (!this.closed) this.log.error({ err: (err as Error).message }, 'exports reconciliation failed; retrying next round');
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.unregister?.();
    this.unregister = undefined;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.abort.abort();
    await this.running;
  }
}

let generation = 0;

export const exportsKind: ServiceKind = {
  name: 'exports',
  // Without nfs.network nothing may be exported, so there is nothing to reconcile.
  enabled: (config) => config.nfs.network !== null,
  settings: () => ({ generation: ++generation }),
  create: (context: ServiceContext) => new ExportsReconciler(context.config, context.log, context.commands),
};
