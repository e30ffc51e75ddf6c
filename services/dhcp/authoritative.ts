/**
 * Authoritative mode: the RFC 2131 §4.3 message state machine. Addresses come from the pools' lease
 * tables (src/dhcp/leases.ts); a binding is in memory and in the journal before its ACK leaves; who a
 * client is, is src/dhcp/identity.ts's rule.
 */
import { leaseKeyFor } from '../../src/dhcp/identity.js';
import type { RequestInfo } from '../../src/dhcp/info.js';
import { type DhcpPacket, FLAG_BROADCAST, MessageType, messageTypeName, setOption } from '../../src/dhcp/packet.js';
import type { BootAck, DhcpHost, HandlerContext, Outcome, Pool, RequestHandler, RequestLog } from './handler.js';
import type { LeaseRecord } from '../../src/dhcp/leases.js';
import { inSubnet } from './network.js';

const noReply = (): Outcome => undefined;

export class AuthoritativeHandler implements RequestHandler {
  private exhaustedWarnedAt = -Infinity;
  private exhaustedSuppressed = 0;

  constructor(private readonly ctx: HandlerContext) {}

  handle(packet: DhcpPacket, info: RequestInfo, log: RequestLog): Outcome | Promise<Outcome> {
    const ctx = this.ctx;
    const pool = ctx.poolFor(packet);
    if (!pool) {
      log.debug({ giaddr: packet.giaddr }, 'relayed from a network we have no pool for: ignored');
      return;
    }
    const ours = pool.serverAddress;
    const table = pool.table;
    const host = ctx.hostOf(info);
    const now = ctx.now();
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
        const boot = ctx.boot(info, host, pool);
        log.debug({ ip, host: host?.name, boot: boot.reason }, 'DHCPOFFER');
        return ctx.replies.send(ctx.replies.build(packet, info, MessageType.OFFER, ip, boot, true, pool), packet) ? MessageType.OFFER : undefined;
      }
      case MessageType.REQUEST:
        return this.onRequest(pool, packet, info, host, now, log);
      case MessageType.DECLINE: {
        if (info.serverId !== ours || info.requestedAddress === undefined) return;
        const ip = info.requestedAddress;
        const lease = table.holderOf(ip, now) ?? table.leaseOf(info.clientKey);
        if (lease && lease.client !== info.clientKey) return;
        const record = { op: 'decline', ip, until: Math.ceil((now + ctx.declineTime * 1000) / 1000) } as const;
        // In memory first, so the very next DISCOVER already avoids it; no reply waits on the disk here.
        table.apply(record);
        log.warn({ ip, seconds: ctx.declineTime }, 'DHCPDECLINE: address in use by someone else; quarantined');
        return this.durable(record);
      }
      case MessageType.RELEASE: {
        const lease = table.leaseOf(info.clientKey);
        if (!lease || lease.ip !== packet.ciaddr || lease.state !== 'bound') return;
        const record = { op: 'release', ip: lease.ip, client: info.clientKey } as const;
        table.apply(record);
        log.info({ ip: lease.ip }, 'DHCPRELEASE');
        return this.durable(record);
      }
      case MessageType.INFORM: {
        // RFC 2131 §4.3.5: configuration without an address or lease time, sent to ciaddr.
        const boot = ctx.boot(info, host, pool);
        log.info({ ciaddr: packet.ciaddr, boot: boot.reason }, 'DHCPACK (INFORM)');
        return ctx.replies.send(ctx.replies.build(packet, info, MessageType.ACK, '0.0.0.0', boot, false, pool), packet) ? MessageType.ACK : undefined;
      }
      default:
        log.debug({ type: messageTypeName(info.messageType) }, 'message type not served');
        return undefined;
    }
  }

  /** A change no reply waits for, on disk (or kept in memory only, without a journal). */
  private durable(record: LeaseRecord): Outcome | Promise<Outcome> {
    return this.ctx.journal?.append(record).then(noReply);
  }

  /** The address a client should get: its reservation, else the lease table's choice. */
  private chooseAddress(pool: Pool, info: RequestInfo, host: DhcpHost | undefined, now: number): string | undefined {
    if (host?.ip) return inSubnet(host.ip, pool.subnet) && pool.table.availableFor(host.ip, info.clientKey, now, true) ? host.ip : undefined;
    const requested = info.requestedAddress;
    return pool.table.allocate(info.clientKey, requested !== undefined && this.ctx.isReserved(requested) ? undefined : requested, now);
  }

  /** Whether `ip` may be bound to this client now. */
  private acceptable(pool: Pool, ip: string, info: RequestInfo, host: DhcpHost | undefined, now: number): boolean {
    if (host?.ip) return ip === host.ip && inSubnet(ip, pool.subnet) && pool.table.availableFor(ip, info.clientKey, now, true);
    if (this.ctx.isReserved(ip)) return false;
    return pool.table.availableFor(ip, info.clientKey, now);
  }

  /** RFC 2131 §4.3.2: SELECTING, INIT-REBOOT, RENEWING and REBINDING. */
  private onRequest(pool: Pool, packet: DhcpPacket, info: RequestInfo, host: DhcpHost | undefined, now: number, log: RequestLog): Outcome | Promise<Outcome> {
    const ctx = this.ctx;
    const ours = pool.serverAddress;
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
      if (requested === undefined) return this.nak(pool, packet, info, 'REQUEST without requested address', log);
      ip = requested;
    } else if (info.requestedAddress !== undefined && packet.ciaddr === '0.0.0.0') {
      state = 'init-reboot';
      ip = info.requestedAddress;
      // §4.3.2: NAK an address on the wrong network; with no record of the client, stay silent unless the address is free.
      if (!inSubnet(ip, pool.subnet)) return this.nak(pool, packet, info, `requested ${ip} is not on this network`, log);
      const known = table.leaseOf(info.clientKey);
      if (known && known.ip !== ip && !host?.ip) return this.nak(pool, packet, info, `client's lease is ${known.ip}, not ${ip}`, log);
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
      return this.nak(pool, packet, info, `${ip} is not available to this client`, log);
    }
    const expires = Math.floor(now / 1000) + ctx.leaseTime;
    const record = { op: 'bind', ip, client: info.clientKey, mac: info.mac, host: host?.name, expires } as const;
    table.apply(record);
    const boot = ctx.boot(info, host, pool);
    // Made now, sent once the binding is on disk: while the journal syncs, only the encoded ACK waits.
    const ack = ctx.replies.prepare(ctx.replies.build(packet, info, MessageType.ACK, ip, boot, true, pool), packet);
    // A renewal is a running system keeping its address, not a step of a boot.
    const hostName = host?.name;
    const bootAck: BootAck | undefined =
      boot.boot && state !== 'renewing' ? { kind: info.kind, mac: info.mac, ip, host: hostName, file: boot.file, rootPath: boot.rootPath } : undefined;
    const acknowledge = (): Outcome => {
      if (!ack || !ctx.replies.post(ack)) return undefined;
      log.info({ ip, state, host: hostName, boot: boot.reason }, 'DHCPACK');
      if (bootAck) ctx.onBootAck?.(bootAck);
      return MessageType.ACK;
    };
    const journal = ctx.journal;
    return journal ? journal.append(record).then(acknowledge) : acknowledge();
  }

  private nak(pool: Pool, packet: DhcpPacket, info: RequestInfo, why: string, log: RequestLog): Outcome {
    log.info({ why }, 'DHCPNAK');
    this.ctx.stats.naks++;
    const replies = this.ctx.replies;
    const reply = replies.base(packet, MessageType.NAK, pool.serverAddress);
    setOption(reply, 'message', why);
    replies.finish(reply, packet, info);
    if (packet.giaddr !== '0.0.0.0') reply.flags |= FLAG_BROADCAST; // §4.3.2: the relay must broadcast a NAK
    return replies.send(reply, packet, true) ? MessageType.NAK : undefined;
  }

  /** Why a host did not get its reservation: never "pool exhausted", which sends the reader the wrong way. */
  private warnReservationRefused(pool: Pool, host: DhcpHost, info: RequestInfo, now: number, log: RequestLog): void {
    const ip = host.ip!;
    if (!inSubnet(ip, pool.subnet)) {
      log.warn(
        { ip, host: host.name, giaddr: info.relay?.giaddr },
        `reserved address ${ip} of ${host.name} is not on the network this request came from: no offer`,
      );
      return;
    }
    const holder = pool.table.holderOf(ip, now);
    if (holder) {
      log.warn(
        { ip, host: host.name, holder: holder.client, holderMac: holder.mac },
        `reserved address ${ip} of ${host.name} is bound to another client (${holder.mac ?? holder.client}) until its lease ends: no offer`,
      );
      return;
    }
    log.warn({ ip, host: host.name }, `reserved address ${ip} of ${host.name} is quarantined (DECLINE) or offered to another client: no offer`);
  }

  private warnExhausted(pool: Pool, log: RequestLog): void {
    const now = this.ctx.now();
    if (now - this.exhaustedWarnedAt < 60_000) {
      this.exhaustedSuppressed++;
      return;
    }
    log.warn({ range: pool.range, suppressed: this.exhaustedSuppressed }, 'address pool exhausted: no offer made (warned at most once a minute)');
    this.exhaustedWarnedAt = now;
    this.exhaustedSuppressed = 0;
  }
}
