/**
 * Debian packages as test material, never installed: `apt-get download` + `dpkg -x` into a cache
 * directory (BE_TEST_CACHE, default /var/cache/be-test), once per package version. The PXE guest
 * (test/e2e/guest.ts) is built from them, and the runner and hunt tests make boot environments of
 * Debian's static busybox (busybox-static conflicts with the installed busybox package, so it is only
 * downloaded and extracted).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const testCache = process.env.BE_TEST_CACHE ?? '/var/cache/be-test';

function sh(file: string, args: string[], cwd?: string): string {
  return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20, ...(cwd ? { cwd } : {}) });
}

/** A package's candidate version, as apt-get would install it. */
export function candidate(pkg: string): string {
  const version = /^Version: (\S+)$/m.exec(sh('apt-cache', ['show', '--no-all-versions', pkg]))?.[1];
  if (!version) throw new Error(`apt-cache knows no version of ${pkg}`);
  return version;
}

/**
 * Downloads a package into the cache (once per version) and extracts it into a directory of its own;
 * the files are under DIR/root. Two processes may race: the build goes to a temporary directory
 * renamed into place, and the loser takes the winner's.
 */
export function extracted(pkg: string, version: string): string {
  const key = `${pkg}_${version.replace(/[^A-Za-z0-9.+~-]/g, '_')}`;
  const dir = join(testCache, 'pkg', key);
  if (existsSync(join(dir, '.done'))) return dir;
  const work = join(testCache, 'pkg', `${key}.tmp-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  try {
    sh('apt-get', ['download', '-q', `${pkg}=${version}`], work);
    const deb = readdirSync(work).find((f) => f.endsWith('.deb'));
    if (!deb) throw new Error(`apt-get download ${pkg}=${version} left no .deb`);
    sh('dpkg', ['-x', join(work, deb), join(work, 'root')]);
    rmSync(join(work, deb));
    writeFileSync(join(work, '.done'), `${pkg} ${version}\n`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(work, dir);
  } catch (err) {
    rmSync(work, { recursive: true, force: true });
    if (existsSync(join(dir, '.done'))) return dir; // another process finished first
    throw err;
  }
  return dir;
}

/** The path of Debian's static busybox (busybox-static's bin/busybox), downloaded once. */
export function staticBusybox(): string {
  return join(extracted('busybox-static', candidate('busybox-static')), 'root', 'bin', 'busybox');
}
