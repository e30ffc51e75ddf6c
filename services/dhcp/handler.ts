/**
 * The seam between the DHCP server (server.ts: sockets, lifecycle, dispatch) and its two request
 * handlers, authoritative.ts (RFC 2131 §4.3) and proxy.ts (PXE proxyDHCP): the types they share and the
 * one small interface through which a handler sees the server.
 */
import type { RequestInfo } from '../../src/dhcp/info.js';
import type { LeaseTable } from '../../src/dhcp/leases.js';
import type { DhcpOption, DhcpPacket } from '../../src/dhcp/packet.js';
import type { BootAnswer, BootEnvironment, BootHost, PolicySettings } from '../../src/dhcp/policy.js';
import type { Logger } from '../log.js';
import type { Sender } from '../net/datagram.js';
import type { Journal } from './journal.js';
import type { Subnet } from './network.js';
import type { Replies } from './replies.js';

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
  /**
   * A network this machine is on by an interface of its own (dhcp.pools[].interface), not behind a
   * relay: requests arriving by that interface (the native datagram path says which) are this pool's,
   * and are answered with our address on it as server identifier and next-server.
   */
  direct?: { interface: string; ifindex: number; serverAddress: string; httpBaseUrl: string | null };
}

/** One network the server hands out addresses on: its table and its pre-encoded options. */
export interface Pool extends PoolSpec {
  table: LeaseTable;
  networkOptions: DhcpOption[];
  /** Our address for its clients: option 54, and the next-server of its boot answers. */
  serverAddress: string;
  /** The boot policy's settings for its clients (next-server and HTTP base are the pool's). */
  policy: PolicySettings;
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

export interface ServerStats {
  received: number;
  dropped: number;
  replies: number;
  naks: number;
}

/** The logging calls a request handler makes. */
export type RequestLog = Pick<Logger, 'trace' | 'debug' | 'info' | 'warn' | 'error'>;

/** What a handler may ask of the server; made once per server, never per request. */
export interface HandlerContext {
  /** Our address (option 54): a REQUEST or DECLINE naming another server is not for us. */
  readonly serverAddress: string;
  /** Seconds. */
  readonly leaseTime: number;
  readonly declineTime: number;
  readonly stats: ServerStats;
  readonly replies: Replies;
  /** The lease journal once the server started; undefined when leases live in memory only. */
  readonly journal: Journal | undefined;
  readonly now: () => number;
  /** Called for every ACK that carries boot information. */
  readonly onBootAck: ((ack: BootAck) => void) | undefined;
  /** The pool a request belongs to: by giaddr when relayed, else by the interface it came in on; undefined: not ours. */
  poolFor(packet: DhcpPacket): Pool | undefined;
  /** The hosts[] entry of the request's MAC. */
  hostOf(info: RequestInfo): DhcpHost | undefined;
  /** Whether `ip` is some host's reservation (hosts[].ip). */
  isReserved(ip: string): boolean;
  /** The boot policy's answer for this client (src/dhcp/policy.ts), with the settings of its pool when it has one. */
  boot(info: RequestInfo, host: DhcpHost | undefined, pool?: Pool): BootAnswer;
}

/** The message type of the reply sent to a request (offer, ack, nak); undefined: none was sent. */
export type Outcome = number | undefined;

/**
 * One mode of the server; `from` and `viaProxyPort` matter only to proxy mode. A handler decides, and
 * builds and prepares its reply, before it returns: only a reply waiting for the journal comes back as a
 * promise, and by then the request's arrival (which interface answers it) is forgotten.
 */
export interface RequestHandler {
  handle(packet: DhcpPacket, info: RequestInfo, log: RequestLog, from: Sender, viaProxyPort: boolean): Outcome | Promise<Outcome>;
}
