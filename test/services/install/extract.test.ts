/**
 * Extraction with the system tar keeps what a base system is made of: a setuid root binary, hard
 * links, symlinks, a FIFO, a character device, empty files, a file of several MiB, names with
 * spaces; from a .txz and from a split set (pieces of one gzip'd tar, as 5.x-8.x ship them), made here
 * with the real tar, xz, gzip and split. Root only (mknod, chown).
 */
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractArchive, extractSplit } from '../../../services/install/extract.js';
import { freebsdFixtures } from '../../lan/freebsd.js';
import { needPeers } from '../../lan/peers.js';

const peers = needPeers('extracting distribution sets', ['tar', 'xz', 'gzip', 'split', 'mknod', 'mkfifo'], { root: true });

describe.skipIf(peers.skip)('extracting sets with the system tar', () => {
  let dir: string;
  let tree: string;
  const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'be-extract-'));
    tree = join(dir, 'tree');
    for (const d of ['bin', 'usr/bin', 'dev', 'var/run', 'usr/share/doc/with space']) mkdirSync(join(tree, d), { recursive: true });
    writeFileSync(join(tree, 'bin', 'su'), '#!/bin/sh\necho su\n');
    chownSync(join(tree, 'bin', 'su'), 0, 0);
    chmodSync(join(tree, 'bin', 'su'), 0o4555);
    writeFileSync(join(tree, 'usr', 'bin', 'cc'), 'compiler');
    linkSync(join(tree, 'usr', 'bin', 'cc'), join(tree, 'usr', 'bin', 'c99'));
    symlinkSync('../../bin/su', join(tree, 'usr', 'bin', 'su-link'));
    execFileSync('mkfifo', [join(tree, 'var', 'run', 'logpriv')]);
    execFileSync('mknod', [join(tree, 'dev', 'null'), 'c', '1', '3']);
    writeFileSync(join(tree, 'var', 'run', 'empty'), '');
    writeFileSync(join(tree, 'usr', 'share', 'doc', 'with space', 'big file'), randomBytes(5 << 20));
    chownSync(join(tree, 'usr', 'bin', 'cc'), 0, 5); // gid 5: FreeBSD's operator, nobody's here
  });
  afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

  function expectTree(root: string): void {
    const su = statSync(join(root, 'bin', 'su'));
    expect((su.mode & 0o7777).toString(8)).toBe('4555');
    expect([su.uid, su.gid]).toEqual([0, 0]);
    const cc = statSync(join(root, 'usr', 'bin', 'cc'));
    expect(cc.ino).toBe(statSync(join(root, 'usr', 'bin', 'c99')).ino);
    expect(cc.nlink).toBe(2);
    expect(cc.gid).toBe(5);
    expect(lstatSync(join(root, 'usr', 'bin', 'su-link')).isSymbolicLink()).toBe(true);
    expect(lstatSync(join(root, 'var', 'run', 'logpriv')).isFIFO()).toBe(true);
    const dev = lstatSync(join(root, 'dev', 'null'));
    expect(dev.isCharacterDevice()).toBe(true);
    expect(dev.rdev).toBe(statSync(join(tree, 'dev', 'null')).rdev);
    expect(statSync(join(root, 'var', 'run', 'empty')).size).toBe(0);
    expect(sha(join(root, 'usr', 'share', 'doc', 'with space', 'big file'))).toBe(sha(join(tree, 'usr', 'share', 'doc', 'with space', 'big file')));
  }

  it('a .txz (9.0+) keeps modes, owners, links, devices and FIFOs, and counts its entries', async () => {
    const txz = join(dir, 'base.txz');
    execFileSync('tar', ['-cJf', txz, '--numeric-owner', '-C', tree, '.']);
    const root = join(dir, 'be-txz');
    mkdirSync(root);
    let seen = 0;
    const entries = await extractArchive(txz, root, { onEntries: (n) => (seen = n) });
    expectTree(root);
    const listed = execFileSync('tar', ['-tf', txz], { encoding: 'utf8' }).trim().split('\n').length;
    expect(entries).toBe(listed);
    expect(seen).toBe(listed);
  });

  it('a split set (5.x-8.x): the pieces in order through tar --unlink -xpzf -, as install.sh does', async () => {
    const set = join(dir, 'base');
    mkdirSync(set);
    execFileSync('sh', ['-c', `tar -czf - --numeric-owner -C "${tree}" . | split -b 1425408 - "${set}/base."`]);
    const pieces = readdirSync(set)
      .filter((f) => /^base\.[a-z]{2}$/.test(f))
      .sort()
      .map((f) => join(set, f));
    expect(pieces.length).toBeGreaterThan(1);
    const root = join(dir, 'be-split');
    mkdirSync(root);
    writeFileSync(join(root, 'stale'), 'x');
    await extractSplit(pieces, root, { target: '' });
    expectTree(root);
    // Pieces out of order are not a tar stream: one line, and the error is tar's.
    const reversed = join(dir, 'be-bad');
    mkdirSync(reversed);
    await expect(extractSplit([...pieces].reverse(), reversed, { target: '' })).rejects.toThrow(/^tar (--unlink )?-xvpzf - --numeric-owner -C .*: /);
  });

  it('kernels/generic.?? lands in /boot/GENERIC and becomes /boot/kernel, replacing the old one', async () => {
    const k = join(dir, 'ktree', 'GENERIC');
    mkdirSync(k, { recursive: true });
    writeFileSync(join(k, 'kernel'), 'new kernel');
    const kernels = join(dir, 'kernels');
    mkdirSync(kernels);
    execFileSync('sh', ['-c', `tar -czf - -C "${join(dir, 'ktree')}" GENERIC | split -b 1425408 - "${kernels}/generic."`]);
    const root = join(dir, 'be-kernel');
    mkdirSync(join(root, 'boot', 'kernel'), { recursive: true });
    writeFileSync(join(root, 'boot', 'kernel', 'old'), 'old kernel');
    await extractSplit([join(kernels, 'generic.aa')], root, { target: 'boot', rename: { from: 'boot/GENERIC', to: 'boot/kernel' } });
    expect(readdirSync(join(root, 'boot', 'kernel'))).toEqual(['kernel']);
    expect(readFileSync(join(root, 'boot', 'kernel', 'kernel'), 'utf8')).toBe('new kernel');
  });

  it('the real FreeBSD boot files, packaged as a kernel.txz-like set, come out with their checksums', async () => {
    const boot = join(freebsdFixtures, '12.2-RELEASE', 'boot');
    const txz = join(dir, 'kernel.txz');
    execFileSync('tar', ['-cJf', txz, '-C', join(freebsdFixtures, '12.2-RELEASE'), 'boot']);
    const root = join(dir, 'be-real');
    mkdirSync(root);
    await extractArchive(txz, root);
    for (const file of ['pxeboot', 'loader.efi', 'loader_4th']) expect(sha(join(root, 'boot', file))).toBe(sha(join(boot, file)));
    // ../shared/freebsd/README.md lists the sha256 of each binary: the copies match it too.
    expect(sha(join(root, 'boot', 'pxeboot'))).toBe('34b3aabdc7b6f7f9531bcd364215316aa6bc8361e0527614e0fadac09d29d202');
  });
});
