import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildMirror, installSettings } from '../lan/mirror.js';
import { needPeers } from '../lan/peers.js';
import { be, beMain } from './be.js';

const peers = needPeers('be install from a local mirror', ['tar', 'xz', 'gzip', 'split', 'sha256sum', 'mknod', 'script'], { root: true });

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
});
