/**
 * The boot-environment commands on the `dir` backend (no ZFS needed), and the exports reconciler in
 * `be serve`. ZFS and NFS with real peers: test/interop/be-nfs.test.ts.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { LineWatcher } from '../lan/lines.js';
import { eventually } from '../interop/dhcp/lan.js';
import { be } from './be.js';

const dir = mkdtempSync(join(tmpdir(), 'be-cli-envs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const envs = join(dir, 'envs');
const exportsFile = join(dir, 'exports');
const counter = join(dir, 'reloads');
const base = [
  '--set',
  `be.root=${envs}`,
  '--set',
  `server.stateDir=${join(dir, 'state')}`,
  '--set',
  `nfs.exportsFile=${exportsFile}`,
  '--set',
  `nfs.reload=[sh, -c, "echo reload >> ${counter}"]`,
];
const net = ['--set', 'nfs.network=10.99.0.0/24'];
const reloads = () => (existsSync(counter) ? readFileSync(counter, 'utf8').split('\n').filter(Boolean).length : 0);

async function run(args: string[], extra: string[] = []) {
  const r = await be([...args, ...base, ...extra], { stripFinalNewline: false });
  return { code: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
}

// Each command is a Node process of its own; on a loaded machine a dozen of them take a while.
describe('be commands on the dir backend', { timeout: 240_000 }, () => {
  it('create, list, and the one-line refusals', async () => {
    expect(await run(['list'])).toEqual({ code: 0, stdout: `no boot environments in ${envs}\n`, stderr: '' });
    expect(await run(['create', 'head'])).toEqual({ code: 0, stdout: `created ${envs}/head (1 dataset)\n`, stderr: '' });
    expect(await run(['create', 'stable'])).toMatchObject({ code: 0 });
    expect(await run(['create', '-l', 'freebsd', 'nested'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'be: be.backend dir has no nested datasets: use -l flat (or be.backend zfs for -l freebsd)\n',
    });
    expect(await run(['create', '-l', 'deep', 'x'])).toMatchObject({
      code: 2,
      stderr: "error: option '-l, --layout <layout>' argument 'deep' is invalid. expected freebsd (nested datasets) or flat (one dataset)\n",
    });
    expect(await run(['create', '../escape'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^be: "\.\.\/escape" is not a boot environment name/) });
    // Over HTTP /api/..., /metrics and /boot/... are the appliance's own paths (src/http/route.ts).
    for (const name of ['api', 'metrics', 'boot'])
      expect(await run(['create', name])).toEqual({
        code: 2,
        stdout: '',
        stderr: `be: ${name} is reserved (api, metrics, boot: paths of the HTTP service): choose another name\n`,
      });
    expect(await run(['mount', 'nope'])).toEqual({ code: 2, stdout: '', stderr: `be: no boot environment named nope in ${envs} (known: head, stable)\n` });
    const list = JSON.parse(
      (await run(['list', '--json'], ['--set', 'hosts.0.name=vm1', '--set', 'hosts.0.mac=02:00:00:00:00:01', '--set', 'hosts.0.be=head'])).stdout,
    );
    expect(list).toEqual([
      {
        name: 'head',
        source: `${envs}/head`,
        shared: false,
        pxe: false,
        hosts: ['vm1'],
        mountedAt: `${envs}/head`,
        release: null,
        arch: null,
        datasets: [{ name: `${envs}/head`, guestPath: '/', path: `${envs}/head`, canmount: 'on' }],
      },
      {
        name: 'stable',
        source: `${envs}/stable`,
        shared: false,
        pxe: false,
        hosts: [],
        mountedAt: `${envs}/stable`,
        release: null,
        arch: null,
        datasets: [{ name: `${envs}/stable`, guestPath: '/', path: `${envs}/stable`, canmount: 'on' }],
      },
    ]);
  });

  it('sharenfs writes the managed file and reloads; refusals change nothing', async () => {
    expect(await run(['sharenfs', 'head'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^be: nfs\.network is not set/) });
    expect(await run(['sharenfs', 'head'], ['--set', 'nfs.network=0.0.0.0/0'])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/would give root .* to every address: refused/),
    });
    expect(existsSync(exportsFile)).toBe(false);
    expect(JSON.parse((await run(['list', '--json'])).stdout)[0].shared).toBe(false);

    expect(await run(['sharenfs', 'head'], net)).toEqual({ code: 0, stdout: `head shared: ${exportsFile} rewritten, NFS server reloaded\n`, stderr: '' });
    expect(readFileSync(exportsFile, 'utf8')).toContain(`\n${envs}/head -maproot=root -network 10.99.0.0 -mask 255.255.255.0\n`);
    expect(reloads()).toBe(1);
    expect(await run(['sharenfs', 'head'], net)).toMatchObject({ code: 0, stdout: `head shared: ${exportsFile} unchanged\n` });
    expect(reloads()).toBe(1);

    const linux = await run(['exports', '--format', 'linux'], net);
    expect(linux.stdout).toContain(`\n${envs}/head 10.99.0.0/24(rw,no_root_squash,no_subtree_check,sync)\n`);
    expect((await run(['exports', '--format', 'ganesha'], net)).stdout).toContain(`\tPath = "${envs}/head";\n`);
    expect(await run(['destroy', 'head'], net)).toMatchObject({ code: 2, stderr: 'be: head is shared over NFS: be unsharenfs head first (or -f)\n' });
    expect(await run(['unsharenfs', 'head'], net)).toMatchObject({ code: 0, stdout: `head no longer shared: ${exportsFile} rewritten, NFS server reloaded\n` });
    expect(readFileSync(exportsFile, 'utf8')).not.toContain('/head');
    expect(await run(['unsharenfs', 'head'], net)).toMatchObject({ code: 2, stderr: 'be: head is not shared\n' });
    expect(await run(['destroy', 'stable'])).toEqual({ code: 0, stdout: 'stable destroyed\n', stderr: '' });
    expect(existsSync(join(envs, 'stable'))).toBe(false);
  });

  it('fstab needs a server; nfshandle fails in one line when nothing answers on loopback', async () => {
    expect(await run(['fstab', 'head'])).toMatchObject({ code: 2, stderr: 'be: no NFS server address: pass --server IP or set server.address\n' });
    // A flat BE has no nested datasets: its fstab is only the header.
    expect((await run(['fstab', 'head', '--server', '10.0.0.1'])).stdout.split('\n').filter((l) => l && !l.startsWith('#'))).toEqual([]);
    expect(await run(['nfshandle', 'relative'])).toMatchObject({ code: 2 });
    const r = await run(['nfshandle', '/ROOT/head', '--server', '127.0.0.1', '--portmap-port', '9', '--timeout', '50']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^be: portmapper GETPORT MOUNT v3\/udp to 127\.0\.0\.1:9: (connection refused \(nothing listens there\)|no reply after 4 tries in \d+ ms)\n$/,
    );
  });
});

describe('sharing before the NFS server runs (as zfs set sharenfs does)', { timeout: 240_000 }, () => {
  const pidFile = join(dir, 'mountd.pid');
  const noServer = [...net, '--set', 'nfs.reload=null', '--set', `nfs.pidFile=${pidFile}`];
  const waiting = `: ${exportsFile} is written and takes effect when the NFS server starts (service mountd onestart, or nfs_server_enable="YES" in /etc/rc.conf)\n`;

  it('sharenfs, unsharenfs and sharepxe write the file, warn in one line and exit 0; a server started later is reloaded', async () => {
    for (const be of ['early', 'pxe']) mkdirSync(join(envs, be, 'boot'), { recursive: true });
    writeFileSync(join(envs, 'pxe', 'boot', 'pxeboot'), 'stand-in loader');
    expect(await run(['sharenfs', 'early'], noServer)).toEqual({
      code: 0,
      stdout: `early shared: ${exportsFile} rewritten\n`,
      stderr: `be: warning: the NFS server is not running (no ${pidFile})${waiting}`,
    });
    expect(readFileSync(exportsFile, 'utf8')).toContain(`${envs}/early -maproot`);
    expect(await run(['sharepxe', 'pxe'], noServer)).toMatchObject({ code: 0, stderr: `be: warning: the NFS server is not running (no ${pidFile})${waiting}` });
    expect(readFileSync(exportsFile, 'utf8')).toContain(`${envs}/pxe -maproot`);

    // A stand-in mountd: it only writes its pid file and counts SIGHUPs (mountd cannot run here).
    const mountd = execa(
      'node',
      [
        '-e',
        `require('fs').writeFileSync(${JSON.stringify(pidFile)}, process.pid + '\\n'); let n = 0; process.on('SIGHUP', () => console.log('SIGHUP ' + ++n)); setInterval(() => {}, 1000);`,
      ],
      { reject: false },
    );
    try {
      const hups = new LineWatcher(mountd.stdout);
      await eventually(() => (existsSync(pidFile) ? true : undefined), 'the stand-in mountd pid file');
      expect(await run(['unsharenfs', 'early'], noServer)).toEqual({
        code: 0,
        stdout: `early no longer shared: ${exportsFile} rewritten, NFS server reloaded\n`,
        stderr: '',
      });
      await hups.next(/SIGHUP 1/);
    } finally {
      mountd.kill('SIGKILL');
      await mountd;
    }
    // The pid file outlived its process: not running either, said so with the pid.
    const stale = await run(['sharenfs', 'early'], noServer);
    expect(stale).toMatchObject({ code: 0, stdout: `early shared: ${exportsFile} rewritten\n` });
    expect(stale.stderr).toBe(`be: warning: the NFS server is not running (${pidFile} names pid ${mountd.pid}, which is gone)${waiting}`);
    for (const be of ['early', 'pxe']) await run(['unsharenfs', be], noServer);
  });

  it('a reload that fails on a running server still rolls back, with its error', async () => {
    const before = readFileSync(exportsFile, 'utf8');
    const failing = await run(['sharenfs', 'early'], [...net, '--set', 'nfs.reload=[sh, -c, "echo mountd: bad exports >&2; exit 3"]']);
    expect(failing).toMatchObject({ code: 1, stdout: '' });
    expect(failing.stderr).toMatch(/^be: sh -c .*: exit status 3: mountd: bad exports \(.*exports was left as it was\)\n$/);
    expect(readFileSync(exportsFile, 'utf8')).toBe(before);
  });
});

describe('nfs.handleCommand', { timeout: 120_000 }, () => {
  it("runs the helper with the path appended and prints its handle the kernel's way", async () => {
    // A stand-in helper: prints a 4-byte handle for /ROOT/head only.
    const helper = '[sh, -c, "test \\"$1\\" = /ROOT/head && echo Xabcd0001X", sh]';
    const ok = await run(['nfshandle', '/ROOT/head', '--server', '10.0.0.1', '--set', `nfs.handleCommand=${helper}`]);
    expect(ok).toEqual({
      code: 0,
      stdout: 'boot.nfsroot.server=10.0.0.1\nboot.nfsroot.path=/ROOT/head\nboot.nfsroot.nfshandle=Xabcd0001X\nboot.nfsroot.nfshandlelen=4\n',
      stderr: '',
    });
    const bad = await run(['nfshandle', '/ROOT/other', '--server', '10.0.0.1', '--set', `nfs.handleCommand=${helper}`]);
    expect(bad).toMatchObject({ code: 1, stderr: expect.stringMatching(/^be: sh -c .*\/ROOT\/other: exit status 1/) });
    const garbage = await run(['nfshandle', '/ROOT/head', '--set', 'nfs.handleCommand=[echo, not-a-handle]']);
    expect(garbage).toMatchObject({ code: 1, stderr: 'be: nfs.handleCommand printed "not-a-handle /ROOT/head", not a handle in hex\n' });
  });
});

describe('the exports reconciler in be serve', { timeout: 120_000 }, () => {
  it('writes the file at start, again on SIGHUP, and every nfs.reconcileInterval', async () => {
    mkdirSync(join(envs, 'served'), { recursive: true });
    await run(['sharenfs', 'served'], net);
    unlinkSync(exportsFile);
    const child = be(['serve', '--only', 'exports', ...base, ...net, '--set', 'log.level=debug', '--set', 'nfs.reconcileInterval=3600']);
    const out = new LineWatcher(child.stdout);
    try {
      await out.next(/appliance running: exports/);
      expect(readFileSync(exportsFile, 'utf8')).toContain(`${envs}/served -maproot`);
      unlinkSync(exportsFile);
      child.kill('SIGHUP');
      await out.next(/configuration reloaded/);
      expect(readFileSync(exportsFile, 'utf8')).toContain(`${envs}/served -maproot`);
    } finally {
      child.kill('SIGTERM');
      await child;
    }
    const periodic = be(['serve', '--only', 'exports', ...base, ...net, '--set', 'nfs.reconcileInterval=1']);
    const lines = new LineWatcher(periodic.stdout);
    try {
      await lines.next(/appliance running: exports/);
      unlinkSync(exportsFile);
      await lines.next(/exports rewritten, NFS server reloaded/);
      expect(readFileSync(exportsFile, 'utf8')).toContain(`${envs}/served -maproot`);
    } finally {
      periodic.kill('SIGTERM');
      expect((await periodic).exitCode).toBe(0);
    }
  });
});
