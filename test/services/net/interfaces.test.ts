import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InterfaceAddress } from '../../../src/net/interfaces.js';
import { CommandError } from '../../../services/os.js';
import { fromNodeInterfaces, readInterfaces } from '../../../services/net/interfaces.js';
import { needPeers } from '../../lan/peers.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));

describe('readInterfaces, in this process', () => {
  it('maps os.networkInterfaces() to the same type: IPv4 only, internal is loopback, all up and running', () => {
    const node = {
      lo: [
        { address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: true, cidr: '127.0.0.1/8' },
        {
          address: '::1',
          netmask: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
          family: 'IPv6',
          mac: '00:00:00:00:00:00',
          internal: true,
          cidr: '::1/128',
          scopeid: 0,
        },
      ],
      'eth0:1': [{ address: '10.0.0.9', netmask: '255.255.255.0', family: 'IPv4', mac: '52:54:00:be:0f:01', internal: false, cidr: '10.0.0.9/24' }],
    } satisfies ReturnType<typeof networkInterfaces>;
    expect(fromNodeInterfaces(node)).toEqual([
      { name: 'lo', address: '127.0.0.1', prefix: 8, up: true, running: true, loopback: true },
      { name: 'eth0:1', address: '10.0.0.9', prefix: 24, up: true, running: true, loopback: false },
    ]);
  });

  it('asks Node on a platform it has no tool for, and says why', async () => {
    const reasons: string[] = [];
    const list = await readInterfaces({ platform: 'darwin', onFallback: (r) => reasons.push(r) });
    expect(list).toEqual(fromNodeInterfaces(networkInterfaces()));
    expect(reasons).toEqual(['no interface lister for darwin; using os.networkInterfaces(), which leaves out interfaces without carrier']);
  });

  it('passes an abort on instead of falling back', async () => {
    const err = await readInterfaces({ platform: 'linux', signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandError);
    expect((err as CommandError).failure).toBe('aborted');
  });
});

const peers = needPeers('interface reader in a network namespace', ['ip'], { root: true });
const ns = `beifx-${process.pid}-svc`;
const deleteNamespace = () => {
  try {
    execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  } catch {
    // not made, or already gone
  }
};

interface Report {
  list: InterfaceAddress[];
  reasons: string[];
}

describe.skipIf(peers.skip)('readInterfaces, in a namespace with a bridge whose only member is an unopened tap', () => {
  let work = '';
  let bundle = '';
  const ip = (...args: string[]) => execFileSync('ip', ['-n', ns, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  /** Runs readInterfaces() inside the namespace: the test bundled with esbuild, run by this node. */
  const readInside = async (...env: string[]): Promise<Report> => {
    const r = await execa('ip', ['netns', 'exec', ns, 'env', ...env, process.execPath, bundle], { reject: false, timeout: 30_000 });
    expect(r.stderr).toBe('');
    return JSON.parse(r.stdout) as Report;
  };

  beforeAll(async () => {
    process.once('exit', deleteNamespace);
    execFileSync('ip', ['netns', 'add', ns]);
    ip('link', 'set', 'lo', 'up');
    ip('link', 'add', 'br0', 'type', 'bridge');
    ip('tuntap', 'add', 'dev', 'tap0', 'mode', 'tap');
    ip('link', 'set', 'tap0', 'master', 'br0', 'up');
    ip('addr', 'add', '10.78.0.1/24', 'dev', 'br0');
    ip('link', 'set', 'br0', 'up');
    // for contrast, a veth pair with carrier
    ip('link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0p');
    ip('addr', 'add', '10.78.1.1/24', 'dev', 'eth0');
    ip('link', 'set', 'eth0p', 'up');
    ip('link', 'set', 'eth0', 'up');
    work = mkdtempSync(join(tmpdir(), 'be-ifx-'));
    bundle = join(work, 'read.mjs');
    await build({
      stdin: {
        contents: [
          "import { readInterfaces } from './services/net/interfaces.ts';",
          'const reasons = [];',
          'const list = await readInterfaces({ onFallback: (r) => reasons.push(r) });',
          'process.stdout.write(JSON.stringify({ list, reasons }));',
        ].join('\n'),
        resolveDir: repo,
        loader: 'ts',
      },
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile: bundle,
      banner: { js: "import{createRequire}from'node:module';const require=createRequire(import.meta.url);" },
      logLevel: 'warning',
    });
    // carrier settles asynchronously (linkwatch)
    for (let i = 0; i < 50; i++) {
      const links = JSON.parse(execFileSync('ip', ['-n', ns, '-j', 'link', 'show', 'eth0'], { encoding: 'utf8' })) as { flags: string[] }[];
      if (links[0]?.flags.includes('LOWER_UP')) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });

  afterAll(() => {
    deleteNamespace();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('reports the bridge with its address, up, running=false; the veth with carrier running=true', async () => {
    const { list, reasons } = await readInside();
    expect(reasons).toEqual([]);
    expect(list).toEqual([
      { name: 'lo', address: '127.0.0.1', prefix: 8, up: true, running: true, loopback: true },
      { name: 'br0', address: '10.78.0.1', prefix: 24, up: true, running: false, loopback: false },
      { name: 'eth0', address: '10.78.1.1', prefix: 24, up: true, running: true, loopback: false },
    ]);
  });

  it('whereas os.networkInterfaces() in the same namespace leaves the bridge out', async () => {
    const script = [
      'const all = Object.entries(require("os").networkInterfaces());',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: source code for node -e, with a template of its own
      'const v4 = all.flatMap(([name, list]) => list.filter((a) => a.family === "IPv4").map((a) => `${name} ${a.cidr}`));',
      'process.stdout.write(JSON.stringify(v4));',
    ].join('\n');
    const r = await execa('ip', ['netns', 'exec', ns, process.execPath, '-e', script], { timeout: 30_000 });
    expect(JSON.parse(r.stdout)).toEqual(['lo 127.0.0.1/8', 'eth0 10.78.1.1/24']);
  });

  it('falls back to os.networkInterfaces() when ip is missing, and says so', async () => {
    const { list, reasons } = await readInside(`PATH=${join(work, 'empty')}`);
    expect(reasons).toEqual(['ip -j addr show: command not found; using os.networkInterfaces(), which leaves out interfaces without carrier']);
    expect(list).toEqual([
      { name: 'lo', address: '127.0.0.1', prefix: 8, up: true, running: true, loopback: true },
      { name: 'eth0', address: '10.78.1.1', prefix: 24, up: true, running: true, loopback: false },
    ]);
  });
});
