/**
 * The `zfs` backend: children of be.root (POOL/ROOT) are boot environments. Every zfs and mount call
 * goes through services/os.ts with argv arrays; the argv lists come from src/be/layout.ts.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { inventoryFromZfs, type BootEnvironment } from '../../src/be/inventory.js';
import { createSteps, destroySteps, mountPlan, umountPlan, type LayoutName, type MountMethod, type Step } from '../../src/be/layout.js';
import { parseMountTable, zfsMountPoints, type MountEntry } from '../../src/be/mounts.js';
import type { MountRecord } from '../../src/be/state.js';
import { parseZfsList, zfsListArgs } from '../../src/be/zfs-list.js';
import { BeError } from '../../src/errors.js';
import { CommandError, run } from '../os.js';
import type { BeBackend } from './backend.js';

const timeoutMs = 60_000;

/** The mount table: `mount -p` on FreeBSD, /proc/self/mounts elsewhere. */
export async function readMountTable(signal?: AbortSignal): Promise<MountEntry[]> {
  if (process.platform === 'freebsd') {
    const { stdout } = await run('mount', ['-p'], { timeoutMs, ...(signal ? { signal } : {}) });
    return parseMountTable(stdout);
  }
  return parseMountTable(await readFile('/proc/self/mounts', 'utf8'));
}

export class ZfsBackend implements BeBackend {
  readonly kind = 'zfs';
  constructor(
    private readonly root: string,
    private readonly method: MountMethod,
  ) {}

  async list(signal?: AbortSignal): Promise<BootEnvironment[]> {
    let stdout: string;
    try {
      ({ stdout } = await run('zfs', zfsListArgs(this.root), { timeoutMs, ...(signal ? { signal } : {}) }));
    } catch (err) {
      if (err instanceof CommandError && err.failure === 'exit' && /does not exist/.test(err.stderr)) {
        throw new BeError('E_CONFIG', `be.root ${this.root}: no such dataset (create it: zfs create -o mountpoint=none ${this.root})`);
      }
      throw err;
    }
    const [rows, mounts] = [parseZfsList(stdout), await readMountTable(signal)];
    return inventoryFromZfs(this.root, rows, zfsMountPoints(mounts));
  }

  private async steps(steps: readonly Step[]): Promise<void> {
    for (const step of steps) {
      if (step.mkdir) await mkdir(step.mkdir, { recursive: true });
      await run(step.file, step.args, { timeoutMs });
    }
  }

  async create(name: string, layout: LayoutName): Promise<void> {
    const steps = createSteps(this.root, name, layout);
    await this.steps(steps.slice(0, 1));
    try {
      await this.steps(steps.slice(1));
    } catch (err) {
      // Leave nothing half-made: the BE dataset was ours, so it goes with whatever children it got.
      await run('zfs', ['destroy', '-r', `${this.root}/${name}`], { timeoutMs }).catch(() => {});
      throw err;
    }
  }

  async mount(be: BootEnvironment, dir: string): Promise<MountRecord> {
    const record: MountRecord = { dir, method: this.method, mountpoint: be.datasets[0]!.mountpoint };
    const plan = mountPlan(be, dir, this.method);
    try {
      await this.steps(plan.steps);
    } catch (err) {
      // Undo what did get mounted, children first, so a failed mount leaves the BE as it was.
      const now = (await this.list()).find((e) => e.name === be.name);
      if (now) await this.steps(umountPlan(now, this.method, record.mountpoint)).catch(() => {});
      throw err;
    }
    return record;
  }

  async umount(be: BootEnvironment, record: MountRecord | undefined): Promise<void> {
    await this.steps(umountPlan(be, record?.method ?? this.method, record?.mountpoint ?? '/'));
  }

  readonly snapshots = {
    take: async (be: BootEnvironment, tag: string): Promise<void> => {
      await run('zfs', ['snapshot', '-r', `${be.source}@${tag}`], { timeoutMs });
    },
    rollback: async (be: BootEnvironment, tag: string): Promise<void> => {
      // Children first does not matter for rollback; -r drops snapshots newer than the tag.
      for (const dataset of be.datasets) await run('zfs', ['rollback', '-r', `${dataset.name}@${tag}`], { timeoutMs });
      await this.snapshots.drop(be, tag);
    },
    drop: async (be: BootEnvironment, tag: string): Promise<void> => {
      await run('zfs', ['destroy', '-r', `${be.source}@${tag}`], { timeoutMs });
    },
  };

  async destroy(be: BootEnvironment): Promise<void> {
    await this.steps(destroySteps(be));
  }
}
