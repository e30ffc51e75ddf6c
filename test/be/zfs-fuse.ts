/**
 * A zfs-fuse daemon and a pool on a sparse file for one test file. zfs-fuse serves one socket per
 * machine (/var/run/zfs/zfs_socket), so only one suite may use it at a time. Everything is undone by
 * stop(): the pool destroyed, the daemon ended by its PID, the image removed.
 */
import { execa, type ResultPromise } from 'execa';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export class ZfsFuse {
  private daemon: ResultPromise | undefined;
  readonly image: string;
  private poolCreated = false;

  constructor(
    readonly dir: string,
    readonly pool: string,
  ) {
    this.image = join(dir, 'pool.img');
  }

  async start(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    // No -p: with --no-daemon zfs-fuse writes no pid file; the child's PID is the daemon's.
    this.daemon = execa('zfs-fuse', ['--no-daemon', '--no-kstat-mount'], { reject: false, stdin: 'ignore' });
    const pid = this.daemon.pid;
    // If the test process dies without stop(), the daemon must not outlive it.
    if (pid !== undefined) process.once('exit', () => { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } });
    for (let i = 0; i < 100; i++) {
      if (this.daemon.exitCode !== null) throw new Error(`zfs-fuse exited: ${(await this.daemon).stderr}`);
      if ((await execa('zpool', ['list'], { reject: false })).exitCode === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
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
      if (!ended) process.kill(pid, 'SIGKILL');
    }
    this.daemon = undefined;
    rmSync(this.dir, { recursive: true, force: true });
  }
}
