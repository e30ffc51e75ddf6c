/**
 * The DHCP server (RFC 2131): its options, sockets and lifecycle, the pools and hosts, and the dispatch of
 * each datagram to the handler of its mode: authoritative.ts (the §4.3 state machine) or proxy.ts (PXE
 * proxyDHCP). Replies are built, addressed and sent by replies.ts; boot decisions come from the pure
 * policy (src/dhcp/policy.ts), address choice from the lease table (src/dhcp/leases.ts), durability from
 * the journal. A malformed datagram is logged (hex at debug) and dropped; nothing a client sends can stop
 * the server.
 */
import { requestInfo, type RequestInfo } from '../../src/dhcp/info.js';
import { LeaseTable } from '../../src/dhcp/leases.js';
import { bytesToHex, encodeValue, optionByName, OptionValueError } from '../../src/dhcp/options.js';
import { BOOTREQUEST, DhcpDecodeError, type DhcpOption, type DhcpPacket, decodePacket, describePacket, messageTypeName } from '../../src/dhcp/packet.js';
import { tableRows, type LeaseRow } from '../../src/dhcp/report.js';
import { decideBoot, type BootEnvironment, type PolicySettings } from '../../src/dhcp/policy.js';
import { BeError } from '../../src/errors.js';
import { ipv4ToInt } from '../../src/net.js';
import type { Logger } from '../log.js';
import type { PoolReport } from '../metrics.js';
import { interfaceIndex, openDatagrams, type Arrival, type DatagramSocket, type DatagramsMode, type Sender } from '../net/datagram.js';
import { AuthoritativeHandler } from './authoritative.js';
import type { BootAck, DhcpHost, HandlerContext, Outcome, Pool, PoolSpec, RequestHandler, RequestLog, ServerStats } from './handler.js';
import { Journal } from './journal.js';
import { inSubnet, type Subnet } from './network.js';
import { ProxyHandler } from './proxy.js';
import { Replies, type Sockets } from './replies.js';

export type { BootAck, DhcpHost, PoolSpec, ServerStats } from './handler.js';

export interface DhcpServerOptions {
  mode: 'authoritative' | 'proxy';
  /** Bind address (0.0.0.0: every interface, needed to receive broadcasts). */
  bindAddress: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** proxyDHCP's PXE port (4011); null: none. */
  proxyPort: number | null;
  /** Where replies to clients go (68). */
  clientPort: number;
  /** Where replies to relays go (67, RFC 2131 §4.1). */
  relayPort: number;
  /** Replies that must be broadcast go here (255.255.255.255; tests on loopback change it). */
  broadcastAddress: string;
  /** Our address: option 54, siaddr. */
  serverAddress: string;
  /** The pool of the directly attached network (requests with giaddr 0). */
  subnet: Subnet;
  range: { start: string; end: string } | null;
  router: string | null;
  dns: readonly string[];
  /** More networks (dhcp.pools): behind DHCP relays, chosen by giaddr, or on interfaces of ours (`direct`), chosen by arrival. */
  relayPools?: readonly PoolSpec[];
  /** Seconds. */
  leaseTime: number;
  declineTime: number;
  /** dhcp.options: extra options by table name. */
  extraOptions: Readonly<Record<string, unknown>>;
  hosts: readonly DhcpHost[];
  /** The boot environment of hosts not in hosts[] (dhcp.defaultBe), used when policy.bootUnknown. */
  defaultEnv: BootEnvironment | undefined;
  policy: PolicySettings;
  /** The lease journal; null keeps leases in memory only (proxy mode has none). */
  leaseFile: string | null;
  /** Called for every ACK that carries boot information. */
  onBootAck?: (ack: BootAck) => void;
  /**
   * Called once per datagram received: its message type (discover, request, ...; malformed, bootp)
   * and its outcome (offer, ack, nak: the reply sent; ignored: none was due; dropped: unusable or failed).
   */
  onPacket?: (type: string, outcome: string) => void;
  /** dhcp.datagrams: the native datagram path (arrival interfaces, replies by interface) or node:dgram. */
  datagrams?: DatagramsMode;
  /**
   * The interface of the directly attached network (dhcp.interface, or the one holding server.address).
   * On the native path, a request that did not come through a relay and arrived on another interface
   * is not ours (a multi-homed machine hears its other LANs too) and is ignored.
   */
  servedInterface?: string;
  log: Logger;
  now?: () => number;
}

