import { describe, expect, it } from 'vitest';
import { chooseSets, distDirectories, nearest, newestFirst, parseArchitecture, parseRelease, splitSets } from '../../../src/install/release.js';

const roots = { mirror: 'https://download.freebsd.org/ftp', archive: 'http://ftp-archive.freebsd.org/pub/FreeBSD-Archive/old-releases' };

describe('release names and layouts', () => {
  it('reads -r as the talk does: 11.1 is 11.1-RELEASE; snapshots carry their branch', () => {
    expect(parseRelease('11.1')).toEqual({ name: '11.1-RELEASE', major: 11, minor: 1, branch: 'release', layout: 'txz' });
    expect(parseRelease('8.4')).toMatchObject({ name: '8.4-RELEASE', layout: 'split' });
    expect(parseRelease('5.0')).toMatchObject({ name: '5.0-RELEASE', layout: 'split' });
    expect(parseRelease('15.0-CURRENT', 'snapshot')).toMatchObject({ name: '15.0-CURRENT', branch: 'snapshot' });
    expect(parseRelease('14.2-RC1')).toMatchObject({ name: '14.2-RC1', branch: 'release' });
  });

  it('refuses in one line what it cannot install', () => {
    expect(() => parseRelease('4.11')).toThrow('-r 4.11: FreeBSD 4.11 is older than 5.0, the first release with /boot/kernel');
    expect(() => parseRelease('head')).toThrow('-r head: not a release');
    expect(() => parseRelease('15.0', 'snapshot')).toThrow('a snapshot is named with its branch, e.g. 15.0-CURRENT');
    expect(() => parseRelease('15.0-CURRENT')).toThrow('CURRENT builds are snapshots: add -b snapshot');
    expect(() => parseArchitecture('sparc64')).toThrow('-a sparc64: not an architecture be install knows (known: amd64, i386, arm64, aarch64)');
    expect(() => parseArchitecture('arm64', parseRelease('10.4'))).toThrow('FreeBSD has arm64 releases from 11.0');
    expect(parseArchitecture('aarch64')).toEqual({ target: 'arm64', targetArch: 'aarch64' });
  });

  it('knows where mirror and archive keep each layout (docs/freebsd-dist-layouts.md)', () => {
    const amd64 = parseArchitecture('amd64');
    expect(distDirectories(parseRelease('14.1'), amd64, roots)).toEqual([
      'https://download.freebsd.org/ftp/releases/amd64/amd64/14.1-RELEASE/',
      'http://ftp-archive.freebsd.org/pub/FreeBSD-Archive/old-releases/amd64/amd64/14.1-RELEASE/',
      'http://ftp-archive.freebsd.org/pub/FreeBSD-Archive/old-releases/amd64/14.1-RELEASE/',
    ]);
    expect(distDirectories(parseRelease('8.4'), amd64, { mirror: '/pub/FreeBSD/', archive: null })).toEqual(['/pub/FreeBSD/releases/amd64/8.4-RELEASE/']);
    expect(distDirectories(parseRelease('15.0-CURRENT', 'snapshot'), parseArchitecture('arm64'), roots)).toEqual([
      'https://download.freebsd.org/ftp/snapshots/arm64/aarch64/15.0-CURRENT/',
    ]);
  });

  it('split sets: the kernel is in base on 5.x and kernels/generic from 6.0, moved to /boot/kernel', () => {
    expect(splitSets(parseRelease('5.5')).map((s) => s.set)).toEqual(['base', 'lib32']);
    expect(splitSets(parseRelease('8.4')).find((s) => s.set === 'kernel')).toEqual({
      set: 'kernel',
      dir: 'kernels',
      prefix: 'generic',
      target: 'boot',
      rename: { from: 'boot/GENERIC', to: 'boot/kernel' },
    });
  });

  it('--sets: defaults, and an unknown set refused naming what the release has', () => {
    expect(chooseSets(parseRelease('14.1'), undefined, ['base', 'kernel', 'lib32'])).toEqual(['base', 'kernel']);
    expect(chooseSets(parseRelease('5.4'), ['base', 'kernel'], ['base', 'lib32'])).toEqual(['base']);
    expect(() => chooseSets(parseRelease('14.1'), ['base', 'games'], ['base', 'kernel'])).toThrow(
      '--sets games: 14.1-RELEASE has no such set (it has: base, kernel)',
    );
  });

  it('lists newest first and names the nearest releases a mirror has', () => {
    expect(newestFirst(['9.3-RELEASE', '14.0-RELEASE', 'README.TXT', '14.1-RELEASE', '13.4-RELEASE'])).toEqual([
      '14.1-RELEASE',
      '14.0-RELEASE',
      '13.4-RELEASE',
      '9.3-RELEASE',
    ]);
    expect(nearest(parseRelease('14.3'), ['13.4-RELEASE', '14.1-RELEASE', '14.2-RELEASE', '9.3-RELEASE'])).toEqual([
      '14.2-RELEASE',
      '14.1-RELEASE',
      '13.4-RELEASE',
    ]);
  });
});
