/**
 * A FreeBSD mirror tree for `be install` tests, built with the real tar, xz, gzip, split and cksum and
 * laid out as the official server is (docs/freebsd-dist-layouts.md):
 *
 * - 14.1-RELEASE: MANIFEST (as release/scripts/make-manifest.sh writes it) and base, kernel, lib32 .txz;
 *   base holds a setuid root binary and a device node (so building it needs root);
 * - 14.0-RELEASE: base.txz does not match its MANIFEST (a corrupt mirror);
 * - 13.5-RELEASE: kernel.txz matches its MANIFEST but is not an archive, so the install fails after
 *   base is extracted (the rollback case);
 * - 8.4-RELEASE: the split layout, base/ and kernels/ in pieces with .inf and CHECKSUM.SHA256;
 * - 14.1-RELEASE for i386 (releases/i386/i386/) and arm64 (releases/arm64/aarch64/), and a
 *   15.0-CURRENT snapshot (snapshots/amd64/amd64/), each with a base whose /bin/sh names its tree.
 */
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Files of a set's tree, path → content. */
function tree(dir: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
}

/** A 9.0+ release directory from set trees; returns its MANIFEST lines. */
function txzRelease(dir: string, work: string, sets: Record<string, Record<string, string>>, special: (set: string, src: string) => void = () => {}): string[] {
  mkdirSync(dir, { recursive: true });
  const manifest: string[] = [];
  for (const [set, files] of Object.entries(sets)) {
    const src = join(work, set);
    tree(src, files);
    special(set, src);
    const txz = join(dir, `${set}.txz`);
    execFileSync('tar', ['-cJf', txz, '--numeric-owner', '--owner=0', '--group=0', '-C', src, '.']);
    const count = execFileSync('tar', ['-tf', txz], { encoding: 'utf8' }).trim().split('\n').length;
    manifest.push(`${set}.txz\t${sha256(txz)}\t${count}\t${set}\t"${set} set"\t${set === 'lib32' ? 'off' : 'on'}`);
  }
  writeFileSync(join(dir, 'MANIFEST'), `${manifest.join('\n')}\n`);
  return manifest;
}

/** One split set: the tar stream of `members` cut in 1392 KiB pieces, with its .inf and CHECKSUM.SHA256. */
function splitSet(out: string, prefix: string, src: string, members: string[]): void {
  mkdirSync(out, { recursive: true });
  execFileSync('sh', ['-c', `tar -czf - --numeric-owner -C "${src}" ${members.join(' ')} | split -b 1425408 - "${out}/${prefix}."`]);
  const pieces = readdirSync(out)
    .filter((f) => f.startsWith(`${prefix}.`))
    .sort();
  const cksum = (p: string) =>
    execFileSync('cksum', [join(out, p)], { encoding: 'utf8' })
      .split(' ')
      .slice(0, 2)
      .join(' ');
  writeFileSync(join(out, `${prefix}.inf`), `${[`Pieces =  ${pieces.length}`, ...pieces.map((p) => `cksum.${p.slice(-2)} = ${cksum(p)}`)].join('\n')}\n`);
  writeFileSync(join(out, 'CHECKSUM.SHA256'), pieces.map((p) => `SHA256 (${p}) = ${sha256(join(out, p))}\n`).join(''));
}

