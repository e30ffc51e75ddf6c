/** The `dir` backend: each subdirectory of be.root is a boot environment, with no nesting. */
import { mkdir, readdir, rm } from 'node:fs/promises';
import { inventoryFromDirs, joinPath, type BootEnvironment } from '../../src/be/inventory.js';
import type { LayoutName } from '../../src/be/layout.js';
import type { MountRecord } from '../../src/be/state.js';
import { BeError } from '../../src/errors.js';
import type { BeBackend } from './backend.js';

export class DirBackend implements BeBackend {
  readonly kind = 'dir';
  constructor(private readonly root: string) {}

  async list(): Promise<BootEnvironment[]> {
    let entries;
    try {
      entries = await readdir(this.root, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new BeError('E_CONFIG', `be.root ${this.root}: ${(err as Error).message}`);
    }
    return inventoryFromDirs(
      this.root,
      entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name),
    );
  }

  async create(name: string, layout: LayoutName): Promise<void> {
    if (layout !== 'flat') throw new BeError('E_USAGE', `be.backend dir has no nested datasets: use -l flat (or be.backend zfs for -l ${layout})`);
    await mkdir(this.root, { recursive: true });
    try {
      await mkdir(joinPath(this.root, name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new BeError('E_USAGE', `boot environment ${name} already exists`);
      throw err;
    }
  }

  async mount(be: BootEnvironment): Promise<MountRecord> {
    throw new BeError('E_USAGE', `be.backend dir: ${be.name} is a directory (${be.source}) and is always "mounted"`);
  }

  async umount(be: BootEnvironment): Promise<void> {
    throw new BeError('E_USAGE', `be.backend dir: ${be.name} is a directory and cannot be unmounted`);
  }

  async destroy(be: BootEnvironment): Promise<void> {
    await rm(be.source, { recursive: true, force: false });
  }
}
