import { execa } from 'execa';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { configSchema, type Config } from '../../../src/config/schema.js';
import { writeAtomic, writeIfChanged } from '../../../services/atomic.js';
import { DirBackend } from '../../../services/be/dir.js';
import { updateState } from '../../../services/be/state.js';
import { createLogger } from '../../../services/log.js';
import { applyExports, reloadNfs } from '../../../services/nfs/exports.js';
import { ExportsReconciler, exportsKind } from '../../../services/nfs/service.js';

const work = mkdtempSync(join(tmpdir(), 'be-exports-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function setup(name: string, nfs: Partial<Config['nfs']> = {}) {
  const dir = join(work, name);
  const envs = join(dir, 'envs');
  for (const be of ['head', 'stable']) mkdirSync(join(envs, be), { recursive: true });
  const counter = join(dir, 'reloads');
  const config = configSchema.parse({
    server: { stateDir: join(dir, 'state') },
    be: { backend: 'dir', root: envs },
    nfs: { network: '10.99.0.0/24', exportsFile: join(dir, 'exports'), reload: ['sh', '-c', `echo reload >> ${counter}`], ...nfs },
  });
  const reloads = () => (existsSync(counter) ? readFileSync(counter, 'utf8').split('\n').filter(Boolean).length : 0);
  return { dir, envs, config, backend: new DirBackend(envs), reloads };
}

describe('exports file writer', () => {
  it('writes only when the text changes, and reloads only then', async () => {
    const { config, backend, reloads, envs } = setup('change');
    await updateState(config.server.stateDir, (s) => (s.shared = ['head']));
    const first = await applyExports(config, backend);
    expect(first).toMatchObject({ written: true, reloaded: true, problems: [] });
    expect(readFileSync(config.nfs.exportsFile, 'utf8')).toBe(`${first.text}`);
    expect(first.text).toContain(`${envs}/head -maproot=root -network 10.99.0.0 -mask 255.255.255.0\n`);
    expect(reloads()).toBe(1);
    const before = statSync(config.nfs.exportsFile);

    for (let i = 0; i < 3; i++) expect(await applyExports(config, backend)).toMatchObject({ written: false, reloaded: false });
    const after = statSync(config.nfs.exportsFile);
    expect(reloads()).toBe(1);
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);

    await updateState(config.server.stateDir, (s) => (s.shared = ['head', 'stable']));
    expect(await applyExports(config, backend)).toMatchObject({ written: true, reloaded: true });
    expect(reloads()).toBe(2);
    expect(readFileSync(config.nfs.exportsFile, 'utf8')).toContain(`${envs}/stable -maproot`);
  });

  it('puts the old file back when the reload fails, so the next run reloads again', async () => {
    const { config, backend } = setup('rollback', { reload: ['false'] });
    writeFileSync(config.nfs.exportsFile, '# the previous file\n');
    await updateState(config.server.stateDir, (s) => (s.shared = ['head']));
    await expect(applyExports(config, backend)).rejects.toThrow(/^false: exit status 1: no output \(.*exports was left as it was\)$/);
    expect(readFileSync(config.nfs.exportsFile, 'utf8')).toBe('# the previous file\n');
    const fresh = setup('rollback-none', { reload: ['false'] });
    await updateState(fresh.config.server.stateDir, (s) => (s.shared = ['head']));
    await expect(applyExports(fresh.config, fresh.backend)).rejects.toThrow(/left as it was/);
    expect(existsSync(fresh.config.nfs.exportsFile)).toBe(false);
  });

  it('reports shared BEs it cannot export instead of dropping them silently', async () => {
    const { config, backend } = setup('problems');
    await updateState(config.server.stateDir, (s) => (s.shared = ['head', 'gone']));
    const outcome = await applyExports(config, backend);
    expect(outcome.problems).toEqual(['boot environment gone is shared but no longer exists']);
    expect(outcome.text).toContain('/head -maproot');
  });

  it('default reload: SIGHUP, through kill(1), to the pid in nfs.pidFile', async () => {
    const { dir, config } = setup('sighup', { reload: null });
    const child = execa(
      'node',
      ['-e', "process.on('SIGHUP', () => { console.log('got SIGHUP'); process.exit(0); }); console.log('ready'); setInterval(() => {}, 1000);"],
      { reject: false },
    );
    try {
      await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
      const pidFile = join(dir, 'mountd.pid');
      writeFileSync(pidFile, `${child.pid}\n`);
      expect(await reloadNfs({ ...config.nfs, pidFile })).toEqual({ reloaded: true });
      const result = await child;
      expect(String(result.stdout)).toBe('ready\ngot SIGHUP');
      expect(await reloadNfs({ ...config.nfs, pidFile: join(dir, 'none.pid') })).toEqual({
        reloaded: false,
        why: `the NFS server is not running (no ${join(dir, 'none.pid')})`,
      });
      writeFileSync(pidFile, 'garbage\n');
      await expect(reloadNfs({ ...config.nfs, pidFile })).rejects.toThrow(/holds no pid/);
    } finally {
      if (child.exitCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
    }
  });

  it('a reader looping on the file during 1,000 rewrites never sees a partial file', async () => {
    const file = join(work, 'atomic-exports');
    const stop = join(work, 'atomic-stop');
    // Two versions of different sizes; a torn read would be neither.
    const a = `${'# a\n'.repeat(3000)}END\n`;
    const b = `${'/ROOT/head -maproot=root -network 10.0.0.0 -mask 255.0.0.0\n'.repeat(700)}END\n`;
    await writeAtomic(file, a);
    const reader = execa(
      'node',
      [
        '-e',
        `const fs = require('fs'); const [file, stop, a, b] = process.argv.slice(1);
         const A = fs.readFileSync(a, 'utf8'), B = fs.readFileSync(b, 'utf8');
         let reads = 0, bad = 0, sawA = 0, sawB = 0;
         console.log('ready');
         while (!fs.existsSync(stop)) { const t = fs.readFileSync(file, 'utf8'); reads++; if (t === A) sawA++; else if (t === B) sawB++; else bad++; }
         console.log(JSON.stringify({ reads, bad, sawA, sawB }));`,
        file,
        stop,
        join(work, 'version-a'),
        join(work, 'version-b'),
      ],
      { reject: false },
    );
    writeFileSync(join(work, 'version-a'), a);
    writeFileSync(join(work, 'version-b'), b);
    try {
      await new Promise<void>((resolve) => reader.stdout!.once('data', () => resolve()));
      for (let i = 0; i < 1000; i++) await writeAtomic(file, i % 2 ? a : b);
    } finally {
      writeFileSync(stop, '');
    }
    const out = JSON.parse(
      String((await reader).stdout)
        .split('\n')
        .at(-1)!,
    );
    expect(out.bad).toBe(0);
    expect(out.sawA).toBeGreaterThan(0);
    expect(out.sawB).toBeGreaterThan(0);
    expect(out.reads).toBe(out.sawA + out.sawB);
    expect(await writeIfChanged(file, a)).toBe(false);
  });
});

describe('exports reconciler (service kind "exports")', () => {
  const log = createLogger({ level: 'silent' });

  it('writes the file at start and closes idempotently; disabled without nfs.network', async () => {
    const { config, reloads } = setup('service');
    await updateState(config.server.stateDir, (s) => (s.shared = ['stable']));
    const service = new ExportsReconciler(config, log);
    await service.start();
    expect(readFileSync(config.nfs.exportsFile, 'utf8')).toContain('/stable -maproot');
    expect(reloads()).toBe(1);
    await service.reconcile();
    expect(reloads()).toBe(1);
    await service.close();
    await service.close();
    expect(exportsKind.enabled(config)).toBe(true);
    expect(exportsKind.enabled(configSchema.parse({}))).toBe(false);
    // Fresh settings on every call: the supervisor restarts it on each SIGHUP, and start() reconciles.
    expect(exportsKind.settings(config)).not.toEqual(exportsKind.settings(config));
  });

  it('with no NFS server running, a round writes the file and warns that it takes effect when the server starts', async () => {
    const { dir, config } = setup('service-no-server', { reload: null });
    const pidFile = join(dir, 'mountd.pid');
    await updateState(config.server.stateDir, (s) => (s.shared = ['head']));
    const lines: string[] = [];
    const captured = createLogger({ level: 'info', pretty: false, destination: { write: (l: string) => lines.push(l) } as unknown as NodeJS.WritableStream });
    const service = new ExportsReconciler({ ...config, nfs: { ...config.nfs, pidFile } }, captured);
    await service.start();
    await service.reconcile();
    await service.close();
    expect(readFileSync(config.nfs.exportsFile, 'utf8')).toContain('/head -maproot');
    const warnings = lines.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.level === 40);
    expect(warnings.map((l) => l.msg)).toEqual([
      `the NFS server is not running (no ${pidFile}): ${config.nfs.exportsFile} is written and takes effect when the NFS server starts (service mountd onestart, or nfs_server_enable="YES" in /etc/rc.conf)`,
    ]);
  });

  it('a failed round is logged, not thrown: the appliance keeps running', async () => {
    const { config } = setup('service-fail', { network: null });
    await updateState(config.server.stateDir, (s) => (s.shared = ['head']));
    const lines: string[] = [];
    const captured = createLogger({ level: 'info', pretty: false, destination: { write: (l: string) => lines.push(l) } as unknown as NodeJS.WritableStream });
    const service = new ExportsReconciler(config, captured);
    await service.start();
    await service.close();
    expect(lines.some((l) => /exports reconciliation failed/.test(l) && /nfs\.network is not set/.test(l))).toBe(true);
    expect(existsSync(config.nfs.exportsFile)).toBe(false);
  });
});
