/**
 * A zfs-fuse daemon and a pool on a sparse file for one test file. Everything is undone by stop(): the
 * pool destroyed, the daemon ended by its PID, the directory unmounted and removed.
 *
 * zfs-fuse serves one socket per machine (/var/run/zfs/zfs_socket), so suites take a machine-wide lock
 * first: the directory /tmp/be-zfs-fuse.lock holding the holder's PID, taken over when that PID is gone
 * (a process that already holds it is let through, so a suite may nest pools).
 *
 * The test directory is bind-mounted onto itself and made shared: every `ip netns exec` (ganesha,
 * rpcbind, clients) copies the mount table into a new mount namespace, and with a private mount those
 * copies keep the FUSE mounts alive after the host unmounts them (zfs then says "dataset is busy").
 * Under a shared mount the copies are slaves, so unmounts on the host reach them too.
 */
import { execa, type ResultPromise } from 'execa';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '../lan/wait.js';

const lockDir = '/tmp/be-zfs-fuse.lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function zfsFuseRunning(): boolean {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(join('/proc', entry, 'comm'), 'utf8').trim() === 'zfs-fuse') return true;
    } catch {
      // ended while we looked
    }
  }
  return false;
}

function lockHolder(): number {
  try {
    return Number(readFileSync(join(lockDir, 'pid'), 'utf8'));
  } catch {
    return NaN;
  }
}

/** Take the lock; false when this process already held it (then the caller that took it releases it). */
async function takeLock(timeoutMs = 600_000): Promise<boolean> {
  if (lockHolder() === process.pid) return false;
  return waitFor(
    () => {
      if (zfsFuseRunning()) return false;
      try {
        mkdirSync(lockDir);
        writeFileSync(join(lockDir, 'pid'), String(process.pid));
        return true;
      } catch {
        const holder = lockHolder();
        if (!Number.isNaN(holder) && !alive(holder)) rmSync(lockDir, { recursive: true, force: true });
        return false;
      }
    },
    'the zfs-fuse lock',
    { timeoutMs, intervalMs: 500, message: `zfs-fuse stayed busy for ${timeoutMs} ms (lock ${lockDir}, or a zfs-fuse another suite runs)` },
  );
}

function releaseLock(): void {
  if (lockHolder() === process.pid) rmSync(lockDir, { recursive: true, force: true });
}

export class ZfsFuse {
  private daemon: ResultPromise | undefined;
  readonly image: string;
  private poolCreated = false;
  private ownLock = false;
  private bound = false;

  constructor(
    readonly dir: string,
    readonly pool: string,
  ) {
    this.image = join(dir, 'pool.img');
  }

  async start(): Promise<void> {
    this.ownLock = await takeLock();
    if (this.ownLock) process.once('exit', releaseLock);
    mkdirSync(this.dir, { recursive: true });
    await execa('mount', ['--bind', this.dir, this.dir]);
    this.bound = true;
    await execa('mount', ['--make-rshared', this.dir]);
    // No -p: with --no-daemon zfs-fuse writes no pid file; the child's PID is the daemon's.
    this.daemon = execa('zfs-fuse', ['--no-daemon', '--no-kstat-mount'], { reject: false, stdin: 'ignore' });
    const pid = this.daemon.pid;
    // If the test process dies without stop(), the daemon must not outlive it.
    if (pid !== undefined)
      process.once('exit', () => {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      });
    const daemon = this.daemon;
    await waitFor(
      async () => {
        if (daemon.exitCode !== null) throw new Error(`zfs-fuse exited: ${(await daemon).stderr}`);
        return (await execa('zpool', ['list'], { reject: false })).exitCode === 0;
      },
      'zfs-fuse to answer zpool list',
      { timeoutMs: 20_000, intervalMs: 100 },
    );
    await execa('truncate', ['-s', '1G', this.image]);
    // cachefile=none: a later zfs-fuse start must not look for this pool.
    await execa('zpool', ['create', '-o', 'cachefile=none', '-m', join(this.dir, 'poolmnt'), this.pool, this.image]);
    this.poolCreated = true;
  }

  zfs(args: string[]) {
    return execa('zfs', args, { reject: false });
  }

  async stop(): Promise<void> {
    if (this.poolCreated) await execa('zpool', ['destroy', '-f', this.pool], { reject: false, timeout: 60_000 });
    this.poolCreated = false;
    const pid = this.daemon?.pid;
    if (pid !== undefined && this.daemon?.exitCode === null) {
      process.kill(pid, 'SIGTERM');
      const ended = await Promise.race([this.daemon.then(() => true), new Promise((r) => setTimeout(() => r(false), 5000))]);
      if (!ended) {
        process.kill(pid, 'SIGKILL');
        await this.daemon;
      }
    }
    this.daemon = undefined;
    if (this.bound) await execa('umount', ['-l', this.dir], { reject: false });
    this.bound = false;
    rmSync(this.dir, { recursive: true, force: true });
    if (this.ownLock) releaseLock();
    this.ownLock = false;
  }
}
