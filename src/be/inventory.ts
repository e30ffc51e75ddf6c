/**
 * The inventory: boot environments, their datasets, and the paths where those datasets really are.
 * A boot environment is a child of `be.root` (a dataset such as zroot/ROOT, or a directory). Its nested
 * datasets come from the one recursive `zfs list`; their real paths come from the mount table, because
 * a BE mounted for export sits under a directory like /ROOT/head while its `mountpoint` property may
 * say /usr (FREEBSD.md, "Boot environments on ZFS").
 */
import { reservedSegments } from '../http/route.js';
import type { CanMount, ZfsRow } from './zfs-list.js';

export interface Dataset {
  /** The dataset (zfs) or directory (dir) name. */
  name: string;
  /** Below the BE: '' for the BE itself, then `usr`, `var/log`, ... */
  relative: string;
  /** The mountpoint property (zfs), or the directory itself (dir). */
  mountpoint: string;
  canmount: CanMount;
  /** Where the guest mounts it: `/`, `/usr`, `/var/log`. */
  guestPath: string;
  /** Where it is mounted now on this machine, from the mount table; null when it is not mounted. */
  path: string | null;
}

export interface BootEnvironment {
  name: string;
  /** The BE's own dataset (POOL/ROOT/NAME) or directory. */
  source: string;
  /** The BE first, then its nested datasets, parents before children. */
  datasets: Dataset[];
}

export class InventoryError extends Error {
  override readonly name = 'InventoryError';
}

/** Parents before children, siblings by name: `''`, `tmp`, `usr`, `usr/home`, `var`, `var/log`. */
export function compareRelative(a: string, b: string): number {
  const sa = a === '' ? [] : a.split('/');
  const sb = b === '' ? [] : b.split('/');
  for (let i = 0; i < Math.min(sa.length, sb.length); i++) {
    if (sa[i] !== sb[i]) return sa[i]! < sb[i]! ? -1 : 1;
  }
  return sa.length - sb.length;
}

/** Join path pieces with single slashes. */
export function joinPath(base: string, rest: string): string {
  if (rest === '' || rest === '/') return base;
  const tail = rest.replace(/^\/+/, '');
  return base.endsWith('/') ? `${base}${tail}` : `${base}/${tail}`;
}

/**
 * Where the guest mounts a dataset: its mountpoint below the BE's own mountpoint (as rc.d/zfsbe strips
 * `/$be` from it), else its mountpoint when that is absolute, else `/` + its place in the tree.
 */
function guestPath(mountpoint: string, rootMountpoint: string, relative: string): string {
  if (relative === '') return '/';
  if (rootMountpoint.startsWith('/')) {
    if (rootMountpoint === '/' && mountpoint.startsWith('/')) return mountpoint;
    if (mountpoint.startsWith(`${rootMountpoint}/`)) return mountpoint.slice(rootMountpoint.length);
  }
  if (mountpoint.startsWith('/')) return mountpoint;
  return `/${relative}`;
}

/** Build the inventory from one recursive `zfs list` of `root` and the ZFS part of the mount table. */
export function inventoryFromZfs(root: string, rows: readonly ZfsRow[], mounted: ReadonlyMap<string, string>): BootEnvironment[] {
  const prefix = `${root}/`;
  const byBe = new Map<string, ZfsRow[]>();
  for (const row of rows) {
    if (row.name === root) continue;
    if (!row.name.startsWith(prefix)) throw new InventoryError(`zfs list of ${root} returned ${row.name}, which is not below it`);
    const rest = row.name.slice(prefix.length);
    const be = rest.split('/')[0]!;
    let list = byBe.get(be);
    if (!list) {
      list = [];
      byBe.set(be, list);
    }
    list.push(row);
  }
  const envs: BootEnvironment[] = [];
  for (const [name, list] of byBe) {
    const source = `${prefix}${name}`;
    const own = list.find((r) => r.name === source);
    if (!own) throw new InventoryError(`zfs list shows datasets below ${source} but not ${source} itself`);
    const datasets = list
      .map((row): Dataset => {
        const relative = row.name === source ? '' : row.name.slice(source.length + 1);
        return {
          name: row.name,
          relative,
          mountpoint: row.mountpoint,
          canmount: row.canmount,
          guestPath: guestPath(row.mountpoint, own.mountpoint, relative),
          path: mounted.get(row.name) ?? null,
        };
      })
      .sort((a, b) => compareRelative(a.relative, b.relative));
    envs.push({ name, source, datasets });
  }
  return envs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Build the inventory of the `dir` backend: each subdirectory of root is a BE with one "dataset". */
export function inventoryFromDirs(root: string, names: readonly string[]): BootEnvironment[] {
  return [...names].sort().map((name) => {
    const path = joinPath(root, name);
    return { name, source: path, datasets: [{ name: path, relative: '', mountpoint: path, canmount: 'on', guestPath: '/', path }] };
  });
}

export function findBe(envs: readonly BootEnvironment[], name: string): BootEnvironment | undefined {
  return envs.find((e) => e.name === name);
}

/** A BE name: one path component that zfs and file systems both accept. */
export function isBeName(name: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/.test(name);
}

/**
 * Names a new BE may not take: over HTTP `/api/...` and `/metrics` are the appliance's own, and
 * `/boot/...` names the client's own BE (src/http/route.ts), so a BE called so could not be reached
 * by its `NAME/boot/...` name. Existing BEs with these names still list, mount and destroy.
 */
export const reservedBeNames = [...reservedSegments, 'boot'] as const;

export function isReservedBeName(name: string): boolean {
  return (reservedBeNames as readonly string[]).includes(name);
}
