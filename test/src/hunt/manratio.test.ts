/**
 * The manratio probe: the pure count with tables; the probe on trees built here with real files,
 * symbolic and hard links and compressed page names; and on the real FreeBSD 10.1-RELEASE file list
 * (../shared/freebsd/10.1-RELEASE/files.tsv) materialised as empty files, its figure counted a second
 * way by the shell's own globs, as FreeBSD's man.sh finds pages.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/schema.js';
import { describeManRatio, isExecutable, manRatio, namesFoundBy } from '../../../src/hunt/manratio.js';
import type { ProbeContext } from '../../../services/hunt/probe.js';
import type { Runner } from '../../../services/hunt/runner.js';
import { probeNamed, probes } from '../../../services/hunt/probes.js';
import { freebsdFixtures } from '../../lan/freebsd.js';

const scratch = mkdtempSync(join(tmpdir(), 'be-manratio-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const noRunner: Runner = {
  name: 'chroot',
  run: () => {
    throw new Error('manratio runs nothing');
  },
};

function contextFor(root: string, lines: string[] = []): ProbeContext {
  const request = { config: {} as Config, be: 'test', root, timeoutMs: 0 };
  return { release: '10.1-RELEASE', major: 10, runner: noRunner, request, root, log: (line) => lines.push(line) };
}

describe('namesFoundBy: the names man.sh finds with a page file (NAME.$sect*, then NAME.0*)', () => {
  it.each([
    ['1', 'ls.1.gz', ['ls']],
    ['1', 'ls.1', ['ls']],
    ['1', 'ls.1.bz2', ['ls']],
    ['1', 'ls.1x.gz', ['ls']],
    ['1', '[.1.gz', ['[']],
    ['8', 'rpc.statd.8.gz', ['rpc.statd']],
    ['8', 'mount_fusefs.8', ['mount_fusefs']],
    ['1', 'ld-elf.so.1.1.gz', ['ld-elf.so', 'ld-elf.so.1']],
    ['1', 'cat.0', ['cat']],
    ['1', 'zdb.8.gz', []],
    ['8', 'ls.1.gz', []],
    ['1', '.1', []],
    ['1', 'README', []],
  ] as const)('man%s/%s -> %j', (section, file, names) => {
    expect(namesFoundBy(section, file)).toEqual(names);
  });
});

describe('isExecutable', () => {
  it.each([
    ['file', 0o100755, true],
    ['file', 0o100555, true],
    ['file', 0o104555, true],
    ['file', 0o100700, true],
    ['file', 0o100001, true],
    ['file', 0o100644, false],
    ['file', 0o100000, false],
    ['symlink', 0o120777, true],
    ['symlink', 0o120000, true],
    ['directory', 0o40755, false],
    ['other', 0o10755, false],
  ] as const)('%s mode %o -> %s', (kind, mode, expected) => {
    expect(isExecutable(kind, mode)).toBe(expected);
  });
});

describe('manRatio', () => {
  it('counts each name once across directories, and a page in man1 or man8 serves any of them', () => {
    const figure = manRatio({
      executables: { bin: ['ls', 'pgrep', 'sh'], 'usr/bin': ['pgrep', 'tar', 'who'], sbin: ['zfs'], 'usr/sbin': ['apm'] },
      pages: { '1': ['ls.1.gz', 'pgrep.1.gz', 'tar.1.bz2', 'sh.1'], '8': ['zfs.8.gz', 'apm.8.gz'] },
    });
    expect(figure).toEqual({ executables: 7, withPage: 6, ratio: 6 / 7, missing: ['who'] });
    expect(describeManRatio(figure)).toBe('6 of 7 executables have a page (85.7 %)');
  });

  it('a page in the other section counts; a page named for another section does not', () => {
    const figure = manRatio({ executables: { 'usr/bin': ['a', 'b', 'c'] }, pages: { '8': ['a.8.gz', 'b.1.gz'], '1': ['c.8'] } });
    expect(figure.missing).toEqual(['b', 'c']);
  });

  it('no executables: ratio 0', () => {
    expect(manRatio({ executables: {}, pages: { '1': ['ls.1.gz'] } })).toEqual({ executables: 0, withPage: 0, ratio: 0, missing: [] });
  });
});

/** Builds a tree under scratch from a list of [path, what] with what: mode number, 'dir', `-> target` (symlink) or `= other path` (hard link). */
function tree(name: string, entries: readonly (readonly [string, number | 'dir' | `-> ${string}` | `= ${string}`])[]): string {
  const root = join(scratch, name);
  mkdirSync(root);
  for (const [path, what] of entries) {
    const full = join(root, path);
    mkdirSync(what === 'dir' ? full : dirname(full), { recursive: true });
    if (what === 'dir') continue;
    if (typeof what === 'number') {
      writeFileSync(full, '');
      chmodSync(full, what);
    } else if (what.startsWith('-> ')) symlinkSync(what.slice(3), full);
    else linkSync(join(root, what.slice(2)), full);
  }
  return root;
}

