/**
 * The DHCP server (RFC 2131): sockets, the message state machine and reply addressing. Boot decisions
 * come from the pure policy (src/dhcp/policy.ts), address choice from the lease table
 * (src/dhcp/leases.ts), durability from the journal. A malformed datagram is logged (hex at debug) and
 * dropped; nothing a client sends can stop the server.
 */
import type { RemoteInfo, Socket } from 'node:dgram';
import { requestInfo, type RequestInfo } from '../../src/dhcp/info.js';
import { LeaseTable } from '../../src/dhcp/leases.js';
import { bytesToHex, encodeValue, ipToBytes, optionByName, OptionValueError } from '../../src/dhcp/options.js';
import {
  BOOTREPLY,
  BOOTREQUEST,
  DhcpDecodeError,
  type DhcpOption,
  type DhcpPacket,
  decodePacket,
  describePacket,
  encodePacket,
  FLAG_BROADCAST,
  getRaw,
  MessageType,
  messageTypeName,
  setOption,
  setRaw,
} from '../../src/dhcp/packet.js';
import { decideBoot, type BootAnswer, type BootEnvironment, type BootHost, type PolicySettings } from '../../src/dhcp/policy.js';
import { BeError } from '../../src/errors.js';
import { ipv4ToInt } from '../../src/net.js';
import type { Logger } from '../log.js';
import { bindUdp } from '../udp.js';
import { leaseKeyFor } from '../../src/dhcp/identity.js';
import { Journal } from './journal.js';
import { inSubnet, type Subnet } from './network.js';

export interface DhcpHost extends BootHost {
  mac: string;
  /** A reservation: this host always gets this address, nobody else ever does. */
  ip?: string | undefined;
  env: BootEnvironment | undefined;
}

export interface PoolSpec {
  subnet: Subnet;
  range: { start: string; end: string } | null;
  router: string | null;
  dns: readonly string[];
}

/** One network the server hands out addresses on: its table and its pre-encoded options. */
interface Pool extends PoolSpec {
  table: LeaseTable;
  networkOptions: DhcpOption[];
}

/** A client got boot information from us: a step of its network boot (src/boot/timeline.ts). */
export interface BootAck {
  kind: RequestInfo['kind'];
  mac: string | undefined;
  /** The address it was given; undefined in proxy mode, where the LAN's server gives addresses. */
  ip: string | undefined;
  host: string | undefined;
  file: string | undefined;
  rootPath: string | undefined;
}

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
  /** Pools of networks behind DHCP relays, chosen by giaddr (dhcp.pools). */
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
  log: Logger;
  now?: () => number;
}

/** The logging calls a request handler makes. */
type RequestLog = Pick<Logger, 'trace' | 'debug' | 'info' | 'warn' | 'error'>;

/**
 * A child logger (mac, xid) made only when a line is actually written: most requests log nothing at
 * the default level, and making a pino child for each of thousands of requests a second shows up in profiles.
 */
function lazyChild(parent: Logger, bindings: () => Record<string, unknown>): RequestLog {
  let child: Logger | undefined;
  const get = () => (child ??= parent.child(bindings()));
  const level = (name: 'trace' | 'debug' | 'info' | 'warn' | 'error') =>
    ((...args: unknown[]) => {
      if (parent.isLevelEnabled(name)) (get()[name] as (...a: unknown[]) => void)(...args);
    }) as Logger['info'];
  return { trace: level('trace'), debug: level('debug'), info: level('info'), warn: level('warn'), error: level('error') };
}

/**
 * udp.ts suggests a higher port for EACCES, which is no fix for DHCP: clients only ever send to 67.
 * Say what is: run as root, or let another server do DHCP.
 */
