/**
 * Proxy mode (PXE spec proxyDHCP): the LAN's DHCP server gives the addresses, we add only the boot
 * information, and only for PXE clients, on port 67 and on the PXE boot server port (4011).
 */
import type { RequestInfo } from '../../src/dhcp/info.js';
import { type DhcpPacket, MessageType, messageTypeName } from '../../src/dhcp/packet.js';
import type { Sender } from '../net/datagram.js';
import type { HandlerContext, Outcome, RequestHandler, RequestLog } from './handler.js';

export class ProxyHandler implements RequestHandler {
  constructor(private readonly ctx: HandlerContext) {}

  handle(packet: DhcpPacket, info: RequestInfo, log: RequestLog, from: Sender, viaProxyPort: boolean): Outcome {
    const ctx = this.ctx;
    // Only PXE clients; an ordinary client is the LAN's DHCP server's business.
    if (info.kind === 'plain') return;
    const type = info.messageType;
    if (!viaProxyPort) {
      // On 67: OFFER to a DISCOVER; ACK a REQUEST only when it names us. A REQUEST for the real server's
      // address (or an INIT-REBOOT naming nobody) is the real server's: an ACK with no address would confuse the client.
      if (type === MessageType.REQUEST && info.serverId !== ctx.serverAddress) return;
      if (type !== MessageType.DISCOVER && type !== MessageType.REQUEST) return;
    } else if (type !== MessageType.REQUEST && type !== MessageType.INFORM) {
      return;
    }
    const host = ctx.hostOf(info);
    const boot = ctx.boot(info, host);
    if (!boot.boot) {
      log.debug({ why: boot.reason }, 'proxyDHCP: no boot information for this client: silent');
      return;
    }
    const replyType = type === MessageType.DISCOVER ? MessageType.OFFER : MessageType.ACK;
    const reply = ctx.replies.build(packet, info, replyType, '0.0.0.0', boot, false, undefined);
    log.info({ host: host?.name, boot: boot.reason, port: viaProxyPort ? 'pxe' : 'dhcp' }, `proxyDHCP ${messageTypeName(replyType)}`);
    if (replyType === MessageType.ACK) {
      ctx.onBootAck?.({ kind: info.kind, mac: info.mac, ip: undefined, host: host?.name, file: boot.file, rootPath: boot.rootPath });
    }
    // PXE spec: the boot server answers the client where it asked from (it has an address by now).
    const sent = viaProxyPort ? ctx.replies.sendFromProxyPort(reply, packet, from.address, from.port) : ctx.replies.send(reply, packet);
    return sent ? replyType : undefined;
  }
}