describe('the manratio probe on trees with known counts', () => {
  it('files, symlinks, hard links, duplicates, compressed and linked pages, a machine subdirectory', async () => {
    const root = tree('known', [
      ['bin/ls', 0o755],
      ['bin/[', 0o555],
      ['bin/test', '= bin/['], // a hard link: its own name
      ['bin/pgrep', 0o755],
      ['bin/README', 0o644], // no execute bit: not an executable
      ['bin/subdir/inner', 0o755], // below bin/: not counted
      ['sbin/nologin', '-> /usr/sbin/nologin'], // a symlink, absolute: counted, never followed
      ['sbin/zfs', 0o555],
      ['usr/bin/pgrep', '-> ../../bin/pgrep'], // the same name twice: one executable
      ['usr/bin/tar', '-> bsdtar'],
      ['usr/bin/bsdtar', 0o755],
      ['usr/bin/undocumented', 0o755],
      ['usr/sbin/nologin', 0o755],
      ['usr/sbin/apm', 0o755],
      ['usr/sbin/setuid-tool', 0o4555],
      ['usr/share/man/man1/ls.1.gz', 0o444],
      ['usr/share/man/man1/[.1.gz', 0o444],
      ['usr/share/man/man1/test.1.gz', '= usr/share/man/man1/[.1.gz'], // MLINKS as a hard link
      ['usr/share/man/man1/pgrep.1.bz2', 0o444],
      ['usr/share/man/man1/bsdtar.1', 0o444],
      ['usr/share/man/man1/tar.1.gz', '-> bsdtar.1'], // MLINKS as a symlink
      ['usr/share/man/man8/nologin.8.gz', 0o444],
      ['usr/share/man/man8/zfs.8.gz', 0o444],
      ['usr/share/man/man8/amd64/apm.8.gz', 0o444], // man.sh searches man8/$MACHINE too
      ['usr/share/man/man5/setuid-tool.5.gz', 0o444], // section 5 is not looked at
    ]);
    const lines: string[] = [];
    const outcome = await probes.manratio.run(contextFor(root, lines));
    // ls [ test pgrep nologin zfs tar bsdtar undocumented apm setuid-tool: 11 names, 9 with a page.
    expect(outcome).toEqual({ verdict: 'good', exitCode: null, value: 9 / 11, detail: '9 of 11 executables have a page (81.8 %)' });
    expect(lines).toContain('manratio: bin/: 4 executables of 6 entries');
    expect(lines).toContain('manratio: without a page: setuid-tool undocumented');
  });

  it('a BE whose share/man leads out of it (an absolute symlink) has no pages: only the BE is read', async () => {
    const outside = tree('outside', [['man1/ls.1.gz', 0o444]]);
    const root = tree('escape', [
      ['bin/ls', 0o755],
      ['usr/share', 'dir'],
    ]);
    symlinkSync(outside, join(root, 'usr/share/man'));
    const outcome = await probes.manratio.run(contextFor(root));
    expect(outcome.detail).toBe('0 of 1 executables have a page (0.0 %)');
  });

  it('none of bin, sbin, usr/bin, usr/sbin: an error, not a figure', async () => {
    const root = tree('empty', [['etc/rc.conf', 0o644]]);
    expect(await probes.manratio.run(contextFor(root))).toEqual({
      verdict: 'error',
      exitCode: null,
      detail: 'none of bin, sbin, usr/bin, usr/sbin in the BE: not a FreeBSD root',
    });
  });

  it('the directories but no executables in them: an error', async () => {
    const root = tree('noexec', [['bin/README', 0o644]]);
    expect(await probes.manratio.run(contextFor(root))).toMatchObject({ verdict: 'error', detail: 'no executables in bin, sbin, usr/bin, usr/sbin' });
  });

  it('probeNamed finds it, and names the known probes otherwise', () => {
    expect(probeNamed('manratio')).toBe(probes.manratio);
    expect(probes.manratio.valueLabel).toBe('executables with a manual page');
    expect(() => probeNamed('nope')).toThrow(expect.objectContaining({ code: 'E_USAGE', message: 'unknown probe "nope": the probes are manratio, kyua' }));
  });
});

