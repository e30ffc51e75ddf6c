/**
 * What the boot servers need to know about boot environments: which BEs are PXE-bootable (be sharepxe)
 * and where each is mounted now (its boot/ for TFTP, its root for the DHCP root-path). Built from the
 * inventory (zfs list + mount table, or the dir backend) and the state file.
 *
 * DHCP and TFTP read one BootSnapshot, the configuration (hosts and their assignments) together with
 * the catalogue loaded for it, from one BootKeeper: a host's root-path and the boot/ its loader is
 * served from always come from the same assignment, even while a reload could not read the inventory.
 */
import type { BootEnvironment } from '../../src/be/inventory.js';
import type { Config, HostConfig } from '../../src/config/schema.js';
import type { Logger } from '../log.js';
import { BeOps } from '../be/ops.js';
import { loadState } from '../be/state.js';

export class BootCatalogue {
  private constructor(
    private readonly envs: ReadonlyMap<string, BootEnvironment>,
    private readonly pxe: ReadonlySet<string>,
  ) {}

  static async load(config: Config): Promise<BootCatalogue> {
    const [ops, state] = await Promise.all([BeOps.open(config), loadState(config.server.stateDir)]);
    const envs = await ops.backend.list();
    return new BootCatalogue(new Map(envs.map((be) => [be.name, be])), new Set(state.pxe));
  }

  /** Where a BE's root is mounted now; undefined when it does not exist or is not mounted. */
  rootOf(be: string): string | undefined {
    return this.envs.get(be)?.datasets[0]?.path ?? undefined;
  }

  /** The boot/ directory TFTP may serve for a BE: only PXE-bootable, mounted ones. */
  bootDirOf(be: string): string | undefined {
    const root = this.pxe.has(be) ? this.rootOf(be) : undefined;
    return root === undefined ? undefined : `${root === '/' ? '' : root}/boot`;
  }

  isPxeBootable(be: string): boolean {
    return this.pxe.has(be);
  }
}

/** One consistent view for the boot servers: a configuration and the catalogue read for it (undefined: none could be read). */
export interface BootSnapshot {
  readonly config: Config;
  readonly catalogue: BootCatalogue | undefined;
}

/** The host with a fixed address (hosts[].ip). */
export function hostAt(config: Config, address: string): HostConfig | undefined {
  return config.hosts.find((h) => h.ip === address);
}

export function hostWithMac(config: Config, mac: string): HostConfig | undefined {
  return config.hosts.find((h) => h.mac === mac);
}

export interface BootKeeperOptions {
  log: Logger;
  /** How often the inventory is read again (mounts made by other tools); 0: only when asked. */
  refreshMs?: number;
  /** The catalogue loader (tests replace it to make the inventory fail). */
  load?: (config: Config) => Promise<BootCatalogue>;
}

/**
 * Holds the current BootSnapshot and replaces it whole. A new configuration (a reload, be bootpxe)
 * takes effect once its catalogue is read; if that fails while the running snapshot has one, the
 * running snapshot stays (the previous assignments, for DHCP and TFTP alike) and every refresh tries
 * the new configuration again. Without any catalogue there is nothing to keep: the new configuration
 * applies at once, with root-paths from the configuration.
 */
export class BootKeeper {
  private snapshot: BootSnapshot;
  /** The configuration wanted now; differs from snapshot.config while its catalogue cannot be read. */
  private wanted: Config;
  private readonly listeners = new Set<(snapshot: BootSnapshot) => void>();
  private readonly load: (config: Config) => Promise<BootCatalogue>;
  private timer: NodeJS.Timeout | undefined;
  private failing = false;
  private loading: Promise<void> | undefined;

  constructor(
    config: Config,
    private readonly options: BootKeeperOptions,
  ) {
    this.snapshot = { config, catalogue: undefined };
    this.wanted = config;
    this.load = options.load ?? ((c) => BootCatalogue.load(c));
  }

  get current(): BootSnapshot {
    return this.snapshot;
  }

  /** Whether the snapshot served is older than the configuration wanted (its inventory could not be read). */
  get stale(): boolean {
    return this.snapshot.config !== this.wanted;
  }

  /** Calls `listener` with every new snapshot; returns the function that stops it. */
  onChange(listener: (snapshot: BootSnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** First read, then a refresh every refreshMs. A failed first read is a warning: root-paths then come from the configuration. */
  async start(): Promise<void> {
    await this.refresh();
    const every = this.options.refreshMs ?? 0;
    if (every > 0) this.timer = setInterval(() => void this.refresh(), every).unref();
  }

  /** Take a new configuration (see the class comment); resolves once it is applied or kept waiting. */
  async update(config: Config): Promise<void> {
    this.wanted = config;
    if (this.snapshot.catalogue === undefined) this.commit({ config, catalogue: undefined });
    await this.refresh();
  }

  /** Read the inventory for the wanted configuration now; overlapping calls share a round. */
  refresh(): Promise<void> {
    this.loading ??= this.round().finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async round(): Promise<void> {
    // Loop while an update() arrived during the read: its configuration must be read too.
    for (;;) {
      const config = this.wanted;
      try {
        const catalogue = await this.load(config);
        if (config !== this.wanted) continue;
        if (this.failing) this.options.log.info('boot environments readable again');
        this.failing = false;
        this.commit({ config, catalogue });
      } catch (err) {
        if (config !== this.wanted) continue;
        if (!this.failing) {
          const keeping = this.snapshot.catalogue !== undefined && this.stale;
          this.options.log.warn(
            { err: (err as Error).message },
            keeping
              ? 'boot environments unavailable: hosts keep their previous boot environments until they can be read'
              : this.snapshot.catalogue !== undefined
                ? 'boot environments unavailable: serving what was known'
                : 'boot environments unavailable: root-paths come from the configuration',
          );
        }
        this.failing = true;
      }
      return;
    }
  }

  private commit(snapshot: BootSnapshot): void {
    this.snapshot = snapshot;
    for (const listener of this.listeners) listener(snapshot);
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.listeners.clear();
  }
}
