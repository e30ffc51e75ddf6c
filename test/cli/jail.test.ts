/**
 * `be jail` (the built CLI) on a `dir` boot environment, with stand-ins first on PATH for jail(8),
 * jexec(8), mount -p, umount and sysctl (test/services/hunt/stand-ins.ts: they record their argv and
 * replay documented behaviour; a jexec'd command really runs, here, as if jailed).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../lan/wait.js';
import { StandIns } from '../services/hunt/stand-ins.js';
import { be, beMain } from './be.js';

const dir = mkdtempSync(join(tmpdir(), 'be-jail-'));
const envs = join(dir, 'envs');
const root = join(envs, 'head');
for (const sub of ['bin', 'dev', 'etc']) mkdirSync(join(root, sub), { recursive: true });
writeFileSync(join(root, 'bin', 'freebsd-version'), '#!/bin/sh\nUSERLAND_VERSION="11.4-RELEASE-p13"\n');
const settings = ['--set', 'be.backend=dir', '--set', `be.root=${envs}`, '--set', `server.stateDir=${join(dir, 'state')}`];

const fakes = new StandIns(['jail', 'jexec', 'mount', 'umount', 'sysctl']);
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  fakes.remove();
});
beforeEach(() => fakes.reset());

const jail = (args: string[]) => be([...settings, 'jail', ...args], { env: fakes.env });
const create = (...extra: string[]) =>
  ['jail -c name=head', `path=${root}`, 'host.hostname=head', 'mount.devfs persist allow.mount allow.mount.devfs enforce_statfs=1', ...extra].join(' ');
const cleanup = ['jail -r head', 'mount -p', `umount ${root}/dev`];
const lines = (text: unknown) => String(text).split('\n').filter(Boolean);

describe('be jail', () => {
  it('passes -o parameters to jail -c after bectl’s defaults, runs the command with jexec, then removes the jail and its devfs', async () => {
    const result = await jail(['-o', 'ip4=inherit', '-o', 'osrelease=11.4-RELEASE', 'head', '--', '/bin/sh', '-c', 'echo in the jail']);
    expect(String(result.stderr)).toBe('');
    expect(result.exitCode).toBe(0);
    expect(String(result.stdout)).toBe('in the jail'); // execa strips the final newline
    expect(fakes.calls()).toEqual([
      'sysctl kern.osrelease kern.features',
      create('ip4=inherit', 'osrelease=11.4-RELEASE'),
      'jexec head /bin/sh -c echo in the jail',
      ...cleanup,
    ]);
    expect(fakes.mounts()).toEqual([]);
    expect(fakes.jailExists('head')).toBe(false);
  });

  it('runs /bin/sh without a command; a later -o wins over an earlier one and over a default', async () => {
    fakes.queue('jexec', 0);
    const result = await jail(['head', '-o', 'enforce_statfs=2', '-o', 'ip4=disable', '-o', 'ip4=inherit']);
    expect(result.exitCode).toBe(0);
    const calls = fakes.calls();
    expect(calls[1]).toBe(create('ip4=inherit').replace('enforce_statfs=1', 'enforce_statfs=2'));
    expect(calls[2]).toBe('jexec head /bin/sh');
  });

  it.each([
    ['command=/bin/sh', 'be: -o command: refused, as bectl jail refuses it: be jail runs the command itself, with jexec: give it after --'],
    ['exec.start=/bin/sh /etc/rc', 'be: -o exec.start: refused, as bectl jail refuses it: be jail runs the command itself, with jexec: give it after --'],
    [
      'persist=false',
      'be: -o persist: refused, as bectl jail refuses it: the jail must outlive each jexec; be removes it when the command ends (or keeps it with --keep)',
    ],
    ['path=/elsewhere', 'be: -o path: refused: the jail is where the boot environment is mounted: mount it elsewhere with be mount NAME DIR first'],
    ['allow.raw_sockets', 'be: -o allow.raw_sockets: expected PARAM=VALUE, as bectl jail takes it (booleans: PARAM=true or PARAM=false)'],
  ])('refuses -o %s in one line, exit 2, running nothing', async (parameter, message) => {
    const result = await jail(['-o', parameter, 'head']);
    expect(result.exitCode).toBe(2);
    expect(lines(result.stderr)).toEqual([message]);
    expect(fakes.calls()).toEqual([]);
  });

  it('refuses a BE that does not exist, running nothing', async () => {
    const result = await jail(['nope']);
    expect(result.exitCode).toBe(2);
    expect(lines(result.stderr)).toEqual([`be: no boot environment named nope in ${envs} (known: head)`]);
    expect(fakes.calls()).toEqual([]);
  });

  it('exits with the command’s status, says nothing of its own, and cleans up after the failing command', async () => {
    const result = await jail(['head', '--', '/bin/sh', '-c', 'echo failing >&2; exit 7']);
    expect(result.exitCode).toBe(7);
    expect(String(result.stderr)).toBe('failing');
    expect(fakes.calls().slice(-3)).toEqual(cleanup);
    expect(fakes.mounts()).toEqual([]);
    expect(fakes.jailExists('head')).toBe(false);
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s while the command runs: the command is stopped, the jail removed and devfs unmounted, exit %i', async (signal, status) => {
    fakes.queue('jexec', 'hang');
    const child = execa('node', [beMain, ...settings, 'jail', 'head', '--', '/bin/sh'], { reject: false, stdin: 'ignore', env: fakes.env, timeout: 60_000 });
    await waitFor(() => fakes.isRunning('jexec'), 'the stand-in jexec to start', { intervalMs: 20 });
    expect(fakes.mounts()).toEqual([`devfs\t${root}/dev\tdevfs\trw\t0\t0`]);
    child.kill(signal);
    const result = await child;
    expect(result.exitCode).toBe(status);
    expect(lines(result.stderr).at(-1)).toBe(`be: interrupted by ${signal}`);
    expect(fakes.calls().slice(-3)).toEqual(cleanup);
    expect(fakes.jailExists('head')).toBe(false);
    expect(fakes.mounts()).toEqual([]);
  });

  it('--keep leaves the jail and its devfs; the next be jail does not take it over or remove it', async () => {
    const kept = await jail(['--keep', 'head', '--', '/bin/true']);
    expect(kept.exitCode).toBe(0);
    expect(lines(kept.stderr)).toEqual(['be: jail head kept (--keep): jexec head /bin/sh to enter it, jail -r head to remove it']);
    expect(fakes.calls().filter((c) => c.startsWith('jail -r') || c.startsWith('umount'))).toEqual([]);
    expect(fakes.jailExists('head')).toBe(true);
    expect(fakes.mounts()).toHaveLength(1);

    const before = fakes.calls().length;
    const again = await jail(['head', '--', '/bin/true']);
    expect(again.exitCode).toBe(1);
    expect(lines(again.stderr)).toEqual(['be: jail head: jail -c: exit status 1: jail: head: already exists']);
    expect(fakes.calls().slice(before)).toEqual(['sysctl kern.osrelease kern.features', create()]);
    expect(fakes.jailExists('head')).toBe(true);
    expect(fakes.mounts()).toHaveLength(1);
  });

  it('says in one line, before running it, that the kernel lacks the COMPAT_FREEBSD an old userland needs', async () => {
    fakes.kernel('14.1-RELEASE', ['compat_freebsd11']);
    const result = await jail(['head', '--', '/bin/true']);
    expect(result.exitCode).toBe(0);
    expect(lines(result.stderr)).toEqual([
      'be: warning: 11.4-RELEASE-p13 userland on a 14.1-RELEASE kernel needs options COMPAT_FREEBSD12, COMPAT_FREEBSD13, which this kernel lacks (no kern.features.compat_freebsd12, kern.features.compat_freebsd13): its binaries may fail with "Bad system call"',
    ]);
    fakes.reset();
    fakes.kernel('14.1-RELEASE', ['compat_freebsd11', 'compat_freebsd12', 'compat_freebsd13']);
    expect(String((await jail(['head', '--', '/bin/true'])).stderr)).toBe('');
  });

  it('a command killed by a signal: one line, 128 + the signal', async () => {
    const result = await jail(['head', '--', '/bin/sh', '-c', 'kill -KILL $$']);
    expect(result.exitCode).toBe(137);
    expect(lines(result.stderr)).toEqual(['be: jail head: /bin/sh -c kill -KILL $$ killed by SIGKILL']);
    expect(fakes.jailExists('head')).toBe(false);
  });
});