type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error';

/**
 * A request's logger: a child (mac, xid) made only when a line is actually written. Most requests log
 * nothing at the default level, and a pino child, or even a closure per level, for each of thousands of
 * requests a second showed in profiles: this is one small object, its methods on the prototype.
 */
class RequestLogger implements RequestLog {
  private child: Logger | undefined;

  constructor(
    private readonly parent: Logger,
    private readonly xid: number,
    private readonly mac: string | undefined,
  ) {}

  private write(level: Level, args: unknown[]): void {
    if (!this.parent.isLevelEnabled(level)) return;
    this.child ??= this.parent.child({ mac: this.mac, xid: `0x${this.xid.toString(16)}` });
    (this.child[level] as (...a: unknown[]) => void)(...args);
  }

  trace(...args: unknown[]): void {
    this.write('trace', args);
  }
  debug(...args: unknown[]): void {
    this.write('debug', args);
  }
  info(...args: unknown[]): void {
    this.write('info', args);
  }
  warn(...args: unknown[]): void {
    this.write('warn', args);
  }
  error(...args: unknown[]): void {
    this.write('error', args);
  }
}

function ignoreOutcome(): void {}

function outcomeName(reply: Outcome): string {
  return reply === undefined ? 'ignored' : countedType(reply);
}

/** A message type as the packets-by-outcome counter names it (discover, offer, ...), made once per type. */
const countedTypes = new Map<number, string>();
function countedType(type: number): string {
  let name = countedTypes.get(type);
  if (name === undefined) {
    name = messageTypeName(type).toLowerCase();
    countedTypes.set(type, name);
  }
  return name;
}

/**
 * udp.ts suggests a higher port for EACCES, which is no fix for DHCP: clients only ever send to 67.
 * Say what is: run as root, or let another server do DHCP.
 */
export function dhcpBindError(err: unknown): unknown {
  const code = (err as { cause?: NodeJS.ErrnoException }).cause?.code;
  if (!(err instanceof BeError) || err.code !== 'E_BIND' || (code !== 'EACCES' && code !== 'EPERM')) return err;
  const where = /cannot bind UDP (\S+):/.exec(err.message)?.[1] ?? 'port 67';
  return new BeError(
    'E_BIND',
    `dhcp: cannot bind UDP ${where}: permission denied (DHCP ports are privileged and clients only use 67): run be as root, or set dhcp.mode=off (--set dhcp.mode=off) when another server answers DHCP`,
    undefined,
    { cause: err },
  );
}

/** RFC 2132 §9.14/§9.15 defaults: T1 = 0.5 and T2 = 0.875 of the lease time. */
function timers(lease: number): { t1: number; t2: number } {
  return { t1: Math.floor(lease / 2), t2: Math.floor((lease * 7) / 8) };
}

export class DhcpServer {
  private readonly sockets: Sockets = { dhcp: undefined, proxy: undefined };
  /**
   * Where the request in hand arrived (native path), so its pool is chosen and its reply leaves by that
   * interface; kept while its handler decides (RequestHandler: synchronously). A Map with explicit deletes,
   * not a WeakMap: at 10,000 requests/s the ephemeron bookkeeping of a WeakMap cost the garbage collector
   * more than the rest of a request's allocations.
   */
  private readonly arrivals = new Map<DhcpPacket, Arrival>();
  /** The index of options.servedInterface, once bound on the native path; 0: not known. */
  private servedIfindex = 0;
  private journal: Journal | undefined;
  private readonly pools: Pool[];
  private hostsByMac = new Map<string, DhcpHost>();
  private reservedIps = new Map<string, DhcpHost>();
  private defaultEnv: BootEnvironment | undefined;
  private readonly replies: Replies;
  /** The handler of options.mode, chosen once. */
  private readonly handler: RequestHandler;
  private readonly now: () => number;
  private sweepTimer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;
  readonly stats: ServerStats = { received: 0, dropped: 0, replies: 0, naks: 0 };

