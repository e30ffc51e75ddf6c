/**
 * One process, one lifecycle: the supervisor starts every enabled service or none, stops them all on
 * the first failure or when asked, and on reload restarts only the services whose settings changed,
 * so sockets whose configuration did not change are never dropped.
 */
import { EventEmitter } from 'node:events';
import { isDeepStrictEqual } from 'node:util';
import type { Config } from '../src/config/schema.js';
import { BeError } from '../src/errors.js';
import { Timelines, type BootEvent, type Timeline } from '../src/boot/timeline.js';
import { BootKeeper } from './boot/catalogue.js';
import { CommandBus } from './control/bus.js';
import type { Logger } from './log.js';
import { ApplianceMetrics } from './metrics.js';
import type { Service, ServiceKind } from './service.js';

interface Running {
  kind: ServiceKind;
  service: Service;
  settings: unknown;
  config: Config;
}

/** How often the boot environments are read again, for mounts made by other tools (be mount asks at once). */
const bootRefreshMs = 10_000;

/** What the appliance tells whoever watches it live (the status page's event stream). */
export interface ApplianceEventMap {
  /** A step of a machine's network boot, and that machine's timeline with it. */
  boot: [{ event: BootEvent; timeline: Timeline }];
  /** The configuration was reloaded (hosts, assignments may differ). */
  reload: [];
  /** A boot file transfer started or ended (TFTP or HTTP): the list of transfers changed. */
  transfer: [];
}

export class Supervisor {
  private readonly running = new Map<string, Running>();
  /** Shared by every service: the commands the appliance answers. */
  readonly commands = new CommandBus();
  /** Shared by every service: what each machine's network boot has done so far. */
  readonly timelines = new Timelines((mac) => this.current?.hosts.find((h) => h.mac === mac)?.name);
  /** Shared by every service: the appliance's Prometheus metrics. */
  readonly metrics: ApplianceMetrics;
  readonly events = new EventEmitter<ApplianceEventMap>();
  private current: Config | undefined;
  private keeper: BootKeeper | undefined;
  private stopping: Promise<void> | undefined;
  private settle!: (failure: Error | undefined) => void;
  /** Resolves when the appliance has stopped: with the error that stopped it, or undefined after stop(). */
  readonly done: Promise<Error | undefined> = new Promise((resolve) => (this.settle = resolve));

  constructor(
    private readonly kinds: readonly ServiceKind[],
    private readonly log: Logger,
    private readonly only?: readonly string[],
    version = '0.0.0',
  ) {
    this.metrics = new ApplianceMetrics(this.commands, version);
    this.events.setMaxListeners(0); // one per open status page
    const known = kinds.map((k) => k.name);
    const unknown = only?.find((name) => !known.includes(name));
    if (unknown !== undefined) {
      throw new BeError('E_USAGE', `--only ${unknown}: no such service (known: ${known.join(', ') || 'none'})`);
    }
  }

  private wanted(config: Config): ServiceKind[] {
    return this.kinds.filter((kind) => (this.only === undefined || this.only.includes(kind.name)) && kind.enabled(config));
  }

  /** The configuration running now (hosts with their assignments); there from start() on. */
  get config(): Config {
    if (!this.current) throw new Error('supervisor not started');
    return this.current;
  }

  /** Records a step of a network boot: the timeline, the step-duration histogram, the live event. */
  recordBoot(event: BootEvent): Timeline | undefined {
    const timeline = this.timelines.record(event);
    if (!timeline) return undefined;
    const previous = timeline.events.at(-2);
    if (previous) this.metrics.bootStep(event.step, Math.max(0, event.at - previous.at) / 1000);
    this.events.emit('boot', { event: timeline.events.at(-1)!, timeline });
    return timeline;
  }

  /** The names of the services running now, in start order. */
  get names(): string[] {
    return [...this.running.keys()];
  }

  /** The boot snapshot every service shares (services/boot/catalogue.ts); there from start() on. */
  get boot(): BootKeeper {
    if (!this.keeper) throw new Error('supervisor not started');
    return this.keeper;
  }

