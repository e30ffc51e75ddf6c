/**
 * What the native datagram path gives DHCP, on the wire: the server's namespace is on two LANs (eth0 and
 * eth1, each on its own bridge) and has no route but the two connected ones, as an isolated
 * provisioning network has. udhcpc plays the clients. On this path a broadcast OFFER leaves by the
 * interface its DISCOVER came in on, requests from a LAN that is not served are ignored, and a
 * dhcp.pools entry with `interface` serves the second LAN directly, as its own server. The node:dgram
 * path is run beside it where it differs: it cannot broadcast without a route.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beMain } from '../cli/be.js';
import { Lan } from '../lan/netns.js';
import { needPeers } from '../lan/peers.js';
import { serveBe, type RunningBe } from '../lan/serve.js';
import { nativeDatagrams } from '../../services/net/datagram.js';
import { makeClient, recorderScript, records } from './dhcp/lan.js';

const peers = needPeers('DHCP on the native datagram path', ['ip', 'udhcpc'], { root: true });
const native = nativeDatagrams();

describe.skipIf(peers.skip)('DHCP on two LANs with only connected routes', () => {
  const dir = join(tmpdir(), `be-dhcp-native-${process.pid}`);
  let a: Lan;
  let b: Lan;
  let running: RunningBe | undefined;

  beforeAll(() => {
    if (!('module' in native) && process.env.CI === 'true') throw new Error(`the native datagram path must load under CI: ${native.error}`);
    mkdirSync(dir, { recursive: true });
    a = Lan.create({ hosts: ['server', 'pc1'], subnet: '10.93.0' });
    b = Lan.create({ hosts: ['pc2'], subnet: '10.92.0' });
    a.join(b, 'server', '10.92.0.254');
    // Nothing but the connected /24s: no default route, no route for 255.255.255.255.
    execFileSync('ip', ['-n', a.host('server').ns, 'route', 'del', '255.255.255.255', 'dev', 'eth0']);
    makeClient(a, 'pc1', '52:54:00:be:17:01');
    makeClient(b, 'pc2', '52:54:00:be:17:02');
  });

  afterAll(async () => {
    await running?.stop();
    a?.close();
    b?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const base = (name: string) => [
    ...['--set', 'dhcp.mode=authoritative', '--set', 'dhcp.interface=eth0', '--set', 'dhcp.range=10.93.0.100-10.93.0.120'],
    ...['--set', `dhcp.leaseFile=${join(dir, `${name}.leases`)}`, '--set', `server.stateDir=${join(dir, name)}`, '--set', 'log.level=debug'],
    ...['--set', 'dhcp.bootUnknown=true'],
  ];

  async function serve(name: string, settings: string[]): Promise<RunningBe> {
    await running?.stop();
    running = await serveBe(a, 'server', { settings: [...base(name), ...settings], only: 'dhcp', ready: [/"msg":"dhcp listening"/] });
    return running;
  }

  /** udhcpc on a LAN's host, as PXE firmware asks; its bound event (ip, serverid, siaddr, boot_file), or undefined. */
  async function lease(lan: Lan, host: string, tries = 3): Promise<Record<string, string> | undefined> {
    const script = recorderScript(
      dir,
      `${host}-${Date.now()}.sh`,
      'echo "event reason=$1 ip=$ip serverid=$serverid siaddr=$siaddr boot_file=$boot_file" >> "$0.out"',
    );
    await lan.run(host, ['udhcpc', '-i', 'eth0', '-n', '-q', '-f', '-s', script, '-t', String(tries), '-T', '1', '-V', 'PXEClient:Arch:00000:UNDI:002001']);
    return records(`${script}.out`).find((r) => r.reason === 'bound');
  }

  it('has the isolated routing table the tests rely on', async () => {
    const routes = (await a.run('server', ['ip', '-4', 'route', 'show', 'table', 'all'])).stdout;
    expect(routes).not.toMatch(/^default|255\.255\.255\.255 dev/m);
    expect(routes).toMatch(/10\.93\.0\.0\/24 dev eth0/);
    expect(routes).toMatch(/10\.92\.0\.0\/24 dev eth1/);
  });

  it.skipIf(!('module' in native))('answers by the arrival interface: a broadcast OFFER needs no route', async () => {
    const be = await serve('native', ['--set', 'dhcp.datagrams=native']);
    expect(be.out.lines.some((l) => l.includes('"msg":"dhcp: native datagram path'))).toBe(true);
    expect(await lease(a, 'pc1')).toMatchObject({ ip: expect.stringMatching(/^10\.93\.0\.1(0\d|1\d|20)$/), serverid: '10.93.0.1' });
  });

  it.skipIf(!('module' in native))('ignores requests from a LAN it does not serve, even though its socket hears them', async () => {
    const be = await serve('ignore', ['--set', 'dhcp.datagrams=native']);
    expect(await lease(b, 'pc2', 2)).toBeUndefined();
    await be.out.next(/another LAN's/);
  });

  it('the node:dgram path cannot broadcast there: the OFFER fails with no route, which is why the native path exists', async () => {
    const be = await serve('node', ['--set', 'dhcp.datagrams=node']);
    expect(be.out.lines.some((l) => l.includes('"msg":"dhcp: node:dgram datagram path'))).toBe(true);
    expect(await lease(a, 'pc1', 2)).toBeUndefined();
    await be.out.next(/"msg":"dhcp socket error".*ENETUNREACH|ENETUNREACH.*"msg":"dhcp socket error"/);
  });

  it.skipIf(!('module' in native))('serves the second LAN by its interface (dhcp.pools[].interface), as its own server', async () => {
    await serve('two', ['--set', 'dhcp.datagrams=native', '--set', 'dhcp.pools=[{subnet: 10.92.0.0/24, range: 10.92.0.100-10.92.0.120, interface: eth1}]']);
    const [first, second] = await Promise.all([lease(a, 'pc1'), lease(b, 'pc2')]);
    expect(first).toMatchObject({ ip: expect.stringMatching(/^10\.93\.0\./), serverid: '10.93.0.1', siaddr: '10.93.0.1', boot_file: 'boot/pxeboot' });
    expect(second).toMatchObject({
      ip: expect.stringMatching(/^10\.92\.0\.1[0-2]\d$/),
      serverid: '10.92.0.254',
      siaddr: '10.92.0.254',
      boot_file: 'boot/pxeboot',
    });
  });

  it('refuses a pool by interface on the node:dgram path, in one line, before it binds anything', async () => {
    await running?.stop();
    running = undefined;
    const result = await a.run('server', [
      ...['node', beMain, ...base('refused'), '--set', 'dhcp.datagrams=node'],
      ...['--set', 'dhcp.pools=[{subnet: 10.92.0.0/24, range: 10.92.0.100-10.92.0.120, interface: eth1}]', 'serve', '--only', 'dhcp'],
    ]);
    expect(result.exitCode).not.toBe(0);
    expect(String(result.stderr).trim().split('\n')).toEqual([
      'be: dhcp.pools[0].interface eth1: serving a network by its interface needs the native datagram path, and this one is node (dhcp.datagrams is node)',
    ]);
  });
});
