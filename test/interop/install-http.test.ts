/**
 * `be install` from a real HTTP mirror: Debian's nginx (autoindex, Range) serving the mirror tree of
 * test/lan/mirror.ts. The listing, the install, the cache (no second GET), a transfer cut mid-way by
 * killing the client and resumed with a 206, and an unreachable mirror refused in one line.
 */
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { be, beMain } from '../cli/be.js';
import { buildMirror, installSettings } from '../lan/mirror.js';
import { freePort, type Nginx, removeTempDir, startNginx, tempDir } from '../lan/nginx.js';
import { needPeers } from '../lan/peers.js';
import { waitFor } from '../lan/wait.js';
import { execa } from 'execa';
import { createHash } from 'node:crypto';

const peers = needPeers('be install over HTTP', ['nginx', 'tar', 'xz', 'split', 'mknod'], { root: true });

describe.skipIf(peers.skip)('be install from nginx', { timeout: 180_000 }, () => {
  let dir = '';
  let nginx: Nginx | undefined;
  let flags: string[] = [];
  const run = async (args: string[]) => {
    const r = await be([...flags, ...args], { timeout: 120_000 });
    return { code: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
  };
  const gets = (file: string) => nginx!.accessLog().filter((e) => e.method === 'GET' && e.uri.endsWith(`/${file}`));

  beforeAll(async () => {
    dir = tempDir('be-install-http');
    const www = join(dir, 'www');
    buildMirror(join(www, 'pub', 'FreeBSD'), join(dir, 'work'));
    // 14.2-RELEASE: a base.txz of several MiB for the cut transfer.
    const src = join(dir, 'work', '14.2');
    mkdirSync(join(src, 'usr', 'share'), { recursive: true });
    writeFileSync(join(src, 'usr', 'share', 'big'), randomBytes(6 << 20));
    const r142 = join(www, 'pub', 'FreeBSD', 'releases', 'amd64', 'amd64', '14.2-RELEASE');
    mkdirSync(r142, { recursive: true });
    execFileSync('tar', ['-cJf', join(r142, 'base.txz'), '-C', src, '.']);
    const hash = createHash('sha256')
      .update(readFileSync(join(r142, 'base.txz')))
      .digest('hex');
    writeFileSync(join(r142, 'MANIFEST'), `base.txz\t${hash}\t4\tbase\t"Base system (MANDATORY)"\ton\n`);
    // The same tree under /slow/, at 1 MiB/s, so a client can be killed mid-transfer.
    symlinkSync(join(www, 'pub'), join(www, 'slow'));
    nginx = await startNginx({ root: www, locations: [{ path: '/slow/', limitRate: '1m' }] });
    flags = installSettings(dir);
  }, 120_000);
  afterAll(async () => {
    await nginx?.close();
    if (dir) removeTempDir(dir);
  });

  it("--list reads nginx's listing of the mirror", async () => {
    expect(await run(['install', '--list', '-p', nginx!.url('/pub'), '-o', 'FreeBSD'])).toEqual({
      code: 0,
      stdout: '14.2-RELEASE\n14.1-RELEASE\n14.0-RELEASE\n13.5-RELEASE\n8.4-RELEASE',
      stderr: '',
    });
  });

  it('installs over HTTP; a second install of the same sets asks nginx for nothing but the index', async () => {
    for (const name of ['one', 'two']) expect((await run(['create', name])).code).toBe(0);
    const first = await run(['install', '-p', nginx!.url('/pub/FreeBSD'), '-r', '14.1', 'one']);
    expect(first.code, first.stderr).toBe(0);
    expect(readFileSync(join(dir, 'envs', 'one', 'boot', 'kernel', 'kernel'), 'utf8')).toBe('kernel 14.1');
    await waitFor(() => gets('kernel.txz').length === 1, 'nginx logging the kernel.txz GET');
    const second = JSON.parse((await run(['install', '-p', nginx!.url('/pub/FreeBSD'), '-r', '14.1', '--json', 'two'])).stdout);
    expect(second.sets.map((s: { fromCache: boolean }) => s.fromCache)).toEqual([true, true]);
    expect([gets('base.txz').length, gets('kernel.txz').length]).toEqual([1, 1]);
  });

  it('a transfer cut by killing the client resumes with a 206 on the next install', async () => {
    expect((await run(['create', 'cut'])).code).toBe(0);
    const part = join(dir, 'state', 'dist', 'amd64', 'amd64', '14.2-RELEASE', 'base.txz.part');
    const child = execa('node', [beMain, ...flags, 'install', '-p', nginx!.url('/slow/FreeBSD'), '-r', '14.2', '--sets', 'base', 'cut'], { reject: false });
    await waitFor(() => existsSync(part) && statSync(part).size > 1 << 20, 'a MiB of base.txz in the part', { timeoutMs: 30_000 });
    child.kill('SIGKILL');
    await child;
    const kept = statSync(part).size;
    expect(kept).toBeLessThan(6 << 20);
    const resumed = await run(['install', '-p', nginx!.url('/pub/FreeBSD'), '-r', '14.2', '--sets', 'base', 'cut']);
    expect(resumed.code, resumed.stderr).toBe(0);
    await waitFor(() => gets('base.txz').some((e) => e.status === 206), 'nginx logging a 206 for base.txz');
    const ranged = gets('base.txz').find((e) => e.status === 206)!;
    expect(ranged.range).toBe(`bytes=${kept}-`);
    expect(statSync(join(dir, 'envs', 'cut', 'usr', 'share', 'big')).size).toBe(6 << 20);
  });

  it('an unreachable mirror is refused in one line naming the URL, exit 2', async () => {
    const port = await freePort();
    expect((await run(['create', 'far'])).code).toBe(0);
    const result = await run(['install', '-p', `http://127.0.0.1:${port}/pub/FreeBSD`, '-r', '14.1', 'far']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      new RegExp(`^be: cannot reach http://127\\.0\\.0\\.1:${port}/pub/FreeBSD/releases/amd64/amd64/14\\.1-RELEASE/MANIFEST: .*ECONNREFUSED`),
    );
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });
});
