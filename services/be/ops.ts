/**
 * What the boot-environment commands do, apart from argument parsing (cli/*.ts) so they can be driven
 * from tests and, later, from other commands. Each takes the loaded configuration; errors are BeErrors.
 */
import { copyFile, mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { findBe, isBeName, isReservedBeName, joinPath, reservedBeNames, type BootEnvironment } from '../../src/be/inventory.js';
import type { LayoutName } from '../../src/be/layout.js';
import type { Config } from '../../src/config/schema.js';
import { BeError } from '../../src/errors.js';
import { isIPv4 } from '../../src/net.js';
import { exportEntriesFor, type ExportsFormat } from '../../src/nfs/exports.js';
import { buildGuestFstab } from '../../src/nfs/fstab.js';
import { applyExports, renderExports, type ExportsOutcome } from '../nfs/exports.js';
import { openBackend, type BeBackend } from './backend.js';
import { readIfExists, writeAtomic } from '../atomic.js';
import { loadState, updateState } from './state.js';

export interface BeListing {
  name: string;
  source: string;
  shared: boolean;
  /** Made PXE-bootable (be sharepxe): its boot/ is served over TFTP and HTTP. */
  pxe: boolean;
  hosts: string[];
  /** Where the BE itself is mounted now, or null. */
  mountedAt: string | null;
  /** The release `be install` put into it (e.g. 14.1-RELEASE), or null. */
  release: string | null;
  /** The architecture of that release's userland (amd64, i386, arm64), or null. */
  arch: string | null;
  datasets: { name: string; guestPath: string; path: string | null; canmount: string }[];
}

export class BeOps {
  private constructor(
    readonly config: Config,
    readonly backend: BeBackend,
  ) {}

  static async open(config: Config): Promise<BeOps> {
    return new BeOps(config, await openBackend(config));
  }

  private checkName(name: string): void {
    if (!isBeName(name))
      throw new BeError('E_USAGE', `${JSON.stringify(name)} is not a boot environment name (one path component: letters, digits, "_", ".", ":", "-")`);
  }

  async find(name: string): Promise<BootEnvironment> {
    this.checkName(name);
    const envs = await this.backend.list();
    const be = findBe(envs, name);
    if (!be)
      throw new BeError('E_USAGE', `no boot environment named ${name} in ${this.config.be.root} (known: ${envs.map((e) => e.name).join(', ') || 'none'})`);
    return be;
  }

  private hostsOf(name: string): string[] {
    return this.config.hosts.filter((h) => h.be === name).map((h) => h.name);
  }

  async list(): Promise<BeListing[]> {
    const [envs, state] = await Promise.all([this.backend.list(), loadState(this.config.server.stateDir)]);
    return envs.map((be) => ({
      name: be.name,
      source: be.source,
      shared: state.shared.includes(be.name),
      pxe: state.pxe.includes(be.name),
      hosts: this.hostsOf(be.name),
      mountedAt: be.datasets[0]!.path,
      release: state.installed[be.name]?.release ?? null,
      arch: state.installed[be.name]?.arch ?? null,
      datasets: be.datasets.map((d) => ({ name: d.name, guestPath: d.guestPath, path: d.path, canmount: d.canmount })),
    }));
  }

  async create(name: string, layout: LayoutName | undefined): Promise<BootEnvironment> {
    this.checkName(name);
    if (isReservedBeName(name))
      throw new BeError('E_USAGE', `${name} is reserved (${reservedBeNames.join(', ')}: paths of the HTTP service): choose another name`);
    const envs = await this.backend.list();
    if (findBe(envs, name)) throw new BeError('E_USAGE', `boot environment ${name} already exists (${findBe(envs, name)!.source})`);
    await this.backend.create(name, layout ?? (this.backend.kind === 'zfs' ? 'freebsd' : 'flat'));
    return this.find(name);
  }

  async mount(name: string, dir?: string): Promise<BootEnvironment> {
    const be = await this.find(name);
    const target = dir ?? joinPath(this.config.be.mountDir, name);
    if (!target.startsWith('/')) throw new BeError('E_USAGE', `mount directory ${target} must be an absolute path`);
    const own = be.datasets[0]!;
    if (own.path !== null && own.path !== target) throw new BeError('E_USAGE', `${name} is already mounted at ${own.path}: be umount ${name} first`);
    if (be.datasets.every((d) => d.canmount === 'off' || d.path !== null)) return be;
    const record = await this.backend.mount(be, target);
    const state = await loadState(this.config.server.stateDir);
    // Keep the first record: it holds the mountpoint property from before any be mount.
    if (!state.mounts[name]) await updateState(this.config.server.stateDir, (s) => (s.mounts[name] = record));
    return this.find(name);
  }

  /** Mount what is not mounted yet, where the BE already is if its root is mounted; a no-op otherwise. */
  async ensureMounted(name: string): Promise<BootEnvironment> {
    const be = await this.find(name);
    if (be.datasets.every((d) => d.canmount === 'off' || d.path !== null)) return be;
    return this.mount(name, be.datasets[0]!.path ?? undefined);
  }

  async umount(name: string, force = false): Promise<void> {
    const be = await this.find(name);
    const state = await loadState(this.config.server.stateDir);
    if (state.shared.includes(name) && !force) throw new BeError('E_USAGE', `${name} is shared over NFS: be unsharenfs ${name} first (or -f)`);
    await this.backend.umount(be, state.mounts[name]);
    await updateState(this.config.server.stateDir, (s) => delete s.mounts[name]);
  }

  async destroy(name: string, force = false): Promise<void> {
    const be = await this.find(name);
    const state = await loadState(this.config.server.stateDir);
    const hosts = this.hostsOf(name);
    if (!force) {
      if (state.shared.includes(name)) throw new BeError('E_USAGE', `${name} is shared over NFS: be unsharenfs ${name} first (or -f)`);
      if (hosts.length) throw new BeError('E_USAGE', `${name} is assigned to ${hosts.join(', ')} in hosts[]: reassign them first (or -f)`);
    }
    if (state.shared.includes(name)) await this.unshare(name);
    if (this.backend.kind === 'zfs' && be.datasets.some((d) => d.path !== null)) await this.backend.umount(be, state.mounts[name]);
    await this.backend.destroy(be);
    await updateState(this.config.server.stateDir, (s) => {
      delete s.mounts[name];
      s.shared = s.shared.filter((n) => n !== name);
    });
  }

  /** Mark shared, then write the exports file and reload; refusals happen before anything changes. */
  async share(name: string, options: { force?: boolean; fstab?: string | null } = {}): Promise<ExportsOutcome & { fstab?: string }> {
    const be = await this.find(name);
    const state = await loadState(this.config.server.stateDir);
    const shared = [...new Set([...state.shared, name])];
    const mine = exportEntriesFor([be], [name]);
    if (mine.problems.length) throw new BeError('E_USAGE', `cannot share ${name}: ${mine.problems[0]}`);
    // Render first: a refusal (no nfs.network, root to the world) leaves state and files untouched.
    await renderExports(this.config, this.backend, { shared, ...(options.force ? { force: true } : {}) });
    let fstabFile: string | undefined;
    if (options.fstab !== undefined) fstabFile = await this.writeGuestFstab(be, options.fstab);
    await updateState(this.config.server.stateDir, (s) => (s.shared = shared));
    const outcome = await applyExports(this.config, this.backend, { shared, ...(options.force ? { force: true } : {}) });
    return { ...outcome, ...(fstabFile ? { fstab: fstabFile } : {}) };
  }

  async unshare(name: string): Promise<ExportsOutcome> {
    this.checkName(name);
    const state = await loadState(this.config.server.stateDir);
    if (!state.shared.includes(name)) throw new BeError('E_USAGE', `${name} is not shared`);
    const shared = state.shared.filter((n) => n !== name);
    await updateState(this.config.server.stateDir, (s) => (s.shared = shared));
    return applyExports(this.config, this.backend, { shared });
  }

  async exports(format?: ExportsFormat, force = false): Promise<{ text: string; problems: string[] }> {
    return renderExports(this.config, this.backend, { ...(format ? { format } : {}), force });
  }

  serverAddress(explicit?: string | null): string {
    const server = explicit ?? this.config.server.address;
    if (!server) throw new BeError('E_USAGE', 'no NFS server address: pass --server IP or set server.address');
    if (!isIPv4(server)) throw new BeError('E_USAGE', `--server ${server}: not an IPv4 address`);
    return server;
  }

  async fstab(name: string, server?: string | null): Promise<string> {
    return buildGuestFstab(await this.find(name), this.serverAddress(server), this.config.nfs.fstabOptions);
  }

  /**
   * Write the guest's fstab into the BE (its etc/fstab), keeping the first fstab that was there as
   * etc/fstab.orig (never overwritten, so repeated shares keep the original).
   */
  private async writeGuestFstab(be: BootEnvironment, server: string | null): Promise<string> {
    const text = buildGuestFstab(be, this.serverAddress(server), this.config.nfs.fstabOptions);
    const root = be.datasets[0]!.path!;
    const file = join(root, 'etc', 'fstab');
    const old = await readIfExists(file);
    if (old === text) return file;
    await mkdir(dirname(file), { recursive: true });
    const backup = `${file}.orig`;
    if (old !== undefined && !(await stat(backup).catch(() => undefined))) await copyFile(file, backup);
    await writeAtomic(file, text);
    return file;
  }
}
