import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addSlowRelease, buildMirror, installSettings } from '../lan/mirror.js';
import { needPeers } from '../lan/peers.js';
import { waitFor } from '../lan/wait.js';
import { be, beMain } from './be.js';

const peers = needPeers('be install from a local mirror', ['tar', 'xz', 'gzip', 'split', 'sha256sum', 'mknod', 'script', 'truncate', 'pgrep'], { root: true });

describe.skipIf(peers.skip)('be install from a local mirror (dir backend)', { timeout: 120_000 }, () => {
  let dir: string;
  let mirror: string;
  let flags: string[];
  const run = async (args: string[]) => {
    const r = await be([...flags, ...args], { stripFinalNewline: false });
    return { code: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'be-install-'));
    mirror = buildMirror(join(dir, 'pub', 'FreeBSD'), join(dir, 'src'));

    flags = installSettings(dir);
  });
  afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('--list names what the mirror offers, newest first', async () => {
    expect(await run(['install', '--list', '-p', join(dir, 'pub'), '-o', 'FreeBSD'])).toEqual({
      code: 0,
      stdout: '14.1-RELEASE\n14.0-RELEASE\n13.5-RELEASE\n8.4-RELEASE\n',
      stderr: '',
    });
  });

  it('installs 14.1 (base, kernel): verified, extracted with modes and devices, recorded; a second install comes from the cache', async () => {
    expect((await run(['create', 'r141'])).code).toBe(0);
    const result = await run(['install', '-p', join(dir, 'pub'), '-o', 'FreeBSD', '-r', '14.1', '--json', 'r141']);
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary).toMatchObject({
      be: 'r141',
      release: '14.1-RELEASE',
      arch: 'amd64',
      sets: [
        { set: 'base', fromCache: false },
        { set: 'kernel', fromCache: false },
      ],
    });
    const root = join(dir, 'envs', 'r141');
    expect(readFileSync(join(root, 'boot', 'kernel', 'kernel'), 'utf8')).toBe('kernel 14.1');
    expect((statSync(join(root, 'bin', 'sh')).mode & 0o7777).toString(8)).toBe('4555');
    expect(statSync(join(root, 'dev', 'null')).isCharacterDevice()).toBe(true);
    expect(existsSync(join(root, 'usr', 'lib32'))).toBe(false);
    const listed = JSON.parse((await run(['list', '--json'])).stdout) as { name: string; release: string | null }[];
    expect(listed.find((b) => b.name === 'r141')?.release).toBe('14.1-RELEASE');

    expect((await run(['create', 'again'])).code).toBe(0);
    const second = JSON.parse(
      (await run(['install', '-p', join(dir, 'pub'), '-o', 'FreeBSD', '-r', '14.1', '--sets', 'base,kernel,lib32', '--json', 'again'])).stdout,
    );
    expect(second.sets.map((s: { set: string; fromCache: boolean }) => [s.set, s.fromCache])).toEqual([
      ['base', true],
      ['kernel', true],
      ['lib32', false],
    ]);
    expect(readFileSync(join(dir, 'envs', 'again', 'usr', 'lib32', 'libc.so.7'), 'utf8')).toBe('libc32');
  });

  it('installs 8.4 from split sets: pieces verified, joined, the kernel moved to /boot/kernel', async () => {
    expect((await run(['create', 'r84'])).code).toBe(0);
    const result = await run(['install', '-p', mirror, '-r', '8.4', 'r84']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^r84: 8\.4-RELEASE amd64 installed \(base, kernel; [\d.]+ MiB\) in [\d.]+ s\n$/);
    const root = join(dir, 'envs', 'r84');
    expect(readFileSync(join(root, 'boot', 'kernel', 'kernel'), 'utf8')).toBe('kernel 8.4');
    expect(statSync(join(root, 'big')).size).toBe(3 << 20);
    // Off a terminal: one log line per file and set on stderr, not a bar.
    expect(result.stderr).toContain('be: base: downloading base.aa');
  });

  it('-a i386, -a aarch64 and -b snapshot take their own trees (releases/i386/i386, releases/arm64/aarch64, snapshots/)', async () => {
    expect(await run(['install', '--list', '-p', mirror, '-a', 'i386'])).toMatchObject({ code: 0, stdout: '14.1-RELEASE\n' });
    expect(await run(['install', '--list', '-p', mirror, '-b', 'snapshot'])).toMatchObject({ code: 0, stdout: '15.0-CURRENT\n' });
    for (const [name, args, shell] of [
      ['r141-i386', ['-a', 'i386', '-r', '14.1'], 'the 14.1-RELEASE i386 shell'],
      ['r141-arm64', ['-a', 'aarch64', '-r', '14.1'], 'the 14.1-RELEASE aarch64 shell'],
      ['current', ['-b', 'snapshot', '-r', '15.0-CURRENT'], 'the 15.0-CURRENT amd64 shell'],
    ] as const) {
      expect((await run(['create', name])).code).toBe(0);
      const result = await run(['install', '-p', mirror, ...args, name]);
      expect(result.code, result.stderr).toBe(0);
      expect(readFileSync(join(dir, 'envs', name, 'bin', 'sh'), 'utf8')).toBe(shell);
    }
    const listed = JSON.parse((await run(['list', '--json'])).stdout) as { name: string; release: string | null; arch: string | null }[];
    const of = (name: string) => listed.find((b) => b.name === name);
    expect(of('r141-i386')).toMatchObject({ release: '14.1-RELEASE', arch: 'i386' });
    expect(of('r141-arm64')).toMatchObject({ release: '14.1-RELEASE', arch: 'arm64' });
    expect(of('current')).toMatchObject({ release: '15.0-CURRENT', arch: 'amd64' });
    // A snapshot named without -b snapshot is refused in one line, saying what to add.
    expect((await run(['install', '-p', mirror, '-r', '15.0-CURRENT', 'empty'])).stderr).toMatch(
      /^be: -r 15\.0-CURRENT: CURRENT builds are snapshots: add -b snapshot\n$/,
    );
  });

  it('on a terminal, progress is a bar per file and per set (script(1) gives it a pty)', async () => {
    expect((await run(['create', 'tty'])).code).toBe(0);
    const command = ['node', beMain, ...flags, 'install', '-p', mirror, '-r', '14.1', 'tty'].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
    const result = await execa('script', ['-qec', command, '/dev/null'], { reject: false, env: { TERM: 'xterm', COLUMNS: '120' } });
    expect(result.exitCode, String(result.stdout)).toBe(0);
    const screen = String(result.stdout);
    expect(screen).toMatch(/base base\.txz +\[[█░]+\] 100%/);
    expect(screen).toMatch(/kernel extract +\[[█░]+\] 100% \d+\/\d+ entries/);
    expect(screen).not.toContain('be: base: downloading');
  });

  it('refuses in one line, exit 2: a BE not empty, an unknown release (naming the nearest), an unknown set, older than 5.0', async () => {
    const full = await run(['install', '-p', mirror, '-r', '14.1', 'r141']);
    expect(full).toMatchObject({
      code: 2,
      stderr: `be: r141 is not empty (${join(dir, 'envs', 'r141')}): be install needs an empty boot environment, or --force\n`,
    });
    expect((await run(['create', 'empty'])).code).toBe(0);
    expect(await run(['install', '-p', mirror, '-r', '14.3', 'empty'])).toMatchObject({
      code: 2,
      stderr: `be: 14.3-RELEASE for amd64 is not on ${mirror} (nearest: 14.1-RELEASE, 14.0-RELEASE, 13.5-RELEASE)\n`,
    });
    expect(await run(['install', '-p', mirror, '-r', '14.1', '--sets', 'base,games', 'empty'])).toMatchObject({
      code: 2,
      stderr: 'be: --sets games: 14.1-RELEASE has no such set (it has: base, kernel, lib32)\n',
    });
    expect(await run(['install', '-p', mirror, '-r', '4.11', 'empty'])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^be: -r 4\.11: FreeBSD 4\.11 is older than 5\.0/),
    });
    expect(await run(['install', '-p', mirror, '-r', '14.1', 'nope'])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^be: no boot environment named nope/),
    });
    expect(readdirSync(join(dir, 'envs', 'empty'))).toEqual([]);
  });

  it('an install that fails half-way (kernel.txz is no archive) leaves the dir BE empty again and unrecorded', async () => {
    const result = await run(['install', '-p', mirror, '-r', '13.5', 'empty']);
    expect(result.code).toBe(1);
    expect(result.stderr.trimEnd().split('\n').at(-1)).toMatch(/^be: tar -xvpf .*kernel\.txz .*: /);
    expect(readdirSync(join(dir, 'envs', 'empty'))).toEqual([]);
  });

  it('a set whose checksum does not match is refused in one line, and leaves nothing in the BE or the cache', async () => {
    const result = await run(['install', '-p', mirror, '-r', '14.0', 'empty']);
    expect(result.code).toBe(1);
    // The last line is the error; the lines before it are progress (off a terminal, one a step).
    expect(result.stderr.trimEnd().split('\n').at(-1)).toMatch(new RegExp(`^be: .*base\\.txz: sha256 mismatch: expected ${'0'.repeat(64)}, got [0-9a-f]{64}$`));
    expect(readdirSync(join(dir, 'envs', 'empty'))).toEqual([]);
    const cache = join(dir, 'state', 'dist', 'amd64', 'amd64', '14.0-RELEASE');
    expect(readdirSync(cache).filter((f) => f.startsWith('base.txz'))).toEqual([]);
    const listed = JSON.parse((await run(['list', '--json'])).stdout) as { name: string; release: string | null }[];
    expect(listed.find((b) => b.name === 'empty')?.release).toBeNull();
  });

  it('SIGINT while tar extracts: tar is stopped, the dir BE is empty again and unrecorded, the verified set stays cached', async () => {
    addSlowRelease(mirror, join(dir, 'src'));
    expect((await run(['create', 'interrupted'])).code).toBe(0);
    const child = execa('node', [beMain, ...flags, 'install', '-p', mirror, '-r', '12.4', '--sets', 'base', 'interrupted'], { reject: false });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    // The progress line comes with tar's first entry, the 384 MiB file: tar is still writing it.
    await waitFor(() => stderr.includes('be: base: extracting'), 'the extraction to start', { timeoutMs: 60_000, intervalMs: 10 });
    // tar has begun the 384 MiB file (so the rollback has something to undo) and not finished the set.
    await waitFor(() => existsSync(join(join(dir, 'envs', 'interrupted'), 'a', 'zeros')), 'tar to create a/zeros', { timeoutMs: 30_000, intervalMs: 5 });
    expect(existsSync(join(dir, 'envs', 'interrupted', 'etc', 'rc'))).toBe(false);
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode).toBe(130);
    expect(stderr.trimEnd().split('\n').at(-1)).toBe('be: interrupted by SIGINT');
    expect(readdirSync(join(dir, 'envs', 'interrupted'))).toEqual([]);
    const tars = await execa('pgrep', ['-f', join(dir, 'envs', 'interrupted')], { reject: false });
    expect(tars.stdout).toBe('');
    const listed = JSON.parse((await run(['list', '--json'])).stdout) as { name: string; release: string | null }[];
    expect(listed.find((b) => b.name === 'interrupted')?.release).toBeNull();
    expect(readdirSync(join(dir, 'state', 'dist', 'amd64', 'amd64', '12.4-RELEASE'))).toContain('base.txz');
  });
});
