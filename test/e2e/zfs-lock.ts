/**
 * zfs-fuse serves one socket per machine (/var/run/zfs/zfs_socket), so two test files (or a test and a
 * benchmark) running at once must not each start a daemon. This is a machine-wide lock: a directory
 * made atomically with the holder's PID inside, taken over when that PID no longer exists. It also waits
 * while a zfs-fuse that nobody locked is running (a suite that does not take the lock).
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const zfsFuseLockDir = '/tmp/be-zfs-fuse.lock';

export interface ZfsFuseLock {
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether a zfs-fuse daemon runs anywhere on the machine. */
export function zfsFuseRunning(): boolean {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(join('/proc', entry, 'comm'), 'utf8').trim() === 'zfs-fuse') return true;
    } catch {
      // the process ended while we looked
    }
  }
  return false;
}

function tryLock(): boolean {
  try {
    mkdirSync(zfsFuseLockDir);
  } catch {
    let holder = NaN;
    try {
      holder = Number(readFileSync(join(zfsFuseLockDir, 'pid'), 'utf8'));
    } catch {
      // made but not yet written: the holder is between mkdir and write
      return false;
    }
    if (holder === process.pid || alive(holder)) return false;
    rmSync(zfsFuseLockDir, { recursive: true, force: true });
    return false;
  }
  writeFileSync(join(zfsFuseLockDir, 'pid'), String(process.pid));
  return true;
}

/** Waits (up to timeoutMs) for the lock and for any unlocked zfs-fuse to end. */
export async function acquireZfsFuse(timeoutMs = 600_000): Promise<ZfsFuseLock> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!zfsFuseRunning() && tryLock()) break;
    if (Date.now() > deadline) throw new Error(`zfs-fuse stayed busy for ${timeoutMs} ms (lock ${zfsFuseLockDir}, or a zfs-fuse another suite runs)`);
    await new Promise((r) => setTimeout(r, 500));
  }
  let held = true;
  const release = () => {
    if (!held) return;
    held = false;
    try {
      if (Number(readFileSync(join(zfsFuseLockDir, 'pid'), 'utf8')) === process.pid) rmSync(zfsFuseLockDir, { recursive: true, force: true });
    } catch {
      // already gone
    }
  };
  process.once('exit', release);
  return { release };
}
