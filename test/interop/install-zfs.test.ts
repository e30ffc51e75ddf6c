/**
 * `be install` on real ZFS (zfs-fuse, a pool on a sparse file): into a BE `be create -l freebsd` made,
 * mounted with its nested datasets so each file lands in its own dataset; snapshotted first and rolled
 * back when the install fails half-way, leaving no snapshot behind either way. The mirror is a local
 * directory built by test/lan/mirror.ts.
 */
import { execa } from 'execa';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZfsFuse } from '../be/zfs-fuse.js';
import { beMain, be as runBe } from '../cli/be.js';
import { addSlowRelease, buildMirror } from '../lan/mirror.js';
import { waitFor } from '../lan/wait.js';
import { needPeers } from '../lan/peers.js';

const peers = needPeers('be install on zfs-fuse', ['zfs-fuse', 'zpool', 'zfs', 'tar', 'xz', 'split', 'mknod'], { root: true });

const dir = `/tmp/be-install-zfs-${process.pid}`;
const pool = `bei${process.pid}`;
const root = `${pool}/ROOT`;
const mountDir = join(dir, 'ROOT');

describe.skipIf(peers.skip)('be install on zfs-fuse', { timeout: 180_000 }, () => {
  const zfs = new ZfsFuse(dir, pool);
  let mirror = '';
  const flags = () => [
    ...['--set', 'be.backend=zfs', '--set', `be.root=${root}`, '--set', `be.mountDir=${mountDir}`],
    ...['--set', `server.stateDir=${join(dir, 'state')}`, '--set', 'install.archive=null'],
  ];
  const be = async (args: string[]) => {
    const r = await runBe([...flags(), ...args], { timeout: 120_000 });
    return { code: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
  };
  const snapshots = async () =>
    String((await execa('zfs', ['list', '-H', '-t', 'snapshot', '-o', 'name', '-r', root], { reject: false })).stdout)
      .split('\n')
      .filter(Boolean);

  beforeAll(async () => {
    await zfs.start();
    expect((await zfs.zfs(['create', '-o', 'mountpoint=none', '-o', 'canmount=off', root])).exitCode).toBe(0);
    mkdirSync(join(dir, 'work'), { recursive: true });
    mirror = buildMirror(join(dir, 'mirror'), join(dir, 'work'));
    addSlowRelease(mirror, join(dir, 'work'));
  }, 180_000);
  afterAll(async () => {
    await zfs.stop();
  }, 120_000);

  it('installs 14.1 into the nested layout: usr/ lands in the usr dataset; no snapshot is left', async () => {
    expect((await be(['create', 'head'])).code).toBe(0);
    const result = await be(['install', '-p', mirror, '-r', '14.1', 'head']);
    expect(result.code, result.stderr).toBe(0);
    const headDir = join(mountDir, 'head');
    expect(statSync(join(headDir, 'boot', 'kernel', 'kernel')).size).toBeGreaterThan(0);
    // Each file is on the dataset it belongs to.
    expect(statSync(join(headDir, 'usr', 'bin', 'true')).dev).toBe(statSync(join(headDir, 'usr')).dev);
    expect(statSync(join(headDir, 'usr')).dev).not.toBe(statSync(headDir).dev);
    expect((statSync(join(headDir, 'bin', 'sh')).mode & 0o7777).toString(8)).toBe('4555');
    expect(await snapshots()).toEqual([]);
    const listed = JSON.parse((await be(['list', '--json'])).stdout) as { name: string; release: string | null }[];
    expect(listed.find((b) => b.name === 'head')?.release).toBe('14.1-RELEASE');
  });

  it('an install that fails half-way rolls the BE and its datasets back to the snapshot, and drops it', async () => {
    expect((await be(['create', 'half'])).code).toBe(0);
    const result = await be(['install', '-p', mirror, '-r', '13.5', 'half']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('rolling');
    const halfDir = join(mountDir, 'half');
    // base had been extracted before kernel.txz failed: nothing of it is left, in any dataset.
    expect(existsSync(join(halfDir, 'bin', 'sh'))).toBe(false);
    expect(existsSync(join(halfDir, 'usr', 'bin', 'true'))).toBe(false);
    expect(readdirSync(join(halfDir, 'usr')).filter((e) => !['home', 'ports', 'src'].includes(e))).toEqual([]);
    expect(await snapshots()).toEqual([]);
    const listed = JSON.parse((await be(['list', '--json'])).stdout) as { name: string; release: string | null }[];
    expect(listed.find((b) => b.name === 'half')?.release).toBeNull();
  });

  it('SIGINT while tar writes into the datasets rolls them back to the snapshot, drops it, exit 130', async () => {
    expect((await be(['create', 'cut'])).code).toBe(0);
    const child = execa('node', [beMain, ...flags(), 'install', '-p', mirror, '-r', '12.4', '--sets', 'base', 'cut'], { reject: false, all: true });
    let output = '';
    child.all?.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    await waitFor(() => output.includes('be: base: extracting'), 'the extraction to start', { timeoutMs: 60_000, intervalMs: 10 });
    const cutDir = join(mountDir, 'cut');
    // tar has begun the 384 MiB file (so the rollback has something to undo) and not finished the set.
    await waitFor(() => existsSync(join(cutDir, 'a', 'zeros')), 'tar to create a/zeros', { timeoutMs: 30_000, intervalMs: 5 });
    expect(existsSync(join(cutDir, 'etc', 'rc'))).toBe(false);
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode, output).toBe(130);
    expect(output).toContain('rolling');
    expect(output.trimEnd().split('\n').at(-1)).toBe('be: interrupted by SIGINT');
    expect(existsSync(join(cutDir, 'a'))).toBe(false);
    expect(await snapshots()).toEqual([]);
    const listed = JSON.parse((await be(['list', '--json'])).stdout) as { name: string; release: string | null }[];
    expect(listed.find((b) => b.name === 'cut')?.release).toBeNull();
  });

  it('a full disk (a 16 MiB quota on the BE) fails tar in one line and rolls back', async () => {
    expect((await be(['create', 'full'])).code).toBe(0);
    expect((await zfs.zfs(['set', 'quota=16M', `${root}/full`])).exitCode).toBe(0);
    const result = await be(['install', '-p', mirror, '-r', '12.4', '--sets', 'base', 'full']);
    expect(result.code).toBe(1);
    expect(result.stderr.trimEnd().split('\n').at(-1), result.stderr).toMatch(
      // zfs-fuse answers a write past the quota short, so GNU tar's first line is "Wrote only N of M bytes", not an errno.
      /^be: tar -xvpf .*base\.txz .*: (.*(quota|space)|tar: a\/zeros: Wrote only \d+ of \d+ bytes)/i,
    );
    expect(existsSync(join(mountDir, 'full', 'a', 'zeros'))).toBe(false);
    expect(await snapshots()).toEqual([]);
  });

  it('installs 8.4 from split sets into a nested BE', async () => {
    expect((await be(['create', 'old'])).code).toBe(0);
    const result = await be(['install', '-p', mirror, '-r', '8.4', 'old']);
    expect(result.code, result.stderr).toBe(0);
    const oldDir = join(mountDir, 'old');
    expect(statSync(join(oldDir, 'boot', 'kernel', 'kernel')).isFile()).toBe(true);
    expect(statSync(join(oldDir, 'usr', 'bin', 'true')).dev).toBe(statSync(join(oldDir, 'usr')).dev);
  });
});