export function dhcpBindError(err: unknown): unknown {
  const code = ((err as { cause?: NodeJS.ErrnoException }).cause ?? {}).code;
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

const PXE_VENDOR_OPTIONS = Uint8Array.of(
  6, 1, 8, // PXE_DISCOVERY_CONTROL: bit 3, boot from the file name in this offer without boot server discovery
  255,
);

export interface ServerStats {
  received: number;
  dropped: number;
  replies: number;
  naks: number;
}

export class DhcpServer {
  private socket: Socket | undefined;
  private proxySocket: Socket | undefined;
  private journal: Journal | undefined;
  private readonly pools: Pool[];
  private hostsByMac = new Map<string, DhcpHost>();
  private reservedIps = new Map<string, DhcpHost>();
  private defaultEnv: BootEnvironment | undefined;
  /** Encoded once: lease times (51, 58, 59), then network options (1, 28, 3, 6) with dhcp.options merged in. */
  private readonly leaseOptions: DhcpOption[];
  private readonly serverIdOption: Uint8Array;
  private readonly now: () => number;
  private sweepTimer: NodeJS.Timeout | undefined;
  private exhaustedWarnedAt = -Infinity;
  private exhaustedSuppressed = 0;
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
    this.leaseOptions = [encode('leaseTime', options.leaseTime), encode('renewalTime', t1), encode('rebindingTime', t2)];
    const extras = Object.entries(options.extraOptions).map(([name, value]) => encode(name, value));
    // dhcp.options replace a computed option of the same code (e.g. renewalTime) or come after them.
    for (const extra of extras) {
      const at = this.leaseOptions.findIndex((o) => o.code === extra.code);
      if (at >= 0) this.leaseOptions[at] = extra;
    }
    const exclude = [options.serverAddress, ...this.reservedIps.keys()];
    const local: PoolSpec = { subnet: options.subnet, range: options.range, router: options.router, dns: options.dns };
    this.pools = [local, ...(options.relayPools ?? [])].map((spec) => {
      const networkOptions = [encode('subnetMask', spec.subnet.netmask), encode('broadcastAddress', spec.subnet.broadcast)];
      if (spec.router) networkOptions.push(encode('router', [spec.router]));
      if (spec.dns.length > 0) networkOptions.push(encode('dns', [...spec.dns]));
      for (const extra of extras) {
        if (this.leaseOptions.some((o) => o === extra)) continue;
        const at = networkOptions.findIndex((o) => o.code === extra.code);
        if (at >= 0) networkOptions[at] = extra;
        else networkOptions.push(extra);
      }
      return { ...spec, table: new LeaseTable({ range: spec.range, exclude }), networkOptions };
    });
    this.serverIdOption = ipToBytes(options.serverAddress);
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
    const exclude = [this.options.serverAddress, ...this.reservedIps.keys()];
    for (const pool of this.pools) pool.table.setExcluded(exclude);
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

  /** The pool a request belongs to: by giaddr when relayed, else the local one; undefined: not ours. */
  private poolFor(packet: DhcpPacket): Pool | undefined {
    if (packet.giaddr === '0.0.0.0') return this.pools[0];
    return this.pools.find((p) => inSubnet(packet.giaddr, p.subnet));
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
      this.socket = await bindUdp({
        address: this.options.bindAddress,
        port: this.options.port,
        service: 'dhcp',
        keys: { address: 'server.address', port: 'dhcp.port' },
        recvBufferSize: 4 << 20,
        sendBufferSize: 1 << 20,
        // Replies go to giaddr, ciaddr, the broadcast address or the sender: always literals.
        literalAddressesOnly: true,
      });
      this.socket.setBroadcast(true);
      this.socket.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo, false));
      this.socket.on('error', (err) => this.options.log.warn({ err: err.message }, 'dhcp socket error'));
      if (this.options.mode === 'proxy' && this.options.proxyPort !== null) {
        this.proxySocket = await bindUdp({
          address: this.options.bindAddress,
          port: this.options.proxyPort,
          service: 'dhcp (proxyDHCP boot server port)',
          keys: { address: 'server.address', port: 'dhcp.proxyPort' },
          literalAddressesOnly: true,
        });
        this.proxySocket.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo, true));
        this.proxySocket.on('error', (err) => this.options.log.warn({ err: err.message }, 'proxyDHCP socket error'));
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
        proxyPort: this.proxySocket?.address().port,
        server: this.options.serverAddress,
        subnet: `${this.options.subnet.network}/${this.options.subnet.prefix}`,
        range: this.options.range,
        relayPools: this.pools.length - 1,
        leases: this.pools.reduce((n, p) => n + p.table.leases().length, 0),
      },
      'dhcp listening',
    );
  }

  get port(): number {
    if (!this.socket) throw new Error('dhcp server not started');
    return this.socket.address().port;
  }

  get proxyPort(): number | undefined {
    return this.proxySocket?.address().port;
  }

  /** fsyncs done by the journal (benchmarks). */
  get syncs(): number {
    return this.journal?.syncs ?? 0;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.sweepTimer) clearInterval(this.sweepTimer);
      if (this.outboxFlush) clearImmediate(this.outboxFlush);
      this.flushOutbox();
      for (const socket of [this.socket, this.proxySocket]) {
        if (!socket) continue;
        await new Promise<void>((resolve) => {
          try {
            socket.close(() => resolve());
          } catch {
            resolve();
          }
        });
      }
      this.socket = undefined;
      this.proxySocket = undefined;
      await this.journal?.close();
    })();
    return this.closing;
  }

  private onDatagram(msg: Buffer, rinfo: RemoteInfo, viaProxyPort: boolean): void {
    this.stats.received++;
    const from = `${rinfo.address}:${rinfo.port}`;
    let packet: DhcpPacket;
    let info: RequestInfo;
    try {
      packet = decodePacket(msg);
      if (packet.op !== BOOTREQUEST) return this.drop(from, 'not a BOOTREQUEST');
      info = requestInfo(packet);
    } catch (err) {
      if (err instanceof DhcpDecodeError || err instanceof OptionValueError) {
        this.stats.dropped++;
        this.options.log.debug({ from, err: err.message, hex: bytesToHex(msg) }, 'malformed DHCP datagram dropped');
        return;
      }
      this.stats.dropped++;
      this.options.log.error({ from, err: (err as Error).message }, 'DHCP datagram handling failed');
      return;
    }
    if (info.messageType === undefined) return this.drop(from, 'BOOTP request (no option 53): not served');
    const log = lazyChild(this.options.log, () => ({ mac: info.mac, xid: `0x${packet.xid.toString(16)}` }));
    if (this.options.log.isLevelEnabled('trace')) log.trace({ from, packet: describePacket(packet) }, 'received');
    const handled =
      this.options.mode === 'proxy' ? this.handleProxy(packet, info, rinfo, viaProxyPort, log) : this.handleAuthoritative(packet, info, log);
    handled.catch((err: unknown) => {
      this.stats.dropped++;
      log.error({ from, err: (err as Error).message }, 'DHCP request failed');
    });
  }

  private drop(from: string, why: string): void {
    this.stats.dropped++;
    this.options.log.debug({ from, why }, 'DHCP datagram ignored');
  }

  private hostOf(info: RequestInfo): DhcpHost | undefined {
    return info.mac !== undefined ? this.hostsByMac.get(info.mac) : undefined;
  }

  private boot(info: RequestInfo, host: DhcpHost | undefined): BootAnswer {
    return decideBoot(info, host, host ? host.env : this.defaultEnv, this.options.policy);
  }

  // ---- authoritative mode ----

  private async handleAuthoritative(packet: DhcpPacket, info: RequestInfo, log: RequestLog): Promise<void> {
    const pool = this.poolFor(packet);
    if (!pool) {
      log.debug({ giaddr: packet.giaddr }, 'relayed from a network we have no pool for: ignored');
      return;
    }
    const table = pool.table;
    const host = this.hostOf(info);
    const now = this.now();
    // One machine, several voices (firmware with option 61, a FreeBSD loader without): src/dhcp/identity.ts.
    const client = leaseKeyFor(table, info, now, host?.ip);
    if (client !== info.clientKey) {
      log.debug({ client: info.clientKey, as: client }, 'same MAC, one side without option 61: one client (its lease is taken over)');
      info = { ...info, clientKey: client };
    }
    switch (info.messageType) {
      case MessageType.DISCOVER: {
        const ip = this.chooseAddress(pool, info, host, now);
        if (ip === undefined) {
          if (host?.ip) this.warnReservationRefused(pool, host, info, now, log);
          else this.warnExhausted(pool, log);
          return;
        }
        table.offer(info.clientKey, ip, now);
        const boot = this.boot(info, host);
        log.debug({ ip, host: host?.name, boot: boot.reason }, 'DHCPOFFER');
        this.send(this.reply(packet, info, MessageType.OFFER, ip, boot, true, pool), packet);
        return;
      }
      case MessageType.REQUEST:
        return this.onRequest(pool, packet, info, host, now, log);
      case MessageType.DECLINE: {
        if (info.serverId !== this.options.serverAddress || info.requestedAddress === undefined) return;
        const ip = info.requestedAddress;
        const lease = table.holderOf(ip, now) ?? table.leaseOf(info.clientKey);
        if (lease && lease.client !== info.clientKey) return;
        const record = { op: 'decline', ip, until: Math.ceil((now + this.options.declineTime * 1000) / 1000) } as const;
        // In memory first, so the very next DISCOVER already avoids it; no reply waits on the disk here.
        table.apply(record);
        await this.journal?.append(record);
        log.warn({ ip, seconds: this.options.declineTime }, 'DHCPDECLINE: address in use by someone else; quarantined');
        return;
      }
      case MessageType.RELEASE: {
        const lease = table.leaseOf(info.clientKey);
        if (!lease || lease.ip !== packet.ciaddr || lease.state !== 'bound') return;
        const record = { op: 'release', ip: lease.ip, client: info.clientKey } as const;
        table.apply(record);
        await this.journal?.append(record);
        log.info({ ip: lease.ip }, 'DHCPRELEASE');
        return;
      }
      case MessageType.INFORM: {
        // RFC 2131 §4.3.5: configuration without an address or lease time, sent to ciaddr.
        const boot = this.boot(info, host);
        log.info({ ciaddr: packet.ciaddr, boot: boot.reason }, 'DHCPACK (INFORM)');
        this.send(this.reply(packet, info, MessageType.ACK, '0.0.0.0', boot, false, pool), packet);
        return;
      }
      default:
        log.debug({ type: messageTypeName(info.messageType) }, 'message type not served');
    }
  }

  /** The address a client should get: its reservation, else the lease table's choice. */
  private chooseAddress(pool: Pool, info: RequestInfo, host: DhcpHost | undefined, now: number): string | undefined {
    if (host?.ip) return inSubnet(host.ip, pool.subnet) && pool.table.availableFor(host.ip, info.clientKey, now, true) ? host.ip : undefined;
    const requested = info.requestedAddress;
    return pool.table.allocate(info.clientKey, requested !== undefined && this.reservedIps.has(requested) ? undefined : requested, now);
  }

  /** Whether `ip` may be bound to this client now. */
  private acceptable(pool: Pool, ip: string, info: RequestInfo, host: DhcpHost | undefined, now: number): boolean {
    if (host?.ip) return ip === host.ip && inSubnet(ip, pool.subnet) && pool.table.availableFor(ip, info.clientKey, now, true);
    if (this.reservedIps.has(ip)) return false;
    return pool.table.availableFor(ip, info.clientKey, now);
  }

  /** RFC 2131 §4.3.2: SELECTING, INIT-REBOOT, RENEWING and REBINDING. */
  private async onRequest(pool: Pool, packet: DhcpPacket, info: RequestInfo, host: DhcpHost | undefined, now: number, log: RequestLog): Promise<void> {
    const ours = this.options.serverAddress;
    const table = pool.table;
    let state: string;
    let ip: string;
    if (info.serverId !== undefined) {
      state = 'selecting';
      if (info.serverId !== ours) {
        // The client took another server's offer: forget ours, silently.
        table.clearOffer(info.clientKey);
        log.debug({ server: info.serverId }, 'client chose another server');
        return;
      }
      const requested = info.requestedAddress ?? (packet.ciaddr !== '0.0.0.0' ? packet.ciaddr : undefined);
      if (requested === undefined) return this.nak(packet, info, 'REQUEST without requested address', log);
      ip = requested;
    } else if (info.requestedAddress !== undefined && packet.ciaddr === '0.0.0.0') {
      state = 'init-reboot';
      ip = info.requestedAddress;
      // §4.3.2: NAK an address on the wrong network; with no record of the client, stay silent unless the address is free.
      if (!inSubnet(ip, pool.subnet)) return this.nak(packet, info, `requested ${ip} is not on this network`, log);
      const known = table.leaseOf(info.clientKey);
      if (known && known.ip !== ip && !host?.ip) return this.nak(packet, info, `client's lease is ${known.ip}, not ${ip}`, log);
    } else if (packet.ciaddr !== '0.0.0.0') {
      state = 'renewing';
      ip = packet.ciaddr;
      if (!inSubnet(ip, pool.subnet)) {
        log.debug({ ciaddr: ip }, 'renewal for an address on another network: not ours, silent');
        return;
      }
    } else {
      log.debug('REQUEST with neither server id, requested address nor ciaddr: ignored');
      return;
    }
    if (!this.acceptable(pool, ip, info, host, now)) {
      if (state === 'init-reboot' && !table.leaseOf(info.clientKey) && !table.holderOf(ip, now) && !host?.ip && !table.inRange(ip)) {
        log.debug({ ip }, 'INIT-REBOOT for an address outside our pool and no record: silent (RFC 2131 §4.3.2)');
        return;
      }
      return this.nak(packet, info, `${ip} is not available to this client`, log);
    }
    const expires = Math.floor(now / 1000) + this.options.leaseTime;
    const record = { op: 'bind', ip, client: info.clientKey, mac: info.mac, host: host?.name, expires } as const;
    table.apply(record);
    if (this.journal) await this.journal.append(record);
    const boot = this.boot(info, host);
    log.info({ ip, state, host: host?.name, boot: boot.reason }, 'DHCPACK');
    this.send(this.reply(packet, info, MessageType.ACK, ip, boot, true, pool), packet);
    // A renewal is a running system keeping its address, not a step of a boot.
    if (boot.boot && state !== 'renewing') this.options.onBootAck?.({ kind: info.kind, mac: info.mac, ip, host: host?.name, file: boot.file, rootPath: boot.rootPath });
  }

  private nak(packet: DhcpPacket, info: RequestInfo, why: string, log: RequestLog): void {
    log.info({ why }, 'DHCPNAK');
    this.stats.naks++;
    const reply = this.baseReply(packet, MessageType.NAK);
    setOption(reply, 'message', why);
    this.finishReply(reply, packet, info);
    if (packet.giaddr !== '0.0.0.0') reply.flags |= FLAG_BROADCAST; // §4.3.2: the relay must broadcast a NAK
    this.send(reply, packet, true);
  }

  /** Why a host did not get its reservation: never "pool exhausted", which sends the reader the wrong way. */
  private warnReservationRefused(pool: Pool, host: DhcpHost, info: RequestInfo, now: number, log: RequestLog): void {
    const ip = host.ip!;
    if (!inSubnet(ip, pool.subnet)) {
      log.warn({ ip, host: host.name, giaddr: info.relay?.giaddr }, `reserved address ${ip} of ${host.name} is not on the network this request came from: no offer`);
      return;
    }
    const holder = pool.table.holderOf(ip, now);
    if (holder) {
      log.warn({ ip, host: host.name, holder: holder.client, holderMac: holder.mac }, `reserved address ${ip} of ${host.name} is bound to another client (${holder.mac ?? holder.client}) until its lease ends: no offer`);
      return;
    }
    log.warn({ ip, host: host.name }, `reserved address ${ip} of ${host.name} is quarantined (DECLINE) or offered to another client: no offer`);
  }

  private warnExhausted(pool: Pool, log: RequestLog): void {
    const now = this.now();
    if (now - this.exhaustedWarnedAt < 60_000) {
      this.exhaustedSuppressed++;
      return;
    }
    log.warn({ range: pool.range, suppressed: this.exhaustedSuppressed }, 'address pool exhausted: no offer made (warned at most once a minute)');
    this.exhaustedWarnedAt = now;
    this.exhaustedSuppressed = 0;
  }

  // ---- proxy mode (PXE spec proxyDHCP) ----

  private async handleProxy(packet: DhcpPacket, info: RequestInfo, rinfo: RemoteInfo, viaProxyPort: boolean, log: RequestLog): Promise<void> {
    // Only PXE clients; an ordinary client is the LAN's DHCP server's business.
    if (info.kind === 'plain') return;
    const type = info.messageType;
    if (!viaProxyPort) {
      // On 67: OFFER to a DISCOVER; ACK a REQUEST only when it names us. A REQUEST for the real server's
      // address (or an INIT-REBOOT naming nobody) is the real server's: an ACK with no address would confuse the client.
      if (type === MessageType.REQUEST && info.serverId !== this.options.serverAddress) return;
      if (type !== MessageType.DISCOVER && type !== MessageType.REQUEST) return;
    } else if (type !== MessageType.REQUEST && type !== MessageType.INFORM) {
      return;
    }
    const host = this.hostOf(info);
    const boot = this.boot(info, host);
    if (!boot.boot) {
      log.debug({ why: boot.reason }, 'proxyDHCP: no boot information for this client: silent');
      return;
    }
    const replyType = type === MessageType.DISCOVER ? MessageType.OFFER : MessageType.ACK;
    const reply = this.reply(packet, info, replyType, '0.0.0.0', boot, false, undefined);
    if (boot.vendorClass === 'PXEClient' && !getRaw(reply, 43)) setRaw(reply, 43, PXE_VENDOR_OPTIONS);
    log.info({ host: host?.name, boot: boot.reason, port: viaProxyPort ? 'pxe' : 'dhcp' }, `proxyDHCP ${messageTypeName(replyType)}`);
    if (replyType === MessageType.ACK) {
      this.options.onBootAck?.({ kind: info.kind, mac: info.mac, ip: undefined, host: host?.name, file: boot.file, rootPath: boot.rootPath });
    }
    if (viaProxyPort) {
      // PXE spec: the boot server answers the client where it asked from (it has an address by now).
      if (this.proxySocket) this.sendTo(reply, packet, rinfo.address, rinfo.port, this.proxySocket);
    } else {
      this.send(reply, packet);
    }
  }

  // ---- replies ----

  private baseReply(request: DhcpPacket, type: number): DhcpPacket {
    const reply: DhcpPacket = {
      op: BOOTREPLY,
      htype: request.htype,
      hlen: request.hlen,
      hops: 0,
      xid: request.xid,
      secs: 0,
      flags: request.flags,
      ciaddr: '0.0.0.0',
      yiaddr: '0.0.0.0',
      siaddr: '0.0.0.0',
      giaddr: request.giaddr,
      chaddr: request.chaddr,
      sname: '',
      file: '',
      options: [],
    };
    reply.options.push({ code: 53, data: Uint8Array.of(type) }, { code: 54, data: this.serverIdOption });
    return reply;
  }

  /** Echoes what must be echoed: client id (RFC 6842), relay agent info last (RFC 3046 §2.2). */
  private finishReply(reply: DhcpPacket, request: DhcpPacket, info: RequestInfo): void {
    const clientId = getRaw(request, 61);
    if (clientId) setRaw(reply, 61, clientId);
    if (info.relay?.agentInfo) setRaw(reply, 82, info.relay.agentInfo);
  }

  private reply(request: DhcpPacket, info: RequestInfo, type: number, yiaddr: string, boot: BootAnswer, withLease: boolean, pool: Pool | undefined): DhcpPacket {
    const reply = this.baseReply(request, type);
    reply.yiaddr = yiaddr;
    if (type === MessageType.ACK && request.ciaddr !== '0.0.0.0') reply.ciaddr = request.ciaddr;
    if (withLease) reply.options.push(...this.leaseOptions);
    if (pool) reply.options.push(...pool.networkOptions);
    if (boot.boot) {
      if (boot.vendorClass) setOption(reply, 'vendorClass', boot.vendorClass);
      if (boot.nextServer) {
        // siaddr, sname and option 66 all name the same server (firmware reads one or the other)
        reply.siaddr = boot.nextServer;
        reply.sname = boot.nextServer;
        setOption(reply, 'tftpServer', boot.nextServer);
      }
      if (boot.file) {
        // The file field holds 128 bytes; a longer name (an HTTP URL) goes in option 67 only.
        if (new TextEncoder().encode(boot.file).length < 128) reply.file = boot.file;
        setOption(reply, 'bootFile', boot.file);
      }
      if (boot.rootPath) setOption(reply, 'rootPath', boot.rootPath);
      for (const o of boot.loaderOptions) setRaw(reply, o.code, new TextEncoder().encode(o.text));
      const uuid = getRaw(request, 97);
      if (uuid && boot.vendorClass) setRaw(reply, 97, uuid);
    }
    this.finishReply(reply, request, info);
    return reply;
  }

  /** RFC 2131 §4.1 reply addressing. */
  private send(reply: DhcpPacket, request: DhcpPacket, isNak = false): void {
    let address: string;
    let port = this.options.clientPort;
    if (request.giaddr !== '0.0.0.0') {
      address = request.giaddr;
      port = this.options.relayPort;
    } else if (isNak) {
      address = this.options.broadcastAddress;
    } else if (request.ciaddr !== '0.0.0.0') {
      address = request.ciaddr;
    } else {
      // Broadcast flag set, or a client with no address yet. Unicasting to yiaddr would need an ARP
      // entry made from chaddr, which Node cannot write, so we broadcast (RFC 2131 allows it).
      address = this.options.broadcastAddress;
    }
    if (this.socket) this.sendTo(reply, request, address, port, this.socket);
    // else: closed while this request waited for the journal; the client will retry
  }

  private sendTo(reply: DhcpPacket, request: DhcpPacket, address: string, port: number, socket: Socket): void {
    let bytes: Uint8Array;
    try {
      const max = getRaw(request, 57);
      const maxLength = max && max.length === 2 ? ((max[0]! << 8) | max[1]!) - 28 : undefined; // minus IP and UDP headers
      bytes = encodePacket(reply, maxLength !== undefined ? { maxLength: Math.min(maxLength, 1472) } : {});
    } catch (err) {
      this.options.log.error({ err: (err as Error).message }, 'reply does not encode: not sent');
      return;
    }
    this.stats.replies++;
    this.outbox.push({ bytes, port, address, socket });
    this.outboxFlush ??= setImmediate(this.flushOutbox);
  }

  /**
   * Replies wait for the end of the event loop's turn and then leave back to back. Sent one by one
   * between the handling of the requests read in the same turn, each reply found its receiver asleep
   * again and paid for waking it (an inter-processor interrupt, dear on a VM): with perfdhcp as the
   * receiver that cost 0.1-0.3 % more drops at 5,000 exchanges/s and about 5 % more CPU.
   */
  private outbox: { bytes: Uint8Array; port: number; address: string; socket: Socket }[] = [];
  private outboxFlush: NodeJS.Immediate | undefined;

  private readonly flushOutbox = (): void => {
    this.outboxFlush = undefined;
    const out = this.outbox;
    this.outbox = [];
    // No callback: a send error is emitted as the socket's 'error' event, which start() logs.
    for (const reply of out) {
      try {
        reply.socket.send(reply.bytes, reply.port, reply.address);
      } catch (err) {
        // The socket closed since (shutdown): the client will retry.
        this.options.log.debug({ err: (err as Error).message }, 'reply not sent');
      }
    }
  };
}

/** For `be leases`: sorts by address. */
export function compareIp(a: string, b: string): number {
  return ipv4ToInt(a) - ipv4ToInt(b);
}