/** Builds the mirror under `mirror` (its root: releases/ below it), using `work` for the set trees. */
export function buildMirror(mirror: string, work: string): string {
  const amd64 = join(mirror, 'releases', 'amd64', 'amd64');
  const manifest = txzRelease(
    join(amd64, '14.1-RELEASE'),
    join(work, '14.1'),
    {
      base: { 'bin/sh': 'the shell', 'usr/bin/true': 'true', 'etc/rc': 'rc', COPYRIGHT: 'BSD' },
      kernel: { 'boot/kernel/kernel': 'kernel 14.1', 'boot/kernel/zfs.ko': 'zfs' },
      lib32: { 'usr/lib32/libc.so.7': 'libc32' },
    },
    (set, src) => {
      if (set !== 'base') return;
      chmodSync(join(src, 'bin', 'sh'), 0o4555);
      mkdirSync(join(src, 'dev'));
      execFileSync('mknod', [join(src, 'dev', 'null'), 'c', '1', '3']);
    },
  );
  const r140 = join(amd64, '14.0-RELEASE');
  mkdirSync(r140, { recursive: true });
  for (const f of ['base.txz', 'kernel.txz']) writeFileSync(join(r140, f), readFileSync(join(amd64, '14.1-RELEASE', f)));
  writeFileSync(join(r140, 'MANIFEST'), `${manifest.join('\n').replace(/^(base\.txz\t)[0-9a-f]{64}/m, `$1${'0'.repeat(64)}`)}\n`);
  const r135 = join(amd64, '13.5-RELEASE');
  mkdirSync(r135, { recursive: true });
  writeFileSync(join(r135, 'base.txz'), readFileSync(join(amd64, '14.1-RELEASE', 'base.txz')));
  writeFileSync(join(r135, 'kernel.txz'), 'not an xz archive, though the MANIFEST vouches for it\n');
  writeFileSync(join(r135, 'MANIFEST'), `${manifest[0]}\nkernel.txz\t${sha256(join(r135, 'kernel.txz'))}\t3\tkernel\t"Kernel (MANDATORY)"\ton\n`);
  const r84 = join(mirror, 'releases', 'amd64', '8.4-RELEASE');
  const b84 = join(work, '8.4', 'base');
  tree(b84, { 'bin/sh': 'the 8.4 shell', 'etc/rc': 'rc 8.4', 'usr/bin/true': 'true 8.4' });
  writeFileSync(join(b84, 'big'), randomBytes(3 << 20));
  splitSet(join(r84, 'base'), 'base', b84, ['.']);
  const k84 = join(work, '8.4', 'kernels');
  tree(k84, { 'GENERIC/kernel': 'kernel 8.4' });
  splitSet(join(r84, 'kernels'), 'generic', k84, ['GENERIC']);
  for (const [top, target, arch, name] of [
    ['releases', 'i386', 'i386', '14.1-RELEASE'],
    ['releases', 'arm64', 'aarch64', '14.1-RELEASE'],
    ['snapshots', 'amd64', 'amd64', '15.0-CURRENT'],
  ] as const) {
    txzRelease(join(mirror, top, target, arch, name), join(work, `${top}-${arch}`), {
      base: { 'bin/sh': `the ${name} ${arch} shell`, 'etc/rc': 'rc' },
      kernel: { 'boot/kernel/kernel': `kernel ${name} ${arch}` },
    });
  }
  return mirror;
}

/**
 * A 12.4-RELEASE whose base.txz starts with a 384 MiB file of zeros (sparse at the source, a few
 * hundred KiB once compressed): tar is busy writing it for a while after its first entry, which is when
 * a test interrupts the install.
 */
export function addSlowRelease(mirror: string, work: string): void {
  const src = join(work, 'slow-base');
  mkdirSync(join(src, 'a'), { recursive: true });
  execFileSync('truncate', ['-s', '384M', join(src, 'a', 'zeros')]);
  tree(src, { 'bin/sh': 'the 12.4 shell', 'etc/rc': 'rc 12.4' });
  const dir = join(mirror, 'releases', 'amd64', 'amd64', '12.4-RELEASE');
  mkdirSync(dir, { recursive: true });
  const txz = join(dir, 'base.txz');
  // Members in this order, the big one first; -0 -T2: xz of 384 MiB at its default level takes seconds.
  execFileSync('tar', ['-cJf', txz, '--numeric-owner', '--owner=0', '--group=0', '-C', src, 'a', 'bin', 'etc'], { env: { ...process.env, XZ_OPT: '-0 -T2' } });
  const count = execFileSync('tar', ['-tf', txz], { encoding: 'utf8' }).trim().split('\n').length;
  writeFileSync(join(dir, 'MANIFEST'), `base.txz\t${sha256(txz)}\t${count}\tbase\t"Base system"\ton\n`);
}

/**
 * The settings of a fresh dir-backend appliance under `dir` for `be install`: its own be.root and
 * state directory (so an empty install cache), and no archive to fall back to.
 */
export function installSettings(dir: string): string[] {
  return [
    '--set',
    'be.backend=dir',
    '--set',
    `be.root=${join(dir, 'envs')}`,
    '--set',
    `server.stateDir=${join(dir, 'state')}`,
    '--set',
    'install.archive=null',
  ];
}