const fileList = join(freebsdFixtures, '10.1-RELEASE', 'files.tsv');

/**
 * The second count, by FreeBSD's rules executed by the shell: `find` picks the executables (a symlink,
 * or a regular file with an execute bit) and for each name the shell expands man.sh's own globs,
 * `man$sect/[*\/]NAME.$sect*` and `NAME.0*`, in man1 and man8. Prints "EXECUTABLES WITH_PAGE" then the
 * names without a page.
 */
const shellCount = String.raw`
cd "$1" || exit 2
names=$(find bin sbin usr/bin usr/sbin -mindepth 1 -maxdepth 1 \( -type l -o -type f -perm /111 \) -printf '%f\n' | sort -u)
total=0; with=0; missing=''
for name in $names; do
  total=$((total + 1)); found=''
  for sect in 1 8; do
    for page in usr/share/man/man$sect/"$name".$sect* usr/share/man/man$sect/*/"$name".$sect* \
                usr/share/man/man$sect/"$name".0* usr/share/man/man$sect/*/"$name".0*; do
      if [ -e "$page" ] || [ -L "$page" ]; then found=yes; fi
    done
  done
  if [ -n "$found" ]; then with=$((with + 1)); else missing="$missing $name"; fi
done
echo "$total $with"
echo $missing
`;

describe.skipIf(!existsSync(fileList))('the manratio probe on FreeBSD 10.1-RELEASE (its real file list, as empty files)', () => {
  it('counts what the shell counts by man.sh globs: 937 executables, 890 with a page (95.0 %)', async () => {
    const root = join(scratch, '10.1-RELEASE');
    for (const line of readFileSync(fileList, 'utf8').split('\n')) {
      if (line === '') continue;
      const [gitMode, , path] = line.split('\t') as [string, string, string];
      const full = join(root, path);
      mkdirSync(dirname(full), { recursive: true });
      // The list has no link targets. A symlink to a target that does not exist is what lstat sees in
      // a real BE (a link), and proves the probe never follows one; a 0755 file would pass for a binary.
      if (gitMode === '120000') symlinkSync('be-test-no-such-target', full);
      else {
        writeFileSync(full, '');
        chmodSync(full, gitMode === '100755' ? 0o755 : 0o644);
      }
    }
    const [counts = '', missingLine = ''] = execFileSync('/bin/sh', ['-c', shellCount, 'sh', root], { encoding: 'utf8' }).split('\n');
    const [executables, withPage] = counts.split(' ').map(Number) as [number, number];

    const lines: string[] = [];
    const outcome = await probes.manratio.run(contextFor(root, lines));
    const ratio = withPage / executables;
    expect(outcome).toEqual({
      verdict: 'good',
      exitCode: null,
      value: ratio,
      detail: `${withPage} of ${executables} executables have a page (${(ratio * 100).toFixed(1)} %)`,
    });
    expect(lines).toContain(`manratio: without a page: ${missingLine.split(' ').sort().join(' ')}`);
    // The figure the README gives as the example, so a change of the rules shows here.
    expect([executables, withPage]).toEqual([937, 890]);
  });
});
