/**
 * Where boot environments live: a `zfs` backend (children of a dataset such as zroot/ROOT) or a `dir`
 * backend (subdirectories). Commands and the exports reconciler see only this interface.
 */
import type { BootEnvironment } from '../../src/be/inventory.js';
import type { LayoutName, MountMethod } from '../../src/be/layout.js';
import type { MountRecord } from '../../src/be/state.js';
import type { Config } from '../../src/config/schema.js';

export interface BeBackend {
  readonly kind: 'zfs' | 'dir';
  /** The whole inventory, in one zfs call (or one readdir) and one mount-table read. */
  list(signal?: AbortSignal): Promise<BootEnvironment[]>;
  create(name: string, layout: LayoutName): Promise<void>;
  /** Mount the BE and its children under dir; returns what umount needs to undo it. */
  mount(be: BootEnvironment, dir: string): Promise<MountRecord>;
  umount(be: BootEnvironment, record: MountRecord | undefined): Promise<void>;
  destroy(be: BootEnvironment): Promise<void>;
  /**
   * A recursive snapshot of the BE and its nested datasets, and the way back to it (zfs only): what
   * makes `be install` safe to fail. undefined where the backend has none (dir).
   */
  snapshots?: {
    take(be: BootEnvironment, tag: string): Promise<void>;
    /** Every dataset back to the snapshot, then the snapshot gone. */
    rollback(be: BootEnvironment, tag: string): Promise<void>;
    drop(be: BootEnvironment, tag: string): Promise<void>;
  };
}

export function resolveMountMethod(setting: Config['be']['mountMethod'], platform = process.platform): MountMethod {
  if (setting !== 'auto') return setting;
  return platform === 'freebsd' ? 'mount' : 'property';
}

export async function openBackend(config: Config): Promise<BeBackend> {
  if (config.be.backend === 'zfs') {
    const { ZfsBackend } = await import('./zfs.js');
    return new ZfsBackend(config.be.root, resolveMountMethod(config.be.mountMethod));
  }
  const { DirBackend } = await import('./dir.js');
  return new DirBackend(config.be.root);
}
