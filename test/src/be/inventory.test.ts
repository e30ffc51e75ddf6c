import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compareRelative, findBe, inventoryFromDirs, inventoryFromZfs, isBeName } from '../../../src/be/inventory.js';
import { isZfsMount, parseMountTable, unescapeOctal, zfsMountPoints } from '../../../src/be/mounts.js';
import { parseZfsList, zfsListArgs } from '../../../src/be/zfs-list.js';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/be/${name}`, import.meta.url), 'utf8');

describe('zfs list -rH parser', () => {
  it('reads the FreeBSD listing written from the talk (fixtures/be/README.md)', () => {
    const rows = parseZfsList(fixture('freebsd-zfs-list.txt'));
    expect(rows).toHaveLength(26);
    expect(rows[0]).toEqual({ name: 'zroot/ROOT', mountpoint: 'none', canmount: 'on', mounted: false });
    expect(rows.find((r) => r.name === 'zroot/ROOT/head/var/log')).toEqual({
      name: 'zroot/ROOT/head/var/log',
      mountpoint: '/var/log',
      canmount: 'noauto',
      mounted: true,
    });
  });

  it('reads the listing captured from zfs-fuse', () => {
    const rows = parseZfsList(fixture('zfs-fuse-list.txt'));
    expect(rows.map((r) => r.name)).toContain('bepool/ROOT/head/usr/home');
    expect(rows.find((r) => r.name === 'bepool/ROOT')).toEqual({ name: 'bepool/ROOT', mountpoint: 'none', canmount: 'off', mounted: false });
  });

  it('refuses lines it cannot account for, naming the line', () => {
    expect(() => parseZfsList('zroot/ROOT\t/\tnoauto\n')).toThrow(/line 1: expected 4 tab-separated columns, got 3/);
    expect(() => parseZfsList('zroot/ROOT\t/\tmaybe\tyes\n')).toThrow(/line 1: canmount "maybe"/);
    expect(() => parseZfsList('ok\t/\ton\tyes\nzroot/ROOT  /  on  yes\n')).toThrow(/line 2/);
    expect(() => parseZfsList('a\t/\ton\tperhaps\n')).toThrow(/mounted "perhaps"/);
  });

  it('asks zfs for exactly the columns it parses, without -p', () => {
    expect(zfsListArgs('zroot/ROOT')).toEqual(['list', '-rH', '-o', 'name,mountpoint,canmount,mounted', '-t', 'filesystem', 'zroot/ROOT']);
  });
});

describe('mount table parser', () => {
  it('reads FreeBSD mount -p (fixtures/be/README.md)', () => {
    const entries = parseMountTable(fixture('freebsd-mount-p.txt'));
    expect(entries).toHaveLength(28);
    expect(entries[1]).toEqual({ source: 'devfs', target: '/dev', fstype: 'devfs', options: ['rw', 'multilabel'] });
    const zfs = zfsMountPoints(entries);
    expect(zfs.get('zroot/ROOT/head/var/log')).toBe('/ROOT/head/var/log');
    expect(zfs.get('zroot/ROOT/default')).toBe('/');
    expect(zfs.has('devfs')).toBe(false);
  });

  it('reads Linux /proc/self/mounts captured with zfs-fuse (fuse.zfs)', () => {
    const entries = parseMountTable(fixture('linux-proc-mounts.txt'));
    const zfs = zfsMountPoints(entries);
    expect(zfs.get('bepool/ROOT/head/usr')).toBe('/tmp/be-capture/ROOT/head/usr');
    expect(entries.filter(isZfsMount)).toHaveLength(13);
    expect(zfs.has('/dev/vda')).toBe(false);
  });

  it('undoes octal escapes of blanks, and the newest of two mounts wins', () => {
    expect(unescapeOctal('/mnt/my\\040disk\\011x\\134')).toBe('/mnt/my disk\tx\\');
    const entries = parseMountTable('p/a /first zfs rw 0 0\np/a /mnt/with\\040space fuse.zfs rw 0 0\n');
    expect(zfsMountPoints(entries).get('p/a')).toBe('/mnt/with space');
  });
});

describe('inventory', () => {
  const freebsd = inventoryFromZfs(
    'zroot/ROOT',
    parseZfsList(fixture('freebsd-zfs-list.txt')),
    zfsMountPoints(parseMountTable(fixture('freebsd-mount-p.txt'))),
  );

  it('finds each child of be.root as a boot environment, sorted', () => {
    expect(freebsd.map((b) => b.name)).toEqual(['default', 'files', 'head']);
  });

  it('takes real paths from the mount table, not from the mountpoint property', () => {
    const head = findBe(freebsd, 'head')!;
    expect(head.source).toBe('zroot/ROOT/head');
    expect(head.datasets.map((d) => [d.relative, d.mountpoint, d.guestPath, d.path])).toEqual([
      ['', '/', '/', '/ROOT/head'],
      ['tmp', '/tmp', '/tmp', '/ROOT/head/tmp'],
      ['usr', '/usr', '/usr', '/ROOT/head/usr'],
      ['usr/home', '/usr/home', '/usr/home', '/ROOT/head/usr/home'],
      ['usr/ports', '/usr/ports', '/usr/ports', '/ROOT/head/usr/ports'],
      ['usr/src', '/usr/src', '/usr/src', '/ROOT/head/usr/src'],
      ['var', '/var', '/var', '/ROOT/head/var'],
      ['var/audit', '/var/audit', '/var/audit', '/ROOT/head/var/audit'],
      ['var/crash', '/var/crash', '/var/crash', '/ROOT/head/var/crash'],
      ['var/log', '/var/log', '/var/log', '/ROOT/head/var/log'],
      ['var/mail', '/var/mail', '/var/mail', '/ROOT/head/var/mail'],
      ['var/tmp', '/var/tmp', '/var/tmp', '/ROOT/head/var/tmp'],
    ]);
    expect(findBe(freebsd, 'default')!.datasets[3]!.path).toBe('/usr/home');
    expect(findBe(freebsd, 'files')!.datasets).toEqual([
      { name: 'zroot/ROOT/files', relative: '', mountpoint: '/', canmount: 'noauto', guestPath: '/', path: null },
    ]);
  });

  it('strips the BE mountpoint when the property itself was moved (zfs-fuse capture)', () => {
    const envs = inventoryFromZfs('bepool/ROOT', parseZfsList(fixture('zfs-fuse-list.txt')), zfsMountPoints(parseMountTable(fixture('linux-proc-mounts.txt'))));
    const head = findBe(envs, 'head')!;
    expect(head.datasets.find((d) => d.relative === 'var/log')).toMatchObject({ guestPath: '/var/log', path: '/tmp/be-capture/ROOT/head/var/log' });
    expect(findBe(envs, 'files')!.datasets[0]!.path).toBeNull();
  });

  it('refuses a listing of something else, or children without their BE', () => {
    expect(() => inventoryFromZfs('zroot/ROOT', [{ name: 'tank/x', mountpoint: '/', canmount: 'on', mounted: false }], new Map())).toThrow(/not below it/);
    expect(() => inventoryFromZfs('zroot/ROOT', [{ name: 'zroot/ROOT/a/usr', mountpoint: '/usr', canmount: 'on', mounted: false }], new Map())).toThrow(
      /but not zroot\/ROOT\/a itself/,
    );
  });

  it('dir backend: each subdirectory is a BE with one path', () => {
    expect(inventoryFromDirs('/var/db/be/envs/', ['b', 'a'])).toEqual([
      {
        name: 'a',
        source: '/var/db/be/envs/a',
        datasets: [{ name: '/var/db/be/envs/a', relative: '', mountpoint: '/var/db/be/envs/a', canmount: 'on', guestPath: '/', path: '/var/db/be/envs/a' }],
      },
      {
        name: 'b',
        source: '/var/db/be/envs/b',
        datasets: [{ name: '/var/db/be/envs/b', relative: '', mountpoint: '/var/db/be/envs/b', canmount: 'on', guestPath: '/', path: '/var/db/be/envs/b' }],
      },
    ]);
  });

  it('orders parents before children', () => {
    expect(['var/log', 'usr', '', 'var', 'usr/home', 'tmp', 'var-x'].sort(compareRelative)).toEqual(['', 'tmp', 'usr', 'usr/home', 'var', 'var/log', 'var-x']);
  });

  it('accepts BE names that are one path component', () => {
    expect(isBeName('head')).toBe(true);
    expect(isBeName('14.1-RELEASE')).toBe(true);
    for (const bad of ['', '../x', 'a/b', '-r', 'a b', '.hidden']) expect(isBeName(bad)).toBe(false);
  });
});
