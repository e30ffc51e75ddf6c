/**
 * The TFTP file source of the appliance: each PXE-bootable boot environment's boot/ and nothing else of
 * it (a BE also holds etc/master.passwd and ssh host keys, and TFTP has no authentication), plus the
 * shared default root (tftp.root) for everyone else. A name is looked up, in order:
 *
 *   1. `NAME/boot/...`: that BE's boot/ (the names the DHCP policy hands out: tftpPrefix + boot file);
 *   2. `boot/...` from a client whose host boots a BE (client address → fixed address or DHCP lease →
 *      host → its BE): that BE's own boot/, so every host's `boot/pxeboot` is its own;
 *   3. anything else: the default root.
 *
 * Each BE's boot/ is its own DirectorySource, so symlinks cannot lead out of boot/.
 */
import { mkdir } from 'node:fs/promises';
import type { Config } from '../../src/config/schema.js';
import { BeError } from '../../src/errors.js';
import { TftpError } from '../../src/tftp/errors.js';
import type { CommandBus } from '../control/bus.js';
import type { ServiceContext } from '../service.js';
import { DirectorySource, type Client, type FileSource, type TftpFile } from '../tftp/source.js';
import { hostAt, hostWithMac, type BootCatalogue, type BootSnapshot } from './catalogue.js';

export interface LeaseLookup {
  /** Who holds a leased address now (the DHCP server's table); null when nobody or no DHCP runs. */
  holderOf(address: string): Promise<{ mac?: string | undefined; host?: string | undefined } | null>;
}

/** The running DHCP server's lease table, over the command bus (null when no DHCP service runs). */
export function dhcpLeases(commands: CommandBus): LeaseLookup {
  return {
    holderOf: async (ip: string) => (await commands.call('dhcp.holderOf', { ip }).catch(() => null)) as { mac?: string; host?: string } | null,
  };
}

/**
 * The default root tftp.root as a DirectorySource, made first when it lies inside server.stateDir (a
 * fresh machine); a missing root is one line naming the key.
 */
export async function defaultRoot(config: Config): Promise<DirectorySource> {
  const root = config.tftp.root;
  try {
    if (root.startsWith(`${config.server.stateDir}/`)) await mkdir(root, { recursive: true });
    return await DirectorySource.create(root);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such directory' : code === 'ENOTDIR' ? 'not a directory' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new BeError('E_CONFIG', `tftp.root ${root}: ${why}: create it or set tftp.root to the directory holding the boot files`);
  }
}

/**
 * What TFTP serves, for any service that serves the same files (TFTP, HTTP): the boot environments of
 * the shared boot snapshot, the DHCP leases, and the default root. One recipe, so both apply the same rules.
 */
export async function bootFileSource(context: ServiceContext): Promise<BootEnvironmentSource> {
  return new BootEnvironmentSource(() => context.boot.current, dhcpLeases(context.commands), await defaultRoot(context.config));
}

/** The host a client address belongs to (hosts[].ip, else its DHCP lease), for the boot timeline. */
export async function hostOfClient(config: Config, leases: LeaseLookup, address: string): Promise<{ host?: string; mac?: string }> {
  const fixed = hostAt(config, address);
  if (fixed) return { host: fixed.name, mac: fixed.mac };
  const holder = await leases.holderOf(address);
  return { ...(holder?.host ? { host: holder.host } : {}), ...(holder?.mac ? { mac: holder.mac } : {}) };
}

export class BootEnvironmentSource implements FileSource {
  private readonly sources = new Map<string, Promise<DirectorySource>>();

  constructor(
    /** The boot snapshot DHCP answers from; its catalogue is undefined while none could be read (then only the default root serves). */
    private readonly boot: () => BootSnapshot,
    private readonly leases: LeaseLookup,
    private readonly fallback: FileSource | undefined,
  ) {}

  private bootSource(dir: string): Promise<DirectorySource> {
    let source = this.sources.get(dir);
    if (!source) {
      source = DirectorySource.create(dir);
      source.catch(() => this.sources.delete(dir)); // not there (yet): look again next time
      this.sources.set(dir, source);
    }
    return source;
  }

  /** client address → fixed address (hosts[].ip) or DHCP lease → host → its boot environment. */
  private async beOfClient(config: Config, address: string): Promise<string | undefined> {
    const fixed = hostAt(config, address);
    if (fixed) return fixed.be;
    const holder = await this.leases.holderOf(address);
    const host = holder?.host ? config.hosts.find((h) => h.name === holder.host) : holder?.mac ? hostWithMac(config, holder.mac) : undefined;
    return host?.be;
  }

  private async fromBe(catalogue: BootCatalogue | undefined, be: string, rest: string, path: string, client: Client): Promise<TftpFile> {
    const dir = catalogue?.bootDirOf(be);
    if (dir === undefined) throw new TftpError('E_TFTP_NOT_FOUND', `${path}: boot environment ${be} is not PXE-bootable or not mounted`);
    let source: DirectorySource;
    try {
      source = await this.bootSource(dir);
    } catch {
      throw new TftpError('E_TFTP_NOT_FOUND', `${path}: ${dir} does not exist`);
    }
    return source.open(rest, client);
  }

  async open(path: string, client: Client): Promise<TftpFile> {
    // One snapshot for the whole lookup: the host's assignment and the BE's boot/ come from the same reload.
    const { config, catalogue } = this.boot();
    const parts = path.split('/');
    const [first, second] = parts;
    if (first !== undefined && second === 'boot' && parts.length > 2 && catalogue?.bootDirOf(first) !== undefined) {
      return this.fromBe(catalogue, first, parts.slice(2).join('/'), path, client);
    }
    if (first === 'boot' && parts.length > 1) {
      const be = await this.beOfClient(config, client.address);
      if (be !== undefined && catalogue?.isPxeBootable(be)) return this.fromBe(catalogue, be, parts.slice(1).join('/'), path, client);
    }
    if (this.fallback) return this.fallback.open(path, client);
    throw new TftpError('E_TFTP_NOT_FOUND', `${path}: not in any PXE-bootable boot environment, and no tftp.root`);
  }
}
