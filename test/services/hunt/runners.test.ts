/**
 * The three runners. The chroot runner is real: a root made of Debian's static busybox, real mounts
 * (checked in /proc/self/mounts) and real processes (checked through /proc/PID/root). The jail and
 * bhyve runners, which need FreeBSD, run against the stand-ins of ./stand-ins.ts, first on PATH.
 */
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig, parseOverride } from '../../../src/config/parse.js';
import type { Config } from '../../../src/config/schema.js';
import { bhyveRcScript, jailCreateArgv, parseJailParameter, type JailSpec } from '../../../src/jail/params.js';
import { loadState } from '../../../services/be/state.js';
import type { RunOutcome, RunRequest } from '../../../services/hunt/runner.js';
import { ChrootRunner, defaultRunnerName, runnerNamed } from '../../../services/hunt/runners.js';
import { guestFixture } from '../../cli/guest-fixture.js';
import { staticBusybox } from '../../lan/debian.js';
import { needPeers } from '../../lan/peers.js';
import { StandIns } from './stand-ins.js';

const jailSpec = (root: string, ...parameters: string[]): JailSpec => ({
  name: 'head',
  root,
  hostname: 'head',
  parameters: parameters.map(parseJailParameter),
});
const config = (...sets: string[]): Config => parseConfig({ text: '', file: 'be.yaml' }, sets.map(parseOverride));

/** Runs a request, collecting every byte of output. */
async function collect(
  run: (request: RunRequest) => Promise<RunOutcome>,
  request: Omit<RunRequest, 'onOutput'>,
): Promise<{ outcome: RunOutcome; output: string }> {
  let output = '';
  const outcome = await run({ ...request, onOutput: (chunk) => (output += chunk.toString()) });
  return { outcome, output };
}

describe('runnerNamed', () => {
  it('defaults to jail on FreeBSD and chroot elsewhere; bhyve only by name', () => {
    expect(defaultRunnerName('freebsd')).toBe('jail');
    expect(defaultRunnerName('linux')).toBe('chroot');
    expect(runnerNamed(undefined, 'freebsd').name).toBe('jail');
    expect(runnerNamed(undefined, 'linux').name).toBe('chroot');
    expect(runnerNamed('bhyve', 'linux').name).toBe('bhyve');
    expect(runnerNamed('jail', 'linux').name).toBe('jail');
    expect(() => runnerNamed('docker' as never)).toThrow('unknown runner "docker": use jail, chroot, bhyve');
  });
});

// --- chroot, for real ---------------------------------------------------------------------------

const peers = needPeers('the chroot runner (busybox root)', ['chroot', 'mount', 'umount', 'apt-get', 'dpkg'], { root: true });

/** Every mount at or below the root, from the kernel's own table. */
function mountsUnder(root: string): string[] {
  return readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '')
    .map((target) => target.replace(/\\040/g, ' '))
    .filter((target) => target === root || target.startsWith(`${root}/`));
}

