/**
 * The test LAN: network namespaces joined by veth pairs to a bridge in a "switch" namespace, with
 * private 10.x addresses and a route for 255.255.255.255 (without it a limited broadcast fails with
 * ENETUNREACH, TESTLAB.md). Everything a LAN creates is torn down by close(), by the process-exit
 * hook if a test dies, and by the next run's global setup if the process was killed.
 * Namespaces are named `be<pid>-<n>-<host>` so a later run can tell which ones are orphans.
 */
import { execFileSync } from 'node:child_process';
import { execa, type ResultPromise } from 'execa';

export interface LanHost {
  name: string;
  /** The namespace name, for `ip netns exec`. */
  ns: string;
  ip: string;
  /** Interface name inside the host's namespace. */
  ifname: string;
}

export interface LanOptions {
  hosts: readonly string[];
  /** First three octets; hosts get .1, .2, ... in order. */
  subnet?: string;
}

let counter = 0;
const liveNamespaces = new Set<string>();
const livePids = new Set<number>();

function ip(args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function killPid(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

function deleteNamespace(ns: string): void {
  try {
    ip(['netns', 'del', ns]);
  } catch {
    // already gone
  }
  liveNamespaces.delete(ns);
}

process.once('exit', () => {
  for (const pid of livePids) killPid(pid);
  for (const ns of liveNamespaces) deleteNamespace(ns);
});

/** Deletes namespaces left behind by test processes that no longer exist. */
export function deleteOrphanNamespaces(): string[] {
  let listing = '';
  try {
    listing = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const line of listing.split('\n')) {
    const match = /^(be(\d+)-\S+)/.exec(line);
    if (!match) continue;
    const pid = Number(match[2]);
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch {
      alive = false;
    }
    if (!alive) {
      deleteNamespace(match[1]!);
      removed.push(match[1]!);
    }
  }
  return removed;
}

export class Lan {
  readonly hosts: LanHost[] = [];
  private readonly children = new Set<ResultPromise>();
  private closed = false;

  private constructor(
    readonly switchNs: string,
    readonly subnet: string,
  ) {}

  static create(options: LanOptions): Lan {
    const id = `be${process.pid}-${++counter}`;
    const subnet = options.subnet ?? '10.99.0';
    const lan = new Lan(`${id}-sw`, subnet);
    try {
      lan.addNamespace(lan.switchNs);
      ip(['-n', lan.switchNs, 'link', 'add', 'br0', 'type', 'bridge']);
      ip(['-n', lan.switchNs, 'link', 'set', 'br0', 'up']);
      options.hosts.forEach((name, index) => {
        const ns = `${id}-${name}`;
        lan.addNamespace(ns);
        const port = `p${index}`;
        ip(['link', 'add', 'eth0', 'netns', ns, 'type', 'veth', 'peer', 'name', port, 'netns', lan.switchNs]);
        ip(['-n', lan.switchNs, 'link', 'set', port, 'master', 'br0', 'up']);
        const address = `${subnet}.${index + 1}`;
        ip(['-n', ns, 'addr', 'add', `${address}/24`, 'brd', `${subnet}.255`, 'dev', 'eth0']);
        ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
        ip(['-n', ns, 'route', 'add', '255.255.255.255', 'dev', 'eth0']);
        lan.hosts.push({ name, ns, ip: address, ifname: 'eth0' });
      });
    } catch (err) {
      lan.close();
      throw err;
    }
    return lan;
  }

  private addNamespace(ns: string): void {
    ip(['netns', 'add', ns]);
    liveNamespaces.add(ns);
    ip(['-n', ns, 'link', 'set', 'lo', 'up']);
  }

  /**
   * Puts a host of this LAN on another LAN too: a second interface (`ifname`) in the host's namespace,
   * on the other LAN's bridge, with `address`/24 and no routes beyond the connected one. Gone with
   * either LAN.
   */
  join(other: Lan, host: string, address: string, ifname = 'eth1'): void {
    const ns = this.host(host).ns;
    const port = `j${++counter}`;
    ip(['link', 'add', ifname, 'netns', ns, 'type', 'veth', 'peer', 'name', port, 'netns', other.switchNs]);
    ip(['-n', other.switchNs, 'link', 'set', port, 'master', 'br0', 'up']);
    ip(['-n', ns, 'addr', 'add', `${address}/24`, 'brd', `${other.subnet}.255`, 'dev', ifname]);
    ip(['-n', ns, 'link', 'set', ifname, 'up']);
  }

  /** A tap device on the bridge, in the switch namespace, for a QEMU guest's NIC (`-netdev tap,ifname=NAME`). */
  addTap(name: string): void {
    ip(['-n', this.switchNs, 'tuntap', 'add', 'dev', name, 'mode', 'tap']);
    ip(['-n', this.switchNs, 'link', 'set', name, 'master', 'br0', 'up']);
  }

  host(name: string): LanHost {
    const host = this.hosts.find((h) => h.name === name);
    if (!host) throw new Error(`no host ${name} on this LAN`);
    return host;
  }

  /** Run a command inside a host's namespace to completion. */
  async run(host: string, argv: readonly string[], options: { timeoutMs?: number; input?: string } = {}) {
    const [file, ...args] = argv;
    return execa('ip', ['netns', 'exec', this.host(host).ns, file!, ...args], {
      reject: false,
      timeout: options.timeoutMs ?? 30_000,
      ...(options.input !== undefined ? { input: options.input } : { stdin: 'ignore' }),
    });
  }

  /** Start a long-running command in a host's namespace; close() ends it by its PID. */
  spawn(host: string, argv: readonly string[]): ResultPromise {
    return this.spawnIn(this.host(host).ns, argv);
  }

  /** End every process started with spawn() and delete every namespace. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const child of this.children) if (child.pid !== undefined) killPid(child.pid);
    for (const host of this.hosts) deleteNamespace(host.ns);
    deleteNamespace(this.switchNs);
  }

  /**
   * Start a long-running command in one of this LAN's namespaces, a host's or the switch's, by name;
   * close() ends it by its PID, as spawn() does.
   */
  spawnIn(ns: string, argv: readonly string[]): ResultPromise {
    if (ns !== this.switchNs && !this.hosts.some((h) => h.ns === ns)) throw new Error(`no namespace ${ns} on this LAN`);
    const child = execa('ip', ['netns', 'exec', ns, ...argv], { reject: false, stdin: 'ignore' });
    this.children.add(child);
    if (child.pid !== undefined) livePids.add(child.pid);
    void child.finally(() => {
      this.children.delete(child);
      if (child.pid !== undefined) livePids.delete(child.pid);
    });
    return child;
  }

  /** Start a long-running command in the switch namespace, beside the bridge and its taps (QEMU, tcpdump on br0). */
  spawnSwitch(argv: readonly string[]): ResultPromise {
    return this.spawnIn(this.switchNs, argv);
  }

  /** close(), then wait until every process it ended has exited (and let go of the files it held). */
  async closeAndWait(): Promise<void> {
    const running = [...this.children];
    this.close();
    await Promise.all(running);
  }
}
