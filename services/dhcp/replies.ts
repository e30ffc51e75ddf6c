/**
 * DHCP replies: building them from a request and a boot answer, RFC 2131 §4.1 reply addressing, and
 * the outbox that sends them at the end of the event loop's turn.
 */
import type { RequestInfo } from '../../src/dhcp/info.js';
import { ipToBytes } from '../../src/dhcp/options.js';
import { BOOTREPLY, type DhcpOption, type DhcpPacket, encodePacket, getRaw, MessageType, setOption, setRaw } from '../../src/dhcp/packet.js';
import type { BootAnswer } from '../../src/dhcp/policy.js';
import type { Logger } from '../log.js';
import type { DatagramSocket, Outgoing, Via } from '../net/datagram.js';

/** The server's sockets, bound by its start() and cleared by its close(); replies only read them. */
export interface Sockets {
  dhcp: DatagramSocket | undefined;
  /** proxyDHCP's PXE port (4011), in proxy mode only. */
  proxy: DatagramSocket | undefined;
}

export interface ReplyOptions {
  /** Our address: option 54. */
  serverAddress: string;
  /** Where replies to clients go (68). */
  clientPort: number;
  /** Where replies to relays go (67, RFC 2131 §4.1). */
  relayPort: number;
  /** Replies that must be broadcast go here. */
  broadcastAddress: string;
  /** Encoded once: lease times (51, 58, 59), dhcp.options merged in. */
  leaseOptions: readonly DhcpOption[];
  log: Logger;
  /**
   * How the reply to a request leaves (the native datagram path): a client on a LAN of ours is answered
   * by the interface its request came in on, so a broadcast needs no route; undefined: by the routing table.
   */
  viaFor?: (request: DhcpPacket) => Via | undefined;
}

/**
 * Option 43 for replies that say PXEClient: PXE_DISCOVERY_CONTROL (PXE 2.1 table 2-1) with bit 3, boot
 * from the file name in this reply, no boot server discovery. Without it, UEFI firmware built on edk2
 * (OVMF, most PCs) takes an authoritative server's PXEClient offer for a "BINL" offer and asks port 4011
 * for the boot file instead of loading it (PxeBcParseDhcp4Packet, PxeBcRetryBinlOffer); with it, the
 * offer is "PXE10" and bit 3 skips the prompt and menu. iPXE and FreeBSD's loaders ignore it.
 */
const PXE_VENDOR_OPTIONS = Uint8Array.of(6, 1, 8, 255);

/** Option 53's value for each message type: shared, never written to. */
const messageTypeOptions = Array.from({ length: 9 }, (_, type) => Uint8Array.of(type));
function messageTypeBytes(type: number): Uint8Array {
  return messageTypeOptions[type] ?? Uint8Array.of(type);
}

/** A reply encoded and addressed, and the socket it leaves by. */
export type Prepared = Outgoing & { socket: DatagramSocket };

export class Replies {
  private readonly serverIdOption: Uint8Array;

  constructor(
    private readonly options: ReplyOptions,
    private readonly sockets: Sockets,
    private readonly stats: { replies: number },
  ) {
    this.serverIdOption = ipToBytes(options.serverAddress);
  }

  /** A reply with only the header fields copied from the request and options 53 and 54 (`serverAddress`: a pool's own). */
  base(request: DhcpPacket, type: number, serverAddress?: string): DhcpPacket {
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
    reply.options.push({ code: 53, data: messageTypeBytes(type) }, { code: 54, data: this.serverId(serverAddress) });
    return reply;
  }

  /** Option 54's bytes for our address, or a pool's own, encoded once each. */
  private readonly serverIds = new Map<string, Uint8Array>();
  private serverId(address: string | undefined): Uint8Array {
    if (address === undefined) return this.serverIdOption;
    let bytes = this.serverIds.get(address);
    if (!bytes) {
      bytes = ipToBytes(address);
      this.serverIds.set(address, bytes);
    }
    return bytes;
  }

  /** Echoes what must be echoed: client id (RFC 6842), relay agent info last (RFC 3046 §2.2). */
  finish(reply: DhcpPacket, request: DhcpPacket, info: RequestInfo): void {
    const clientId = getRaw(request, 61);
    if (clientId) setRaw(reply, 61, clientId);
    if (info.relay?.agentInfo) setRaw(reply, 82, info.relay.agentInfo);
  }

