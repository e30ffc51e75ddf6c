/**
 * What the boot servers need to know about boot environments, looked up per request from a cache:
 * which BEs are PXE-bootable (be sharepxe) and where each is mounted now (its boot/ for TFTP, its root
 * for the DHCP root-path), and which host sits at a client address. Built from the inventory
 * (zfs list + mount table, or the dir backend) and the state file; refreshed by its owner.
 */
import type { BootEnvironment } from '../../src/be/inventory.js';
import type { Config, HostConfig } from '../../src/config/schema.js';
import { BeOps } from '../be/ops.js';
import { loadState } from '../be/state.js';

export class BootCatalogue {
  private constructor(
    private readonly config: Config,
    private readonly envs: ReadonlyMap<string, BootEnvironment>,
    private readonly pxe: ReadonlySet<string>,
  ) {}

  static async load(config: Config): Promise<BootCatalogue> {
    const [ops, state] = await Promise.all([BeOps.open(config), loadState(config.server.stateDir)]);
    const envs = await ops.backend.list();
    return new BootCatalogue(config, new Map(envs.map((be) => [be.name, be])), new Set(state.pxe));
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

  /** The host with a fixed address (hosts[].ip). */
  hostAt(address: string): HostConfig | undefined {
    return this.config.hosts.find((h) => h.ip === address);
  }

  hostWithMac(mac: string): HostConfig | undefined {
    return this.config.hosts.find((h) => h.mac === mac);
  }
}
