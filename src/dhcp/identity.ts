/**
 * Who a request is, for the lease table: the one home of the client-identity rule.
 *
 * RFC 2131 §4.2 keys a client by its client identifier (option 61) when it sends one, else by chaddr.
 * A PXE boot is one machine speaking with several voices, and they disagree: iPXE (the firmware) sends
 * option 61, FreeBSD's pxeboot and loader.efi never do (stand/libsa/bootp.c), and 10.1's pxeboot cannot
 * live with a second address at all, since its reads go through the firmware's PXE stack, which drops
 * datagrams to any other address (../../../shared/freebsd/RECIPES.md). So, as dnsmasq does and as
 * Kea's `match-client-id: false` does for such networks:
 *
 * 1. A reservation (hosts[].ip) belongs to the MAC: a request from that MAC takes the reserved
 *    address's lease over, whatever option 61 says.
 * 2. Otherwise a key with a lease or a live offer of its own is that client (RFC 2131 as written).
 * 3. When exactly one side sends option 61 (one key `id:...`, the other `hw:...`) and both come from
 *    the same chaddr, they are one client: the request takes over that MAC's lease and its address.
 *
 * Clients that always send option 61 keep RFC 2131's semantics: two different identifiers from one
 * MAC (two operating systems on one machine) are two clients with two addresses.
 */
import type { RequestInfo } from './info.js';
import type { LeaseTable } from './leases.js';

export function leaseKeyFor(table: LeaseTable, info: Pick<RequestInfo, 'clientKey' | 'mac'>, now: number, reservedIp?: string): string {
  const key = info.clientKey;
  if (info.mac === undefined) return key;
  if (reservedIp !== undefined) {
    const holder = table.leaseAt(reservedIp);
    if (holder?.mac === info.mac) return holder.client;
  }
  if (table.leaseOf(key) !== undefined || table.hasOffer(key, now)) return key;
  const sibling = table.leaseOfMac(info.mac);
  if (sibling && sibling.client.startsWith('hw:') !== key.startsWith('hw:')) return sibling.client;
  return key;
}
