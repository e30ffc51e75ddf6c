import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRelease } from '../../../src/bhyve/release.js';
import { BeError } from '../../../src/errors.js';
import {
  bhyveRcScript,
  chrootArgv,
  chrootMountPlan,
  compatFeaturesNeeded,
  compatWarning,
  finalJailName,
  guestRun,
  jailCreateArgv,
  jailMounts,
  jailName,
  jailRemoveArgv,
  jexecArgv,
  parseJailParameter,
  parseKernelFacts,
  parseStatus,
  type JailSpec,
} from '../../../src/jail/params.js';

const spec = (...parameters: string[]): JailSpec => ({ name: 'head', root: '/ROOT/head', hostname: 'head', parameters: parameters.map(parseJailParameter) });

describe('jail(8) argv', () => {
  it("is bectl jail's defaults with name, path and mount.devfs", () => {
    expect(jailCreateArgv(spec())).toEqual([
      'jail',
      '-c',
      'name=head',
      'path=/ROOT/head',
      'host.hostname=head',
      'mount.devfs',
      'persist',
      'allow.mount',
      'allow.mount.devfs',
      'enforce_statfs=1',
    ]);
    expect(jexecArgv('head', ['/bin/sh', '-c', 'uname -r'])).toEqual(['jexec', 'head', '/bin/sh', '-c', 'uname -r']);
    expect(jailRemoveArgv('head')).toEqual(['jail', '-r', 'head']);
  });

  it('takes -o overrides in place and appends new parameters, later winning', () => {
    const argv = jailCreateArgv(spec('ip4=inherit', 'enforce_statfs=2', 'osrelease=12.4-RELEASE', 'host.hostname=other', 'ip4=disable'));
    expect(argv).toEqual([
      'jail',
      '-c',
      'name=head',
      'path=/ROOT/head',
      'host.hostname=other',
      'mount.devfs',
      'persist',
      'allow.mount',
      'allow.mount.devfs',
      'enforce_statfs=2',
      'ip4=disable',
      'osrelease=12.4-RELEASE',
    ]);
  });

  it('a boolean and its no form are one parameter; name= renames the jail', () => {
    const s = spec('allow.nomount=true', 'mount.devfs=false', 'name=other');
    expect(jailCreateArgv(s)).toEqual([
      'jail',
      '-c',
      'name=other',
      'path=/ROOT/head',
      'host.hostname=head',
      'mount.devfs=false',
      'persist',
      'allow.nomount=true',
      'allow.mount.devfs',
      'enforce_statfs=1',
    ]);
    expect(finalJailName(s)).toBe('other');
  });

  it.each([
    ['command=/bin/sh', 'command'],
    ['exec.start=/bin/sh /etc/rc', 'exec.start'],
    ['persist=false', 'persist'],
    ['nopersist=true', 'nopersist'],
    ['exec.start.foo=1', 'exec.start.foo'],
  ])('refuses -o %s as bectl does, in one line naming the parameter', (text, name) => {
    let error: unknown;
    try {
      parseJailParameter(text);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(BeError);
    expect((error as BeError).code).toBe('E_USAGE');
    expect((error as BeError).message).toMatch(new RegExp(`^-o ${name.replace('.', '\\.')}: refused, as bectl jail refuses it: `));
    expect((error as BeError).message).not.toContain('\n');
  });

  it('refuses path= (be sets it) and a parameter without =', () => {
    expect(() => parseJailParameter('path=/elsewhere')).toThrow(/^-o path: refused: the jail is where the boot environment is mounted/);
    expect(() => parseJailParameter('allow.raw_sockets')).toThrow('-o allow.raw_sockets: expected PARAM=VALUE');
    expect(() => parseJailParameter('=1')).toThrow('expected PARAM=VALUE');
    expect(parseJailParameter('exec.stop=/bin/sh /etc/rc.shutdown')).toEqual({ name: 'exec.stop', value: '/bin/sh /etc/rc.shutdown' });
    expect(parseJailParameter('osrelease=')).toEqual({ name: 'osrelease', value: '' });
  });

  it('names a jail after its BE without dots, and never as a number', () => {
    expect(jailName('head')).toBe('head');
    expect(jailName('r14.1')).toBe('r14_1');
    expect(jailName('14')).toBe('be_14');
    expect(jailName('stable-14')).toBe('stable-14');
  });

  it('knows which mounts jail(8) makes for the parameters, deepest first', () => {
    expect(jailMounts(spec())).toEqual(['/ROOT/head/dev']);
    expect(jailMounts(spec('mount.devfs=false'))).toEqual([]);
    expect(jailMounts(spec('mount.nodevfs=true'))).toEqual([]);
    expect(jailMounts(spec('mount.fdescfs=true', 'mount.procfs=1'))).toEqual(['/ROOT/head/dev/fd', '/ROOT/head/dev', '/ROOT/head/proc']);
  });
});

describe('kernel compatibility', () => {
  it('a userland of M on a kernel of H needs COMPAT_FREEBSD M..H-1, never 8', () => {
    expect(compatFeaturesNeeded(14, 14)).toEqual([]);
    expect(compatFeaturesNeeded(15, 14)).toEqual([]);
    expect(compatFeaturesNeeded(13, 14)).toEqual(['compat_freebsd13']);
    expect(compatFeaturesNeeded(11, 14)).toEqual(['compat_freebsd11', 'compat_freebsd12', 'compat_freebsd13']);
    expect(compatFeaturesNeeded(7, 10)).toEqual(['compat_freebsd7', 'compat_freebsd9']);
    expect(compatFeaturesNeeded(2, 6)).toEqual(['compat_freebsd4', 'compat_freebsd5']);
  });

  const sysctl = (features: string[]) =>
    ['kern.osrelease: 14.1-RELEASE-p5', 'kern.features.ufs_acl: 1', ...features.map((f) => `kern.features.${f}: 1`), 'kern.features.off: 0', ''].join('\n');

  it('reads `sysctl kern.osrelease kern.features`', () => {
    const facts = parseKernelFacts(sysctl(['compat_freebsd11', 'compat_freebsd12']));
    expect(facts.release).toEqual({ major: 14, minor: 1, text: '14.1-RELEASE-p5' });
    expect([...facts.features].sort()).toEqual(['compat_freebsd11', 'compat_freebsd12', 'ufs_acl']);
    expect(parseKernelFacts('sysctl: unknown oid').release).toBeUndefined();
  });

  it('warns in one line naming the options the kernel lacks, and only then', () => {
    const userland = parseRelease('11.4-RELEASE')!;
    expect(compatWarning(userland, parseKernelFacts(sysctl(['compat_freebsd11', 'compat_freebsd12', 'compat_freebsd13'])))).toBeUndefined();
    const line = compatWarning(userland, parseKernelFacts(sysctl(['compat_freebsd11'])));
    expect(line).toBe(
      '11.4-RELEASE userland on a 14.1-RELEASE-p5 kernel needs options COMPAT_FREEBSD12, COMPAT_FREEBSD13, which this kernel lacks (no kern.features.compat_freebsd12, kern.features.compat_freebsd13): its binaries may fail with "Bad system call"',
    );
    expect(compatWarning(parseRelease('15.0-CURRENT')!, parseKernelFacts(sysctl([])))).toMatch(
      /^15\.0-CURRENT userland is newer than the host kernel \(14\.1-RELEASE-p5\)/,
    );
    expect(compatWarning(parseRelease('14.0-RELEASE')!, parseKernelFacts(sysctl([])))).toBeUndefined();
    expect(compatWarning(userland, parseKernelFacts(''))).toBeUndefined();
  });
});

describe('the chroot mount plan', () => {
  it('FreeBSD: devfs then procfs, each unmounted by itself', () => {
    expect(chrootMountPlan('/ROOT/r', 'freebsd')).toEqual([
      { target: '/ROOT/r/dev', mount: [['mount', '-t', 'devfs', 'devfs', '/ROOT/r/dev']], umount: ['umount', '/ROOT/r/dev'] },
      { target: '/ROOT/r/proc', mount: [['mount', '-t', 'procfs', 'proc', '/ROOT/r/proc']], umount: ['umount', '/ROOT/r/proc'] },
    ]);
  });

  it("Linux: the host's /dev bound recursively as a slave, then a new proc", () => {
    expect(chrootMountPlan('/tmp/r/', 'linux')).toEqual([
      {
        target: '/tmp/r/dev',
        mount: [
          ['mount', '--rbind', '/dev', '/tmp/r/dev'],
          ['mount', '--make-rslave', '/tmp/r/dev'],
        ],
        umount: ['umount', '-R', '/tmp/r/dev'],
      },
      { target: '/tmp/r/proc', mount: [['mount', '-t', 'proc', 'proc', '/tmp/r/proc']], umount: ['umount', '/tmp/r/proc'] },
    ]);
    expect(chrootArgv('/tmp/r', ['/bin/sh', '-c', 'exit 3'])).toEqual(['chroot', '/tmp/r', '/bin/sh', '-c', 'exit 3']);
  });
});

describe('the bhyve rc script', () => {
  it('is a one-shot rc.d script after LOGIN that runs the command, keeps its status and powers off', () => {
    const text = bhyveRcScript({ command: ['/usr/bin/kyua', 'test', '-k', "/usr/tests/it's"] });
    expect(text.startsWith('#!/bin/sh\n')).toBe(true);
    expect(text).toMatch(/^# PROVIDE: be_run$/m);
    expect(text).toMatch(/^# REQUIRE: LOGIN$/m);
    expect(text).toMatch(/^# KEYWORD: FreeBSD$/m);
    expect(text).toContain(`rm -f ${guestRun.script}\n`);
    expect(text).toContain(`( cd / && exec /usr/bin/kyua test -k '/usr/tests/it'\\''s' ) > /.be-run/log 2>&1 < /dev/null\n`);
    expect(text).toContain('echo $? > /.be-run/status.tmp\nmv /.be-run/status.tmp /.be-run/status\n');
    expect(text.trimEnd().split('\n').at(-1)).toBe('/sbin/shutdown -p now || /sbin/halt -p');
    execFileSync('sh', ['-n'], { input: text });
  });

  it('really runs: output to the log, the status written last, itself removed, then the power-off command', () => {
    const dir = mkdtempSync(join(tmpdir(), 'be-rc-'));
    try {
      const script = join(dir, 'be_run');
      const poweroff = join(dir, 'poweroff');
      writeFileSync(poweroff, `#!/bin/sh\n[ -f ${dir}/run/status ] && echo "powered off after status $(cat ${dir}/run/status)" > ${dir}/powered\n`);
      chmodSync(poweroff, 0o755);
      const text = bhyveRcScript({ command: ['/bin/sh', '-c', 'echo out; echo err >&2; exit 3'], script, dir: join(dir, 'run'), poweroff: [[poweroff]] });
      writeFileSync(script, text, { mode: 0o755 });
      execFileSync('sh', [script, 'stop']);
      expect(existsSync(script)).toBe(true); // only start runs it
      execFileSync('sh', [script, 'faststart']);
      expect(readFileSync(join(dir, 'run', 'log'), 'utf8')).toBe('out\nerr\n');
      expect(parseStatus(readFileSync(join(dir, 'run', 'status'), 'utf8'))).toBe(3);
      expect(existsSync(script)).toBe(false);
      expect(readFileSync(join(dir, 'powered'), 'utf8')).toBe('powered off after status 3\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads a status file', () => {
    expect(parseStatus('0\n')).toBe(0);
    expect(parseStatus('125\n')).toBe(125);
    expect(parseStatus('')).toBeUndefined();
    expect(parseStatus('12a')).toBeUndefined();
    expect(parseStatus('300')).toBeUndefined();
  });
});
