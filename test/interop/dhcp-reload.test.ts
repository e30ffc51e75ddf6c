/**
 * Reloads while machines boot: `be bootpxe` reassigning a host must not rebind DHCP's socket (a
 * DISCOVER or REQUEST arriving during a rebind is lost), and DHCP and TFTP must always answer from the
 * same assignment, also when a reload cannot read the boot environments. perfdhcp (kea-admin) keeps
 * exchanges going; udhcpc and curl (TFTP) are the host lab1 asking for its root-path and its pxeboot.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { be } from '../cli/be.js';
import { Lan } from '../lan/netns.js';
import { needPeers } from '../lan/peers.js';
import { perfdhcpStat } from '../lan/perfdhcp.js';
import { serveBe, type RunningBe } from '../lan/serve.js';
import { makeClient, recorderScript, records } from './dhcp/lan.js';

const peers = needPeers('dhcp reloads', ['ip', 'perfdhcp', 'udhcpc', 'curl'], { root: true });

const labMac = '02:00:00:00:0a:01';

describe.skipIf(peers.skip)('reloads while clients boot', { timeout: 180_000 }, () => {
  let lan: Lan;
  let dir: string;
  let file: string;
  let serve: RunningBe | undefined;
  const yaml = (beRoot: string) => `
server: { address: 10.99.0.1, stateDir: ${dir}/state }
dhcp:
  mode: authoritative
  interface: eth0
  range: 10.99.0.100-10.99.0.250
  leaseFile: ${dir}/dhcp.leases
  leaseTime: 600
tftp: { root: ${dir}/tftp }
be: { backend: dir, root: ${beRoot} }
nfs: { network: 10.99.0.0/24, exportsFile: ${dir}/exports, reload: ["true"] }
hosts:
  - { name: lab1, mac: "${labMac}", ip: 10.99.0.50, be: a }
`;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'be-dhcp-reload-'));
    for (const name of ['a', 'b']) {
      mkdirSync(join(dir, 'envs', name, 'boot'), { recursive: true });
      writeFileSync(join(dir, 'envs', name, 'boot', 'pxeboot'), `${name} pxeboot\n`);
    }
    mkdirSync(join(dir, 'tftp'));
    file = join(dir, 'be.yaml');
    writeFileSync(file, yaml(join(dir, 'envs')));
    for (const name of ['a', 'b']) expect((await be(['-c', file, 'sharepxe', name])).exitCode).toBe(0);
    lan = Lan.create({ hosts: ['server', 'load', 'lab1'], subnet: '10.99.0' });
    makeClient(lan, 'lab1', labMac);
    serve = await serveBe(lan, 'server', { config: { file }, ready: [/"msg":"dhcp listening"/, /"msg":"appliance running/] });
  });
  afterAll(async () => {
    await serve?.stop();
    lan?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The inode of the socket bound to UDP port 67 in the server's namespace (/proc/net/udp). */
  async function dhcpSocketInode(): Promise<string> {
    const table = String((await lan.run('server', ['cat', '/proc/net/udp'])).stdout);
    const row = table.split('\n').find((l) => /^\s*\d+: [0-9A-F]{8}:0043 /.test(l));
    if (!row) throw new Error(`no socket on port 67:\n${table}`);
    return row.trim().split(/\s+/)[9]!;
  }

  /** lab1's firmware-less view: udhcpc asks for a lease and the root-path; then TFTP for boot/pxeboot from its reserved address. */
  async function labBoots(): Promise<{ ip: string; rootpath: string; pxeboot: string }> {
    const script = recorderScript(dir, 'udhcpc.sh', 'echo "event reason=$1 ip=$ip rootpath=$rootpath" >> "$0.out"');
    rmSync(`${script}.out`, { force: true });
    const result = await lan.run('lab1', ['udhcpc', '-i', 'eth0', '-n', '-q', '-f', '-s', script, '-t', '5', '-T', '1', '-O', 'rootpath', '-V', 'PXEClient']);
    const bound = records(`${script}.out`).find((r) => r.reason === 'bound');
    if (!bound) throw new Error(`udhcpc got no lease: ${String(result.stderr)}`);
    await lan.run('lab1', ['ip', 'addr', 'replace', `${bound.ip}/24`, 'dev', 'eth0']);
    const tftp = await lan.run('lab1', ['curl', '-s', '--max-time', '10', 'tftp://10.99.0.1/boot/pxeboot']);
    await lan.run('lab1', ['ip', 'addr', 'flush', 'dev', 'eth0']);
    return { ip: bound.ip!, rootpath: bound.rootpath!, pxeboot: String(tftp.stdout).trim() };
  }

  it('ten reassignments by be bootpxe during perfdhcp load: no exchange lost, the same socket, lab1 boots the last one', async () => {
    expect(await labBoots()).toEqual({ ip: '10.99.0.50', rootpath: `10.99.0.1:${dir}/envs/a`, pxeboot: 'a pxeboot' });
    const inode = await dhcpSocketInode();
    const perf = lan.spawn('load', ['perfdhcp', '-4', '-l', 'eth0', '-B', '-W', '1000000', '-r', '40', '-R', '100', '-p', '25', '10.99.0.1']);
    let perfDone = false;
    void perf.finally(() => (perfDone = true));
    await serve!.out.next(/"msg":"DHCPACK"/);
    for (let i = 0; i < 10; i++) {
      const result = await be(['-c', file, 'bootpxe', i % 2 === 0 ? 'a' : 'b', '--host', 'lab1']);
      expect(String(result.stderr)).toBe('');
      expect(String(result.stdout)).toBe(`lab1 boots ${i % 2 === 0 ? 'a' : 'b'}`);
    }
    // The reassignments happened under load, not after it.
    expect(perfDone).toBe(false);
    const text = String((await perf).stdout);
    const sent = perfdhcpStat(text, 'DISCOVER-OFFER', 'sent packets');
    expect(sent).toBeGreaterThan(500);
    expect(perfdhcpStat(text, 'DISCOVER-OFFER', 'received packets')).toBe(sent);
    expect(perfdhcpStat(text, 'REQUEST-ACK', 'received packets')).toBe(perfdhcpStat(text, 'REQUEST-ACK', 'sent packets'));
    expect(perfdhcpStat(text, 'REQUEST-ACK', 'sent packets')).toBe(sent);
    expect(serve!.out.lines.filter((l) => l.includes('"msg":"reload requested: reloading the configuration"'))).toHaveLength(10);
    // (The exports service has no sockets and restarts on every reload by design.)
    const restarted = serve!.out.lines.filter((l) => l.includes('restarting service')).map((l) => (JSON.parse(l) as { svc: string }).svc);
    expect(restarted.filter((svc) => svc !== 'exports')).toEqual([]);
    expect(await dhcpSocketInode()).toBe(inode);
    expect(await labBoots()).toEqual({ ip: '10.99.0.50', rootpath: `10.99.0.1:${dir}/envs/b`, pxeboot: 'b pxeboot' });
  });

  it('a reload that cannot read the boot environments keeps the previous assignment for DHCP and TFTP alike, until it can', async () => {
    // be.root becomes a file: the inventory cannot be read (ENOTDIR) while lab1 is reassigned to a.
    writeFileSync(join(dir, 'not-a-dir'), '');
    writeFileSync(file, yaml(join(dir, 'not-a-dir')));
    const result = await be(['-c', file, 'bootpxe', 'a', '--host', 'lab1']);
    expect(result.exitCode).toBe(0);
    expect(String(result.stderr)).toBe(
      'be: warning: be serve could not read the boot environments: hosts keep their previous boot environments until it can (it retries every 10 s; see its log)',
    );
    await serve!.out.next(/hosts keep their previous boot environments until they can be read/);
    expect(await labBoots()).toEqual({ ip: '10.99.0.50', rootpath: `10.99.0.1:${dir}/envs/b`, pxeboot: 'b pxeboot' });
    // Readable again: the next read (this reload; else the 10 s refresh) applies the new assignment to both.
    writeFileSync(file, yaml(join(dir, 'envs')));
    serve!.child.kill('SIGHUP');
    await serve!.out.next(/boot environments readable again/);
    expect(await labBoots()).toEqual({ ip: '10.99.0.50', rootpath: `10.99.0.1:${dir}/envs/a`, pxeboot: 'a pxeboot' });
  });

  it('a reservation on no network the server serves is refused whole: the running assignment stays', async () => {
    writeFileSync(file, yaml(join(dir, 'envs')).replace('ip: 10.99.0.50', 'ip: 10.50.0.5'));
    serve!.child.kill('SIGHUP');
    await serve!.out.next(/"msg":"reload refused: keeping the running configuration"/);
    const refused = serve!.out.lines.find((l) => l.includes('reload refused'))!;
    expect(JSON.parse(refused)).toMatchObject({
      svc: 'dhcp',
      err: expect.stringMatching(/^hosts\[0\]\.ip 10\.50\.0\.5 \(lab1\) is on no network this DHCP server serves \(10\.99\.0\.0\/24\)$/),
    });
    expect(await labBoots()).toEqual({ ip: '10.99.0.50', rootpath: `10.99.0.1:${dir}/envs/a`, pxeboot: 'a pxeboot' });
    expect(serve!.child.exitCode).toBeNull();
  });
});
