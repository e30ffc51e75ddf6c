import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { findBe, inventoryFromZfs } from '../../../src/be/inventory.js';
import { parseMountTable, zfsMountPoints } from '../../../src/be/mounts.js';
import { parseZfsList } from '../../../src/be/zfs-list.js';
import { BeError } from '../../../src/errors.js';
import { buildExports, ganeshaExportIds, type ExportsFormat } from '../../../src/nfs/exports.js';
import { buildGuestFstab } from '../../../src/nfs/fstab.js';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/be/${name}`, import.meta.url), 'utf8');
const envs = inventoryFromZfs('zroot/ROOT', parseZfsList(fixture('freebsd-zfs-list.txt')), zfsMountPoints(parseMountTable(fixture('freebsd-mount-p.txt'))));
const head = findBe(envs, 'head')!;
const entries = head.datasets.map((d) => ({ be: 'head', path: d.path! }));
const options = { network: '192.168.2.0/24', maproot: 'root' };

function refusal(f: () => unknown): BeError {
  try {
    f();
  } catch (err) {
    if (err instanceof BeError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('exports builders (golden, from the FreeBSD zfs list and mount -p fixtures)', () => {
  for (const format of ['freebsd', 'linux', 'ganesha'] as const satisfies readonly ExportsFormat[]) {
    it(`${format}`, () => {
      expect(buildExports(entries, { ...options, format })).toBe(fixture(`golden/exports.${format}`));
    });
  }

  it("freebsd: every line of the talk's /etc/exports slide is there, word for word", () => {
    const talk = [
      '/ROOT/head',
      '/ROOT/head/tmp',
      '/ROOT/head/usr/home',
      '/ROOT/head/usr/ports',
      '/ROOT/head/usr/src',
      '/ROOT/head/var/audit',
      '/ROOT/head/var/crash',
      '/ROOT/head/var/log',
      '/ROOT/head/var/mail',
      '/ROOT/head/var/tmp',
    ].map((p) => `${p} -maproot=root -network 192.168.2.0 -mask 255.255.255.0`);
    const lines = buildExports(entries, { ...options, format: 'freebsd' }).split('\n');
    for (const line of talk) expect(lines).toContain(line);
    // One line per dataset: the 12 datasets of head, nothing else but comments.
    expect(lines.filter((l) => l && !l.startsWith('#'))).toHaveLength(12);
  });

  it('is the same text whatever order the entries come in, and duplicates collapse', () => {
    const shuffled = [...entries].reverse().concat(entries.slice(0, 3));
    expect(buildExports(shuffled, { ...options, format: 'freebsd' })).toBe(buildExports(entries, { ...options, format: 'freebsd' }));
  });

  it('groups by boot environment and maps a non-root maproot', () => {
    const text = buildExports(
      [
        { be: 'b', path: '/ROOT/b' },
        { be: 'a', path: '/ROOT/a' },
      ],
      { format: 'linux', network: '10.0.0.0/8', maproot: '65534' },
    );
    expect(text.split('\n').slice(1)).toEqual([
      '# be a',
      '/ROOT/a 10.0.0.0/8(rw,root_squash,anonuid=65534,no_subtree_check,sync)',
      '# be b',
      '/ROOT/b 10.0.0.0/8(rw,root_squash,anonuid=65534,no_subtree_check,sync)',
      '',
    ]);
    expect(buildExports([{ be: 'a', path: '/x' }], { format: 'freebsd', network: '10.1.2.0/23', maproot: 'nobody' })).toContain(
      '/x -maproot=nobody -network 10.1.2.0 -mask 255.255.254.0\n',
    );
    expect(buildExports([{ be: 'a', path: '/x' }], { format: 'ganesha', network: '10.1.2.0/23', maproot: 'nobody' })).toContain('Squash = Root_Squash;');
  });

  it('an empty inventory is a valid file with only the header', () => {
    expect(buildExports([], { ...options, format: 'freebsd' })).toMatch(/^# Written by be[^\n]*\n$/);
  });

  it('ganesha export ids are stable when another BE is added, unique, and never 0', () => {
    const before = ganeshaExportIds(['/ROOT/head', '/ROOT/head/usr']);
    const after = ganeshaExportIds(['/ROOT/aaa', '/ROOT/head', '/ROOT/head/usr']);
    expect(after.get('/ROOT/head')).toBe(before.get('/ROOT/head'));
    const many = ganeshaExportIds(Array.from({ length: 5000 }, (_, i) => `/ROOT/be${i}`));
    const ids = [...many.values()];
    expect(new Set(ids).size).toBe(5000);
    expect(Math.min(...ids)).toBeGreaterThanOrEqual(1000);
    expect(Math.max(...ids)).toBeLessThanOrEqual(65535);
  });
});

describe('exports refusals', () => {
  it('refuses without nfs.network', () => {
    const err = refusal(() => buildExports(entries, { format: 'freebsd', network: null, maproot: 'root' }));
    expect(err.code).toBe('E_CONFIG');
    expect(err.message).toMatch(/^nfs\.network is not set/);
  });

  it('refuses maproot=root to 0.0.0.0/0 unless forced', () => {
    for (const maproot of ['root', '0']) {
      expect(refusal(() => buildExports(entries, { format: 'linux', network: '0.0.0.0/0', maproot })).message).toMatch(/to every address: refused/);
    }
    expect(buildExports(entries, { format: 'freebsd', network: '0.0.0.0/0', maproot: 'root', allowWorldRoot: true })).toContain(
      '/ROOT/head -maproot=root -network 0.0.0.0 -mask 0.0.0.0\n',
    );
    // A squashed root to the world is not the danger the refusal is about.
    expect(buildExports(entries, { format: 'freebsd', network: '0.0.0.0/0', maproot: 'nobody' })).toContain('-maproot=nobody');
  });

  it('refuses paths an exports file cannot carry unquoted, and odd maproot values', () => {
    expect(refusal(() => buildExports([{ be: 'a', path: '/my disk' }], { ...options, format: 'freebsd' })).message).toMatch(/cannot export "\/my disk"/);
    expect(refusal(() => buildExports([{ be: 'a', path: 'relative' }], { ...options, format: 'freebsd' })).message).toMatch(/cannot export/);
    expect(refusal(() => buildExports([{ be: 'a', path: '/a/../etc' }], { ...options, format: 'freebsd' })).message).toMatch(/cannot export/);
    expect(refusal(() => buildExports(entries, { ...options, maproot: 'root -alldirs', format: 'freebsd' })).message).toMatch(/nfs\.maproot/);
  });
});

describe('guest fstab', () => {
  it('golden: the nested datasets of head, parents first, root left to the kernel', () => {
    expect(buildGuestFstab(head, '192.168.2.1')).toBe(fixture('golden/fstab.head'));
  });

  it('uses the options given and refuses a BE that is not mounted', () => {
    expect(buildGuestFstab(head, '10.0.0.1', 'rw,noatime,async')).toContain('10.0.0.1:/ROOT/head/var/log\t/var/log\tnfs\trw,noatime,async\t0\t0\n');
    const unmounted = { ...head, datasets: head.datasets.map((d) => ({ ...d, path: null })) };
    expect(() => buildGuestFstab(unmounted, '10.0.0.1')).toThrow(/is not mounted.*be mount head first/);
  });
});