  /** An OFFER or ACK: the address, lease times when `withLease`, the pool's network options and server address, the boot answer. */
  build(
    request: DhcpPacket,
    info: RequestInfo,
    type: number,
    yiaddr: string,
    boot: BootAnswer,
    withLease: boolean,
    pool: { networkOptions: readonly DhcpOption[]; serverAddress: string } | undefined,
  ): DhcpPacket {
    const reply = this.base(request, type, pool?.serverAddress);
    const networkOptions = pool?.networkOptions;
    reply.yiaddr = yiaddr;
    if (type === MessageType.ACK && request.ciaddr !== '0.0.0.0') reply.ciaddr = request.ciaddr;
    if (withLease) reply.options.push(...this.options.leaseOptions);
    if (networkOptions) reply.options.push(...networkOptions);
    if (boot.boot) {
      if (boot.vendorClass) setOption(reply, 'vendorClass', boot.vendorClass);
      // dhcp.options may give option 43 itself (it is among the network options): that one stays.
      if (boot.vendorClass === 'PXEClient' && !getRaw(reply, 43)) setRaw(reply, 43, PXE_VENDOR_OPTIONS);
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
    this.finish(reply, request, info);
    return reply;
  }

  /** Encodes and sends a reply now (RFC 2131 §4.1 addressing); false when it was not sent. */
  send(reply: DhcpPacket, request: DhcpPacket, isNak = false): boolean {
    const out = this.prepare(reply, request, isNak);
    return out !== undefined && this.post(out);
  }

  /**
   * A reply encoded and addressed (RFC 2131 §4.1), ready for post(): an ACK is prepared before it waits
   * for the journal, so that what waits is its bytes, not the request and the reply it was made from.
   * Undefined when it does not encode or the server closed.
   */
  prepare(reply: DhcpPacket, request: DhcpPacket, isNak = false): Prepared | undefined {
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
    // No socket: closed while this request waited for the journal; the client will retry.
    return this.sockets.dhcp && this.encode(reply, request, address, port, this.sockets.dhcp);
  }

  /** From the proxyDHCP port to `address`:`port`, where the client asked from; false when not sent. */
  sendFromProxyPort(reply: DhcpPacket, request: DhcpPacket, address: string, port: number): boolean {
    const out = this.sockets.proxy && this.encode(reply, request, address, port, this.sockets.proxy);
    return out !== undefined && this.post(out);
  }

  private encode(reply: DhcpPacket, request: DhcpPacket, address: string, port: number, socket: DatagramSocket): Prepared | undefined {
    let bytes: Uint8Array;
    try {
      const max = getRaw(request, 57);
      const maxLength = max && max.length === 2 ? ((max[0]! << 8) | max[1]!) - 28 : undefined; // minus IP and UDP headers
      bytes = encodePacket(reply, maxLength !== undefined ? { maxLength: Math.min(maxLength, 1472) } : {});
    } catch (err) {
      this.options.log.error({ err: (err as Error).message }, 'reply does not encode: not sent');
      return undefined;
    }
    return { bytes, port, address, socket, via: this.options.viaFor?.(request) };
  }

  /** Puts a prepared reply in the outbox; false when its socket closed since it was prepared (the client will retry). */
  post(out: Prepared): boolean {
    if (out.socket !== this.sockets.dhcp && out.socket !== this.sockets.proxy) return false;
    this.stats.replies++;
    this.outbox.push(out);
    this.outboxFlush ??= setImmediate(this.flushOutbox);
    return true;
  }

  /** Sends what waits in the outbox now (the server is closing). */
  flush(): void {
    if (this.outboxFlush) clearImmediate(this.outboxFlush);
    this.flushOutbox();
  }

  /**
   * Replies wait for the end of the event loop's turn and then leave back to back. Sent one by one
   * between the handling of the requests read in the same turn, each reply found its receiver asleep
   * again and paid for waking it (an inter-processor interrupt, dear on a VM): with perfdhcp as the
   * receiver that cost 0.1-0.3 % more drops at 5,000 exchanges/s and about 5 % more CPU.
   */
  private outbox: Prepared[] = [];
  private outboxFlush: NodeJS.Immediate | undefined;

  private readonly flushOutbox = (): void => {
    this.outboxFlush = undefined;
    const out = this.outbox;
    this.outbox = [];
    // One sendmmsg per socket (67 and proxyDHCP's 4011) on the native path. A send error reaches the
    // socket's error handler, which the server logs.
    for (const socket of new Set(out.map((reply) => reply.socket))) {
      try {
        socket.sendEach(out.filter((reply) => reply.socket === socket));
      } catch (err) {
        // The socket closed since (shutdown): the clients will retry.
        this.options.log.debug({ err: (err as Error).message }, 'replies not sent');
      }
    }
  };
}