  constructor(private readonly options: DhcpServerOptions) {
    this.now = options.now ?? Date.now;
    this.indexHosts(options.hosts, options.defaultEnv);
    const encode = (name: string, value: unknown): DhcpOption => {
      const spec = optionByName(name);
      if (!spec) throw new Error(`dhcp.options.${name}: no such option`);
      return { code: spec.code, data: encodeValue(spec, value) };
    };
    const { t1, t2 } = timers(options.leaseTime);
    // Encoded once: lease times (51, 58, 59), then network options (1, 28, 3, 6) with dhcp.options merged in.
    const leaseOptions = [encode('leaseTime', options.leaseTime), encode('renewalTime', t1), encode('rebindingTime', t2)];
    const extras = Object.entries(options.extraOptions).map(([name, value]) => encode(name, value));
    // dhcp.options replace a computed option of the same code (e.g. renewalTime) or come after them.
    for (const extra of extras) {
      const at = leaseOptions.findIndex((o) => o.code === extra.code);
      if (at >= 0) leaseOptions[at] = extra;
    }
    const exclude = this.excludedAddresses();
    const local: PoolSpec = { subnet: options.subnet, range: options.range, router: options.router, dns: options.dns };
    this.pools = [local, ...(options.relayPools ?? [])].map((spec): Pool => {
      const networkOptions = [encode('subnetMask', spec.subnet.netmask), encode('broadcastAddress', spec.subnet.broadcast)];
      if (spec.router) networkOptions.push(encode('router', [spec.router]));
      if (spec.dns.length > 0) networkOptions.push(encode('dns', [...spec.dns]));
      for (const extra of extras) {
        if (leaseOptions.some((o) => o === extra)) continue;
        const at = networkOptions.findIndex((o) => o.code === extra.code);
        if (at >= 0) networkOptions[at] = extra;
        else networkOptions.push(extra);
      }
      const serverAddress = spec.direct?.serverAddress ?? options.serverAddress;
      const policy = spec.direct ? { ...options.policy, serverAddress, httpBaseUrl: spec.direct.httpBaseUrl } : options.policy;
      return { ...spec, table: new LeaseTable({ range: spec.range, exclude }), networkOptions, serverAddress, policy };
    });
    const { serverAddress, clientPort, relayPort, broadcastAddress, log } = options;
    // A request straight from a client (giaddr 0) is answered by the interface it came in on.
    const viaFor = (request: DhcpPacket) => {
      const arrival = request.giaddr === '0.0.0.0' ? this.arrivals.get(request) : undefined;
      return arrival ? { ifindex: arrival.ifindex } : undefined;
    };
    this.replies = new Replies({ serverAddress, clientPort, relayPort, broadcastAddress, leaseOptions, log, viaFor }, this.sockets, this.stats);
    const context = this.handlerContext();
    this.handler = options.mode === 'proxy' ? new ProxyHandler(context) : new AuthoritativeHandler(context);
  }

  /** What the handlers see of the server: made once; hosts and the journal are read through at each request. */
  private handlerContext(): HandlerContext {
    const server = this;
    const { options } = this;
    return {
      serverAddress: options.serverAddress,
      leaseTime: options.leaseTime,
      declineTime: options.declineTime,
      stats: this.stats,
      replies: this.replies,
      get journal() {
        return server.journal;
      },
      now: this.now,
      onBootAck: options.onBootAck,
      poolFor: (packet) => {
        if (packet.giaddr !== '0.0.0.0') return this.pools.find((p) => inSubnet(packet.giaddr, p.subnet));
        const arrival = this.arrivals.get(packet);
        return (arrival && this.pools.find((p) => p.direct?.ifindex === arrival.ifindex)) || this.pools[0];
      },
      hostOf: (info) => (info.mac !== undefined ? this.hostsByMac.get(info.mac) : undefined),
      isReserved: (ip) => this.reservedIps.has(ip),
      boot: (info, host, pool) => decideBoot(info, host, host ? host.env : this.defaultEnv, pool?.policy ?? options.policy),
    };
  }

  private indexHosts(hosts: readonly DhcpHost[], defaultEnv: BootEnvironment | undefined): void {
    this.hostsByMac = new Map(hosts.map((h) => [h.mac, h]));
    this.reservedIps = new Map(hosts.filter((h) => h.ip).map((h) => [h.ip!, h]));
    this.defaultEnv = defaultEnv;
  }

  /**
   * New hosts, reservations or boot environments (a reload, be bootpxe, a BE mounted since): taken
   * between two requests, with the sockets kept, so no client's exchange is lost to a rebind.
   */
  setHosts(hosts: readonly DhcpHost[], defaultEnv: BootEnvironment | undefined): void {
    this.indexHosts(hosts, defaultEnv);
    const exclude = this.excludedAddresses();
    for (const pool of this.pools) pool.table.setExcluded(exclude);
  }

