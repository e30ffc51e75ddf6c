/**
 * Real DHCP clients against our server, all in network namespaces on one bridge: busybox udhcpc,
 * ISC dhclient and dhcpcd obtain leases with the configured router, DNS and lease time; a reservation
 * gets its fixed address (and, asked like FreeBSD's loader, its root-path and loader variables);
 * dhclient renews and releases; udhcpc's ARP check declines an address someone squats on.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lan } from '../lan/netns.js';
import { needPeers } from '../lan/peers.js';
import { eventually, journalTable, leaseOfMac, makeClient, recorderScript, records, startBe, type RunningBe } from './dhcp/lan.js';

const peers = needPeers('dhcp interop', ['ip', 'udhcpc', 'dhclient', 'dhcpcd'], { root: true });

/** dhcpcd keeps leases in /var/lib/dhcpcd/<ifname>.lease, shared by every namespace: a name unique to this run. */
const dhcpcdIf = `bed${process.pid % 100000}`;

const macs = {
  udhcpc: '52:54:00:be:03:01',
  dhclient: '52:54:00:be:03:02',
  dhcpcd: '52:54:00:be:03:03',
  loader: '52:54:00:be:03:05',
  decliner: '52:54:00:be:03:06',
};

describe.skipIf(peers.skip)('dhcp interop: real clients get leases from be', () => {
  let lan: Lan;
  let dir: string;
  let leaseFile: string;
  let be: RunningBe;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'be-dhcp-interop-'));
    leaseFile = join(dir, 'state', 'dhcp.leases');
    lan = Lan.create({ hosts: ['server', 'udhcpc', 'dhclient', 'dhcpcd', 'loader', 'decliner', 'squatter'], subnet: '10.99.0' });
    for (const [host, mac] of Object.entries(macs)) makeClient(lan, host, mac, host === 'dhcpcd' ? dhcpcdIf : 'eth0');
    be = await startBe(
      lan,
      'server',
      dir,
      `server: { address: 10.99.0.1 }
tftp: { enabled: false }
dhcp:
  mode: authoritative
  interface: eth0
  range: { start: 10.99.0.100, end: 10.99.0.199 }
  router: 10.99.0.1
  dns: [10.99.0.53, 10.99.0.54]
  leaseTime: 900
  leaseFile: ${leaseFile}
  # T1 of 2 s so dhclient renews within the test; the lease itself stays 900 s.
  options: { renewalTime: 2 }
hosts:
  - name: loader
    mac: ${macs.loader}
    ip: 10.99.0.50
    be: head
    rootPath: /pool/ROOT/head
    loaderEnv: { vfs.root.mountfrom: "nfs:", boot.nfsroot.options: nfsv3 }
`,
    );
  });

  afterAll(() => {
    lan?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const udhcpcScript = (name: string) =>
    recorderScript(
      dir,
      `udhcpc-${name}.sh`,
      `echo "event reason=$1 ip=$ip router=$router dns=$(echo $dns | tr ' ' ,) lease=$lease rootpath=$rootpath opt250=$opt250 opt251=$opt251" >> "$0.out"`,
    );

  it('busybox udhcpc gets an address with router, DNS and lease time', async () => {
    const script = udhcpcScript('plain');
    const result = await lan.run('udhcpc', ['udhcpc', '-i', 'eth0', '-n', '-q', '-f', '-s', script, '-t', '5', '-T', '1']);
    expect(result.exitCode, String(result.stderr)).toBe(0);
    const bound = records(`${script}.out`).find((r) => r.reason === 'bound');
    expect(bound).toMatchObject({ router: '10.99.0.1', dns: '10.99.0.53,10.99.0.54', lease: '900', rootpath: '' });
    expect(bound?.ip).toMatch(/^10\.99\.0\.1\d\d$/);
    expect(leaseOfMac(journalTable(leaseFile).table, macs.udhcpc)?.ip).toBe(bound?.ip);
  });

  it("a reserved host asking like FreeBSD's loader gets its fixed address, root-path and loader variables", async () => {
    const script = udhcpcScript('loader');
    const result = await lan.run('loader', [
      'udhcpc',
      '-i',
      'eth0',
      '-n',
      '-q',
      '-f',
      '-s',
      script,
      '-t',
      '5',
      '-T',
      '1',
      '-V',
      'PXEClient',
      '-x',
      '0x4d:0746726565425344',
      '-O',
      'rootpath',
      '-O',
      '250',
      '-O',
      '251',
    ]);
    expect(result.exitCode, String(result.stderr)).toBe(0);
    const bound = records(`${script}.out`).find((r) => r.reason === 'bound');
    const hex = (text: string) => Buffer.from(text).toString('hex');
    expect(bound).toMatchObject({
      ip: '10.99.0.50',
      rootpath: '10.99.0.1:/pool/ROOT/head',
      opt250: hex('vfs.root.mountfrom=nfs:'),
      opt251: hex('boot.nfsroot.options=nfsv3'),
    });
  });

  it('ISC dhclient gets a lease, renews it and releases it', async () => {
    const script = recorderScript(
      dir,
      'dhclient.sh',
      `echo "event reason=$reason ip=$new_ip_address router=$new_routers dns=$(echo $new_domain_name_servers | tr ' ' ,) lease=$new_dhcp_lease_time" >> "$0.out"
case "$reason" in
  BOUND|RENEW|REBIND|REBOOT) ip addr replace "$new_ip_address/24" dev "$interface" ;;
  RELEASE|EXPIRE|STOP) ip addr flush dev "$interface" ;;
esac`,
    );
    const args = ['-v', '-lf', join(dir, 'dhclient.leases'), '-pf', join(dir, 'dhclient.pid'), '-sf', script, 'eth0'];
    lan.spawn('dhclient', ['dhclient', '-1', '-d', ...args]);
    const bound = await eventually(() => records(`${script}.out`).find((r) => r.reason === 'BOUND'), 'dhclient BOUND');
    expect(bound).toMatchObject({ router: '10.99.0.1', dns: '10.99.0.53,10.99.0.54', lease: '900' });
    const renewed = await eventually(() => records(`${script}.out`).find((r) => r.reason === 'RENEW'), 'dhclient RENEW');
    expect(renewed.ip).toBe(bound.ip);
    const binds = journalTable(leaseFile).lines.filter((l) => l.includes(`"mac":"${macs.dhclient}"`) && l.includes('"op":"bind"'));
    expect(binds.length).toBeGreaterThanOrEqual(2); // the renewal extended the lease on disk
    // and it was a real RENEWING request (unicast, ciaddr set), not a new DISCOVER
    expect(be.out.lines.some((l) => l.includes(`"mac":"${macs.dhclient}"`) && l.includes('"state":"renewing"') && l.includes('"msg":"DHCPACK"'))).toBe(true);
    const release = await lan.run('dhclient', ['dhclient', '-r', ...args]);
    expect(release.exitCode, String(release.stderr)).toBe(0);
    const lease = await eventually(() => {
      const l = leaseOfMac(journalTable(leaseFile).table, macs.dhclient);
      return l?.state === 'released' ? l : undefined;
    }, 'the release in the journal');
    expect(lease.ip).toBe(bound.ip);
  });

  it('dhcpcd gets a lease with router, DNS and lease time', async () => {
    const ifname = dhcpcdIf;
    const script = recorderScript(
      dir,
      'dhcpcd.sh',
      `echo "event reason=$reason ip=$new_ip_address router=$new_routers dns=$(echo $new_domain_name_servers | tr ' ' ,) lease=$new_dhcp_lease_time" >> "$0.out"`,
    );
    try {
      const result = await lan.run('dhcpcd', ['dhcpcd', '-1', '-4', '-B', '-c', script, '--noarp', '-t', '10', ifname]);
      expect(result.exitCode, String(result.stderr)).toBe(0);
      const bound = records(`${script}.out`).find((r) => r.reason === 'BOUND');
      expect(bound).toMatchObject({ router: '10.99.0.1', dns: '10.99.0.53,10.99.0.54', lease: '900' });
      expect(leaseOfMac(journalTable(leaseFile).table, macs.dhcpcd)?.ip).toBe(bound?.ip);
    } finally {
      // dhcpcd keeps its lease under the interface name in /var/lib/dhcpcd; ours is unique to this run
      rmSync(`/var/lib/dhcpcd/${ifname}.lease`, { force: true });
    }
  });

  it('udhcpc declines an address another machine answers ARP for, and the server quarantines it', async () => {
    await lan.run('squatter', ['ip', 'addr', 'add', '10.99.0.150/24', 'dev', 'eth0']);
    const script = udhcpcScript('decline');
    // -r asks for the squatted address; -a100 checks it with ARP, -A1 retries one second after declining
    const result = await lan.run('decliner', [
      'udhcpc',
      '-i',
      'eth0',
      '-n',
      '-q',
      '-f',
      '-s',
      script,
      '-t',
      '5',
      '-T',
      '1',
      '-A',
      '1',
      '-a100',
      '-r',
      '10.99.0.150',
    ]);
    expect(result.exitCode, String(result.stderr)).toBe(0);
    expect(String(result.stderr)).toMatch(/declin/);
    const bound = records(`${script}.out`)
      .filter((r) => r.reason === 'bound')
      .at(-1);
    expect(bound?.ip).toMatch(/^10\.99\.0\.1\d\d$/);
    expect(bound?.ip).not.toBe('10.99.0.150');
    const { table, lines } = journalTable(leaseFile);
    expect(lines.some((l) => l.includes('"op":"decline","ip":"10.99.0.150"'))).toBe(true);
    expect(table.availableFor('10.99.0.150', 'someone-else', Date.now())).toBe(false);
  });
});