  /** Start every wanted service, in order; if one fails, close those already started and rethrow. */
  async start(config: Config): Promise<void> {
    this.current = config;
    this.keeper = new BootKeeper(config, { log: this.log.child({ svc: 'boot' }), refreshMs: bootRefreshMs });
    await this.keeper.start();
    this.unregisterRefresh = this.commands.register('boot.refresh', async () => {
      await this.keeper?.refresh();
      return { stale: this.keeper?.stale ?? false };
    });
    for (const kind of this.wanted(config)) {
      try {
        await this.launch(kind, config);
      } catch (err) {
        await this.closeAll();
        throw err;
      }
    }
    this.log.info(
      { enabled: this.names, disabled: this.kinds.map((k) => k.name).filter((n) => !this.running.has(n)) },
      this.running.size === 0 ? 'appliance running with no services enabled' : `appliance running: ${this.names.join(', ')}`,
    );
  }

  /** Apply a new configuration: keep unchanged services, restart changed ones, start or stop the rest. */
  async reload(config: Config): Promise<void> {
    if (this.stopping !== undefined) return;
    const wanted = this.wanted(config);
    // Refuse first, before anything changes, what a running service cannot take without a restart.
    for (const kind of wanted) {
      const entry = this.running.get(kind.name);
      if (!entry?.service.check || !isDeepStrictEqual(entry.settings, kind.settings(config))) continue;
      try {
        entry.service.check(config);
      } catch (err) {
        this.log.error({ svc: kind.name, err: (err as Error).message }, 'reload refused: keeping the running configuration');
        throw err;
      }
    }
    this.current = config;
    await this.keeper?.update(config);
    for (const [name, entry] of [...this.running]) {
      const still = wanted.find((k) => k.name === name);
      if (!still) {
        this.log.info({ svc: name }, 'service disabled by reload: stopping');
        this.running.delete(name);
        await entry.service.close();
      }
    }
    for (const kind of wanted) {
      const entry = this.running.get(kind.name);
      const settings = kind.settings(config);
      if (entry && isDeepStrictEqual(entry.settings, settings)) {
        entry.config = config;
        await entry.service.update?.(config);
        continue;
      }
      if (entry) {
        this.log.info({ svc: kind.name }, 'settings changed: restarting service');
        this.running.delete(kind.name);
        await entry.service.close();
      }
      try {
        await this.launch(kind, config);
      } catch (err) {
        this.log.error({ svc: kind.name, err: (err as Error).message }, 'service failed to start after reload');
        if (entry) {
          try {
            await this.launch(kind, entry.config);
            this.log.warn({ svc: kind.name }, 'service restored with its previous settings');
            continue;
          } catch {
            // fall through: the appliance cannot keep this service, so it stops as a whole
          }
        }
        this.fail(err as Error);
        return;
      }
    }
    this.log.info({ running: this.names }, 'configuration reloaded');
    this.events.emit('reload');
  }

  private unregisterRefresh: (() => void) | undefined;

  /** Stop every service (idempotent). */
  stop(): Promise<void> {
    this.stopping ??= this.closeAll().then(() => this.settle(undefined));
    return this.stopping;
  }

  private fail(err: Error): void {
    if (this.stopping !== undefined) return;
    this.log.error({ err: err.message }, 'stopping the appliance after a failure');
    this.stopping = this.closeAll().then(() => this.settle(err));
  }

  private async launch(kind: ServiceKind, config: Config): Promise<void> {
    const log = this.log.child({ svc: kind.name });
    const service = kind.create({
      config,
      log,
      fail: (err) => this.fail(err),
      commands: this.commands,
      bootEvent: (event) => void this.recordBoot({ ...event, at: Date.now() }),
      boot: this.boot,
      metrics: this.metrics,
      events: this.events,
    });
    await service.start();
    this.running.set(kind.name, { kind, service, settings: kind.settings(config), config });
  }

  private async closeAll(): Promise<void> {
    this.unregisterRefresh?.();
    this.unregisterRefresh = undefined;
    this.keeper?.close();
    const entries = [...this.running.values()].reverse();
    this.running.clear();
    for (const { kind, service } of entries) {
      try {
        await service.close();
        this.log.info({ svc: kind.name }, 'service stopped');
      } catch (err) {
        this.log.warn({ svc: kind.name, err: (err as Error).message }, 'error while closing service');
      }
    }
  }
}