  /** Never handed out dynamically: our own addresses and the reservations. */
  private excludedAddresses(): string[] {
    const ours = (this.options.relayPools ?? []).flatMap((p) => (p.direct ? [p.direct.serverAddress] : []));
    return [this.options.serverAddress, ...ours, ...this.reservedIps.keys()];
  }

  /** The lease table of the directly attached network (tests, `be leases`). */
  get table(): LeaseTable {
    return this.pools[0]!.table;
  }

  /** Who holds `ip` now, in any pool: how TFTP tells which host a client address is. */
  holderOf(ip: string): { mac: string | undefined; host: string | undefined } | undefined {
    const now = this.now();
    for (const pool of this.pools) {
      const lease = pool.table.holderOf(ip, now);
      if (lease) return { mac: lease.mac, host: lease.host };
    }
    return undefined;
  }

  /** Every pool's leases and quarantined addresses (/api/leases). */
  leaseRows(): (LeaseRow & { pool: string })[] {
    const now = this.now();
    return this.pools.flatMap((p) => tableRows(p.table, now).map((row) => ({ ...row, pool: `${p.subnet.network}/${p.subnet.prefix}` })));
  }

  /** Each pool: its range, free addresses and leases by state (/metrics, /api/leases). */
  poolReports(): PoolReport[] {
    const now = this.now();
    return this.pools.map((p) => {
      const leases: PoolReport['leases'] = { bound: 0, expired: 0, released: 0, declined: 0 };
      for (const row of tableRows(p.table, now)) leases[row.state]++;
      return { pool: `${p.subnet.network}/${p.subnet.prefix}`, range: p.range, size: p.table.size, free: p.table.freeAddresses(now), leases };
    });
  }

  /** The pool whose network holds an address (journal replay), else the local one. */
  private poolOfIp(ip: string): Pool {
    return this.pools.find((p) => inSubnet(ip, p.subnet)) ?? this.pools[0]!;
  }

  /** Replays the journal, then binds the sockets; undoes what it opened on failure. */
  async start(): Promise<void> {
    try {
      if (this.options.leaseFile !== null) {
        this.journal = await Journal.open(
          {
            file: this.options.leaseFile,
            log: this.options.log,
            snapshot: () => this.pools.flatMap((p) => p.table.snapshot(this.now())),
            liveRecords: () => this.pools.reduce((n, p) => n + p.table.liveRecords, 0),
          },
          (record) => this.poolOfIp(record.ip).table.apply(record),
        );
      }
      const socket = await this.open(this.options.port, false, 'dhcp', 'dhcp.port');
      this.sockets.dhcp = socket;
      if (socket.path === 'native' && this.options.servedInterface) this.servedIfindex = interfaceIndex(this.options.servedInterface);
      if (this.options.mode === 'proxy' && this.options.proxyPort !== null) {
        this.sockets.proxy = await this.open(this.options.proxyPort, true, 'dhcp (proxyDHCP boot server port)', 'dhcp.proxyPort');
      }
    } catch (err) {
      await this.close();
      throw dhcpBindError(err);
    }
    this.sweepTimer = setInterval(() => {
      for (const p of this.pools) p.table.sweepOffers(this.now());
    }, 10_000);
    this.sweepTimer.unref();
    this.options.log.info(
      {
        mode: this.options.mode,
        port: this.port,
        proxyPort: this.sockets.proxy?.address().port,
        server: this.options.serverAddress,
        subnet: `${this.options.subnet.network}/${this.options.subnet.prefix}`,
        range: this.options.range,
        relayPools: this.pools.length - 1,
        leases: this.pools.reduce((n, p) => n + p.table.leases().length, 0),
        datagrams: this.sockets.dhcp!.path,
      },
      'dhcp listening',
    );
  }