/** Every process whose root directory is the chroot. */
function processesIn(root: string): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        const where = readlinkSync(`/proc/${e}/root`);
        return where === root || where.startsWith(`${root}/`);
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe.skipIf(peers.skip)('the chroot runner (real, a busybox root)', () => {
  let dir: string;
  let root: string;
  const runner = new ChrootRunner('linux');
  const request = (command: string[], timeoutMs = 20_000): Omit<RunRequest, 'onOutput'> => ({ config: config(), be: 'bb', root, command, timeoutMs });

  beforeAll(() => {
    dir = realpathSync(mkdtempSync(join(tmpdir(), 'be-chroot-')));
    root = join(dir, 'bb');
    mkdirSync(join(root, 'bin'), { recursive: true });
    copyFileSync(staticBusybox(), join(root, 'bin', 'busybox'));
    execFileSync('chmod', ['755', join(root, 'bin', 'busybox')]);
    for (const applet of ['sh', 'sleep', 'echo', 'cat', 'test', 'ls', 'grep']) symlinkSync('busybox', join(root, 'bin', applet));
  }, 120_000);

  // Whatever a failing test left: the processes first (they hold mounts busy), then every mount below the root.
  const sweep = () => {
    for (const pid of processesIn(root)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    for (const target of mountsUnder(root).reverse()) execFileSync('umount', ['-l', target], { stdio: 'ignore' });
  };
  afterEach(sweep);
  afterAll(() => {
    if (!root) return;
    sweep();
    if (mountsUnder(root).length === 0) rmSync(dir, { recursive: true, force: true });
  });

  it.each([0, 1, 125])('a command that exits %i: that status, its output streamed, dev and proc mounted only while it runs', async (status) => {
    const { outcome, output } = await collect(
      (r) => runner.run(r),
      request(['/bin/sh', '-c', `test -c /dev/null && test -r /proc/self/status && echo mounted; echo to-stderr >&2; exit ${status}`]),
    );
    expect(outcome).toEqual({ kind: 'exited', exitCode: status });
    expect(output).toBe('mounted\nto-stderr\n');
    expect(mountsUnder(root)).toEqual([]);
    expect(processesIn(root)).toEqual([]);
  });

  it('a command that sleeps past the time limit is a timeout, and leaves no mount and no process', async () => {
    const started = Date.now();
    const { outcome } = await collect((r) => runner.run(r), request(['/bin/sh', '-c', 'sleep 30 & sleep 30'], 1000));
    expect(outcome).toEqual({ kind: 'timeout' });
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(mountsUnder(root)).toEqual([]);
    expect(processesIn(root)).toEqual([]);
  });

  it('a process the command left in the background is ended before the mounts come off', async () => {
    const { outcome } = await collect((r) => runner.run(r), request(['/bin/sh', '-c', 'sleep 60 < /dev/null > /dev/null 2>&1 & exit 0']));
    expect(outcome).toEqual({ kind: 'exited', exitCode: 0 });
    expect(processesIn(root)).toEqual([]);
    expect(mountsUnder(root)).toEqual([]);
  });

  it('an abort stops the command and cleans up', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 500);
    const outcome = await runner.run({ ...request(['/bin/sleep', '30']), signal: controller.signal });
    expect(outcome).toEqual({ kind: 'failed', reason: 'aborted' });
    expect(mountsUnder(root)).toEqual([]);
    expect(processesIn(root)).toEqual([]);
  });

  it('a mount point that is mounted already is neither mounted over nor unmounted', async () => {
    mkdirSync(join(root, 'proc'), { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', join(root, 'proc')]);
    writeFileSync(join(root, 'proc', 'marker'), 'not procfs\n');
    const { outcome, output } = await collect((r) => runner.run(r), request(['/bin/sh', '-c', 'cat /proc/marker; test -c /dev/null && echo dev']));
    expect(outcome).toEqual({ kind: 'exited', exitCode: 0 });
    expect(output).toBe('not procfs\ndev\n');
    expect(mountsUnder(root)).toEqual([join(root, 'proc')]);
  });

  it('a command that is not there exits 127; jail parameters are refused', async () => {
    expect((await collect((r) => runner.run(r), request(['/bin/nonesuch']))).outcome).toEqual({ kind: 'exited', exitCode: 127 });
    expect(await runner.run({ ...request(['/bin/sh']), parameters: ['ip4=inherit'] })).toEqual({
      kind: 'failed',
      reason: 'jail(8) parameters (-o) are for the jail runner, not chroot',
    });
    expect(mountsUnder(root)).toEqual([]);
  });
});

// --- jail and bhyve, with stand-ins -----------------------------------------------------------------

describe('the jail and bhyve runners (stand-ins for FreeBSD tools)', () => {
  const fakes = new StandIns();
  const savedPath = process.env.PATH;
  beforeAll(() => {
    process.env.PATH = fakes.env.PATH;
    process.env.BE_FAKE_DIR = fakes.dir;
  });
  afterAll(() => {
    process.env.PATH = savedPath;
    delete process.env.BE_FAKE_DIR;
    fakes.remove();
  });
  beforeEach(() => fakes.reset());

  describe('jail', () => {
    const { root, remove } = guestFixture('jail-runner', {});
    afterAll(remove);
    const runner = runnerNamed('jail', 'linux');
    const request = (command: string[], extra: Partial<RunRequest> = {}): Omit<RunRequest, 'onOutput'> => ({
      config: config(),
      be: 'head',
      root,
      command,
      timeoutMs: 20_000,
      ...extra,
    });

    it('jail -c with the parameters, the command through jexec (its status and output), then jail -r and devfs off', async () => {
      const { outcome, output } = await collect((r) => runner.run(r), request(['/bin/sh', '-c', 'echo in the jail; exit 3'], { parameters: ['ip4=inherit'] }));
      expect(outcome).toEqual({ kind: 'exited', exitCode: 3 });
      expect(output).toBe('in the jail\n');
      expect(fakes.calls()).toEqual([
        'sysctl kern.osrelease kern.features',
        jailCreateArgv(jailSpec(root, 'ip4=inherit')).join(' '),
        'jexec head /bin/sh -c echo in the jail; exit 3',
        'jail -r head',
        'mount -p',
        `umount ${root}/dev`,
      ]);
      expect(fakes.mounts()).toEqual([]);
      expect(fakes.jailExists('head')).toBe(false);
    });

    it('says in one line, before running, that the kernel lacks the COMPAT_FREEBSD the userland needs', async () => {
      fakes.kernel('16.0-CURRENT', ['compat_freebsd14']);
      const { outcome, output } = await collect((r) => runner.run(r), request(['/bin/true']));
      expect(outcome).toEqual({ kind: 'exited', exitCode: 0 });
      expect(output).toBe(
        'be: warning: 14.1-RELEASE-p5 userland on a 16.0-CURRENT kernel needs options COMPAT_FREEBSD15, which this kernel lacks (no kern.features.compat_freebsd15): its binaries may fail with "Bad system call"\n',
      );
      fakes.reset();
      fakes.kernel('16.0-CURRENT', ['compat_freebsd14', 'compat_freebsd15']);
      expect((await collect((r) => runner.run(r), request(['/bin/true']))).output).toBe('');
    });

    it('a command past the time limit is a timeout, and the jail is removed all the same', async () => {
      fakes.queue('jexec', 'hang');
      const { outcome } = await collect((r) => runner.run(r), request(['/bin/sh'], { timeoutMs: 500 }));
      expect(outcome).toEqual({ kind: 'timeout' });
      expect(fakes.calls().slice(-3)).toEqual(['jail -r head', 'mount -p', `umount ${root}/dev`]);
      expect(fakes.jailExists('head')).toBe(false);
    });

    it('refuses command, exec.start and persist before running anything', async () => {
      for (const p of ['command=/bin/sh', 'exec.start=/bin/sh /etc/rc', 'persist=false']) {
        const outcome = await runner.run({ ...request(['/bin/sh']), parameters: [p] });
        expect(outcome.kind).toBe('failed');
        expect(outcome.kind === 'failed' && outcome.reason).toMatch(
          new RegExp(`^-o ${p.split('=')[0]!.replace('.', '\\.')}: refused, as bectl jail refuses it`),
        );
      }
      expect(fakes.calls()).toEqual([]);
    });

    it('a jail that cannot be made fails in one line and removes nothing', async () => {
      fakes.queue('jail', 1);
      const outcome = await runner.run(request(['/bin/true']));
      expect(outcome).toEqual({ kind: 'failed', reason: 'jail -c: exit status 1: jail: head: stand-in failure' });
      expect(fakes.calls().filter((c) => !c.startsWith('sysctl'))).toEqual([jailCreateArgv(jailSpec(root)).join(' ')]);
    });
  });

  describe('bhyve', () => {
    const fixture = guestFixture('bhyve-runner', { 'bhyve.console': '/dev/nmdm0A' });
    afterAll(fixture.remove);
    const sets: string[] = [];
    for (let i = 0; i < fixture.settings.length; i += 2) sets.push(fixture.settings[i + 1]!);
    const bhyveConfig = config(...sets);
    const runner = runnerNamed('bhyve', 'linux');
    const request = (command: string[], timeoutMs = 20_000): Omit<RunRequest, 'onOutput'> => ({
      config: bhyveConfig,
      be: 'head',
      root: fixture.root,
      command,
      timeoutMs,
    });

    it('places the rc script, boots the guest, reads back its status and log, destroys it and removes the script', async () => {
      fakes.queue('bhyve', 'guest:7');
      const { outcome, output } = await collect((r) => runner.run(r), request(['/usr/bin/kyua', 'test']));
      expect(outcome).toEqual({ kind: 'exited', exitCode: 7 });
      expect(output).toBe('guest output\n');
      expect(fakes.read('rc-script')).toBe(bhyveRcScript({ command: ['/usr/bin/kyua', 'test'] }));
      const calls = fakes.calls();
      expect(calls[0]).toBe('bhyvectl --vm=head --destroy');
      expect(calls[1]).toMatch(new RegExp(`^bhyveload -c /dev/nmdm0A -m 1024M -h ${fixture.root} .* head$`));
      expect(calls[2]).toMatch(/^bhyve -c 1 -m 1024M -H -P -A .* head$/);
      expect(calls.slice(3)).toEqual(['bhyvectl --vm=head --destroy']);
      expect(existsSync(join(fixture.root, 'etc', 'rc.d', 'be_run'))).toBe(false);
      expect(existsSync(join(fixture.root, '.be-run'))).toBe(false);
      // Shared for the guest, unshared after: it was not shared before.
      expect((await loadState(join(fixture.dir, 'state'))).shared).toEqual([]);
    });

    it('a guest that does not power off within the time limit is destroyed, and that is a timeout', async () => {
      fakes.queue('bhyve', 'hang');
      const { outcome } = await collect((r) => runner.run(r), request(['/bin/sh'], 1500));
      expect(outcome).toEqual({ kind: 'timeout' });
      expect(fakes.calls().at(-1)).toBe('bhyvectl --vm=head --destroy');
      expect(existsSync(join(fixture.root, 'etc', 'rc.d', 'be_run'))).toBe(false);
    });

    it('a guest that ends without writing its status fails in one line', async () => {
      fakes.queue('bhyve', 3);
      const outcome = await runner.run(request(['/bin/true']));
      expect(outcome).toEqual({ kind: 'failed', reason: 'guest head ended (triple-fault, status 3, 1 boot(s)) without writing /.be-run/status' });
      expect(fakes.calls().at(-1)).toBe('bhyvectl --vm=head --destroy');
    });
  });
});
