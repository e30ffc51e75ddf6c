/**
 * A mirror of made-up releases for the regression-hunting tests and bench, built with the real tar and
 * xz in the 9.0+ layout (releases/amd64/amd64/VERSION/: MANIFEST, base.txz, kernel.txz). Each release's
 * userland is Debian's static busybox (bin/busybox, bin/sh and the other applets as links to it) plus
 * `/usr/bin/regress`, a shell script standing for the program under test: it prints one line and
 * exits 0 where it works and 1 where it regressed. A release may lack it (the test then exits 125:
 * "cannot test this one"). Each release also has a known count of executables with and without a
 * manual page, for the manratio probe.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface HuntRelease {
  /** e.g. 13.2 (the directory is 13.2-RELEASE). */
  version: string;
  /** What /usr/bin/regress does: works, regressed, or absent (the release cannot run the test). */
  regress: 'works' | 'regressed' | 'absent';
  /** Extra executables in usr/bin, and how many of them have a page in usr/share/man/man1. */
  tools?: { count: number; withPage: number };
}

/** The applets linked to busybox in bin/: what the test command and the runners use. */
const applets = ['sh', 'cat', 'echo', 'sleep', 'test', 'true', 'false', 'ls'];

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

function regressScript(version: string, regress: HuntRelease['regress']): string | undefined {
  if (regress === 'absent') return undefined;
  return regress === 'works'
    ? `#!/bin/sh\necho "telldir after seekdir: ok (${version})"\nexit 0\n`
    : `#!/bin/sh\necho "telldir after seekdir: returned the wrong entry (${version})"\nexit 1\n`;
}

/**
 * Builds the releases under `mirror` (its root: releases/ below it) with `busybox` (a static binary)
 * as every release's shell; `work` holds the trees while the sets are made.
 */
export function buildHuntMirror(mirror: string, work: string, busybox: string, releases: readonly HuntRelease[]): string {
  for (const release of releases) {
    const name = `${release.version}-RELEASE`;
    const src = join(work, `hunt-${name}`);
    rmSync(src, { recursive: true, force: true });
    for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'usr/share/man/man1', 'usr/share/man/man8', 'etc', 'dev', 'proc', 'tmp']) {
      mkdirSync(join(src, d), { recursive: true });
    }
    chmodSync(join(src, 'tmp'), 0o1777);
    copyFileSync(busybox, join(src, 'bin', 'busybox'));
    chmodSync(join(src, 'bin', 'busybox'), 0o755);
    for (const applet of applets) symlinkSync('busybox', join(src, 'bin', applet));
    writeFileSync(join(src, 'usr', 'share', 'man', 'man1', 'sh.1.gz'), '');
    writeFileSync(join(src, 'etc', 'version'), `${name}\n`);
    const script = regressScript(name, release.regress);
    if (script) writeFileSync(join(src, 'usr', 'bin', 'regress'), script, { mode: 0o755 });
    const tools = release.tools ?? { count: 0, withPage: 0 };
    for (let i = 0; i < tools.count; i++) {
      writeFileSync(join(src, 'usr', 'bin', `tool${i}`), '#!/bin/sh\n', { mode: 0o755 });
      if (i < tools.withPage) writeFileSync(join(src, 'usr', 'share', 'man', 'man1', `tool${i}.1.gz`), '');
    }
    const kernel = join(work, `hunt-${name}-kernel`);
    mkdirSync(join(kernel, 'boot', 'kernel'), { recursive: true });
    writeFileSync(join(kernel, 'boot', 'kernel', 'kernel'), `kernel ${name}\n`);

    const dir = join(mirror, 'releases', 'amd64', 'amd64', name);
    mkdirSync(dir, { recursive: true });
    const lines: string[] = [];
    for (const [set, tree] of [
      ['base', src],
      ['kernel', kernel],
    ] as const) {
      const txz = join(dir, `${set}.txz`);
      execFileSync('tar', ['-cJf', txz, '--numeric-owner', '--owner=0', '--group=0', '-C', tree, '.']);
      const count = execFileSync('tar', ['-tf', txz], { encoding: 'utf8' }).trim().split('\n').length;
      lines.push(`${set}.txz\t${sha256(txz)}\t${count}\t${set}\t"${set} set"\ton`);
      rmSync(tree, { recursive: true, force: true });
    }
    writeFileSync(join(dir, 'MANIFEST'), `${lines.join('\n')}\n`);
  }
  return mirror;
}

/** The test command the hunt tests run: /usr/bin/regress where it exists, 125 (skip) where it does not. */
export const regressCommand = ['/bin/sh', '-c', 'test -x /usr/bin/regress || { echo "no regress here"; exit 125; }; exec /usr/bin/regress'];