  /** Binds one of the server's sockets (67, or proxyDHCP's 4011) and hands what it reads to onDatagram. */
  private async open(port: number, viaProxyPort: boolean, service: string, portKey: string): Promise<DatagramSocket> {
    const socket = await openDatagrams(
      {
        mode: this.options.datagrams ?? 'node',
        address: this.options.bindAddress,
        port,
        service,
        keys: { address: 'server.address', port: portKey },
        // Requests of many clients at once wait here while the journal syncs.
        ...(viaProxyPort ? {} : { recvBufferSize: 4 << 20, sendBufferSize: 1 << 20 }),
        // Replies go to giaddr, ciaddr, the broadcast address or the sender: always literals.
        literalAddressesOnly: true,
        broadcast: true,
      },
      'dhcp.datagrams',
    );
    socket.onMessage((msg, from, arrival) => this.onDatagram(msg, from, arrival, viaProxyPort));
    socket.onError((err) => this.options.log.warn({ err: err.message }, `${service} socket error`));
    return socket;
  }

  get port(): number {
    const socket = this.sockets.dhcp;
    if (!socket) throw new Error('dhcp server not started');
    return socket.address().port;
  }

  get proxyPort(): number | undefined {
    return this.sockets.proxy?.address().port;
  }

  /** fsyncs done by the journal (benchmarks). */
  get syncs(): number {
    return this.journal?.syncs ?? 0;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.sweepTimer) clearInterval(this.sweepTimer);
      this.replies.flush();
      for (const socket of [this.sockets.dhcp, this.sockets.proxy]) await socket?.close();
      this.sockets.dhcp = undefined;
      this.sockets.proxy = undefined;
      await this.journal?.close();
    })();
    return this.closing;
  }

  private onDatagram(msg: Buffer, sender: Sender, arrival: Arrival | undefined, viaProxyPort: boolean): void {
    this.stats.received++;
    // Only log lines use the sender's text, and most requests write none.
    const from = (): string => `${sender.address}:${sender.port}`;
    const count = this.options.onPacket ?? ignoreOutcome;
    let packet: DhcpPacket;
    let info: RequestInfo;
    try {
      packet = decodePacket(msg);
      if (packet.op !== BOOTREQUEST) {
        this.drop(from, 'not a BOOTREQUEST');
        count('bootreply', 'dropped');
        return;
      }
      info = requestInfo(packet);
    } catch (err) {
      this.stats.dropped++;
      count('malformed', 'dropped');
      if (err instanceof DhcpDecodeError || err instanceof OptionValueError) {
        this.options.log.debug({ from: from(), err: err.message, hex: bytesToHex(msg) }, 'malformed DHCP datagram dropped');
        return;
      }
      this.options.log.error({ from: from(), err: (err as Error).message }, 'DHCP datagram handling failed');
      return;
    }
    if (info.messageType === undefined) {
      this.drop(from, 'BOOTP request (no option 53): not served');
      count('bootp', 'ignored');
      return;
    }
    const type = countedType(info.messageType);
    if (arrival) {
      if (packet.giaddr === '0.0.0.0' && this.servedIfindex !== 0 && !this.serves(arrival.ifindex)) {
        this.drop(from, `arrived on interface ${arrival.ifindex}, which this server does not serve, and not through a relay: another LAN's`);
        count(type, 'ignored');
        return;
      }
      this.arrivals.set(packet, arrival);
    }
    const log = new RequestLogger(this.options.log, packet.xid, info.mac);
    if (this.options.log.isLevelEnabled('trace')) log.trace({ from: from(), packet: describePacket(packet) }, 'received');
    const failed = (err: unknown): void => {
      this.stats.dropped++;
      count(type, 'dropped');
      log.error({ from: from(), err: (err as Error).message }, 'DHCP request failed');
    };
    let outcome: Outcome | Promise<Outcome>;
    try {
      outcome = this.handler.handle(packet, info, log, sender, viaProxyPort);
    } catch (err) {
      failed(err);
      return;
    } finally {
      // The reply was addressed before handle() returned (RequestHandler): the arrival is no longer needed.
      this.arrivals.delete(packet);
    }
    if (outcome instanceof Promise) outcome.then((reply) => count(type, outcomeName(reply)), failed);
    else count(type, outcomeName(outcome));
  }

  /** Whether requests arriving by this interface are ours: the served one's, or a direct pool's. */
  private serves(ifindex: number): boolean {
    return ifindex === this.servedIfindex || this.pools.some((p) => p.direct?.ifindex === ifindex);
  }

  private drop(from: () => string, why: string): void {
    this.stats.dropped++;
    this.options.log.debug({ from: from(), why }, 'DHCP datagram ignored');
  }
}

/** For `be leases`: sorts by address. */
export function compareIp(a: string, b: string): number {
  return ipv4ToInt(a) - ipv4ToInt(b);
}
