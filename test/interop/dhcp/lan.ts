/** Shared pieces of the DHCP interop suites: our server started in a namespace, client MACs, scripts. */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { LeaseTable, parseRecord, type Lease } from '../../../src/dhcp/leases.js';
import { LineWatcher } from '../../lan/lines.js';
import type { Lan } from '../../lan/netns.js';
import { serveBe, type RunningBe } from '../../lan/serve.js';
import { waitFor } from '../../lan/wait.js';

export type { RunningBe } from '../../lan/serve.js';

/** Starts `be serve --only dhcp` with the given YAML in a host's namespace; resolves once it listens. */
export function startBe(lan: Lan, host: string, dir: string, yaml: string, name = 'be.yaml'): Promise<RunningBe> {
  return serveBe(lan, host, { config: { file: join(dir, name), yaml }, only: 'dhcp', ready: [/"msg":"dhcp listening"/], timeoutMs: 15_000 });
}

/**
 * dnsmasq as the LAN's own DHCP server (addresses .100-.149, router .1) in a host's namespace; resolves
 * once it serves. Lan.close() ends it. (Not returning the child: an execa child is a thenable, and an
 * async function returning it would wait for dnsmasq to exit.)
 */
export async function startDnsmasq(lan: Lan, host: string, dir: string): Promise<void> {
  const subnet = lan.subnet;
  const dnsmasq = lan.spawn(host, [
    'dnsmasq',
    '--keep-in-foreground',
    '--no-daemon',
    '--no-resolv',
    '--port=0',
    '--no-ping',
    '--log-dhcp',
    `--dhcp-range=${subnet}.100,${subnet}.149,600`,
    `--dhcp-option=3,${subnet}.1`,
    `--dhcp-leasefile=${join(dir, 'dnsmasq.leases')}`,
    `--pid-file=${join(dir, 'dnsmasq.pid')}`,
    '--interface=eth0',
    '--bind-interfaces',
  ]);
  await new LineWatcher(dnsmasq.stderr).next(/DHCP, IP range/);
}

/** Gives a host's interface a fixed MAC and no address, so it is a DHCP client (the broadcast route stays). */
export function makeClient(lan: Lan, host: string, mac: string, ifname = 'eth0'): string {
  const ns = lan.host(host).ns;
  const ip = (...args: string[]) => execFileSync('ip', ['-n', ns, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  ip('link', 'set', 'eth0', 'down');
  ip('link', 'set', 'eth0', 'address', mac);
  if (ifname !== 'eth0') ip('link', 'set', 'eth0', 'name', ifname);
  ip('addr', 'flush', 'dev', ifname);
  ip('link', 'set', ifname, 'up');
  execFileSync('ip', ['-n', ns, 'route', 'replace', '255.255.255.255', 'dev', ifname]);
  return ifname;
}

/** A shell script that appends its arguments and selected environment to `out`, for udhcpc/dhclient/dhcpcd. */
export function recorderScript(dir: string, name: string, body: string): string {
  const file = join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${body}\nexit 0\n`);
  chmodSync(file, 0o755);
  return file;
}

/** Parses `KEY=value` lines written by a recorder into the list of events. */
export function records(file: string): Record<string, string>[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l.startsWith('event '))
    .map((l) =>
      Object.fromEntries(
        l
          .slice(6)
          .split(' ')
          .filter(Boolean)
          .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
      ),
    );
}

/** The lease table the journal describes (what a restarted server would know). */
export function journalTable(file: string): { table: LeaseTable; lines: string[] } {
  const table = new LeaseTable({ range: null, exclude: [] });
  const lines = readFileSync(file, 'utf8').split('\n');
  for (const line of lines) {
    const record = parseRecord(line);
    if (record) table.apply(record);
  }
  return { table, lines };
}

export function leaseOfMac(table: LeaseTable, mac: string): Lease | undefined {
  return table.leases().find((l) => l.mac === mac);
}

/** Polls `check` every 100 ms until it returns a value (not a timing assertion: a bound on waiting). */
export function eventually<T>(check: () => T | undefined, what: string, timeoutMs = 20_000): Promise<T> {
  return waitFor(check, what, { timeoutMs, intervalMs: 100 });
}
