/**
 * The machine's IPv4 addresses, from the text of the tools that list them: Linux's `ip -j addr show`
 * (iproute2 JSON) and FreeBSD's `ifconfig -a`. No I/O here; services/net/interfaces.ts runs the
 * commands. Node's os.networkInterfaces() is not enough: libuv drops every interface that is not both
 * IFF_UP and IFF_RUNNING (uv__ifaddr_exclude in libuv's src/unix/linux.c and bsd-ifaddrs.c), so a
 * Linux bridge whose only member is a tap nobody opened, or a NIC without a cable, is missing although
 * it is up and holds its address.
 */
import { ipv4ToInt, isIPv4, prefixToMaskInt } from '../net.js';

export interface InterfaceAddress {
  /** The device (`eth0`, `br0`, `em0`), not a Linux address label such as `eth0:1`. */
  name: string;
  address: string;
  prefix: number;
  /** Administratively up (IFF_UP). */
  up: boolean;
  /** Has carrier: Linux LOWER_UP; FreeBSD RUNNING and not `status: no carrier`. */
  running: boolean;
  loopback: boolean;
}

export class InterfaceListError extends Error {
  override readonly name = 'InterfaceListError';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPrefix(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 32;
}

/**
 * `ip -j addr show`: an array of links, each with `ifname`, `flags` and `addr_info` (one entry per
 * address; `family` "inet" for IPv4, with `local` and `prefixlen`). Secondary addresses are listed
 * after the primary ones, in the order the kernel keeps them, and keep the link's name here.
 *
 * Carrier is the LOWER_UP flag. The kernel sets IFF_LOWER_UP from the driver's carrier, and only while
 * the device is up (dev_get_flags in net/core/dev.c); iproute2 prints NO-CARRIER when UP lacks it.
 * `operstate` would be wrong both ways: it is UNKNOWN for devices that do not report one although they
 * pass traffic (lo, tun, dummy), DOWN for a bridge none of whose ports forwards (its only member an
 * unopened tap), LOWERLAYERDOWN for a veth whose peer is down. The IFF_RUNNING that libuv filters on is
 * operstate UP or UNKNOWN, which is why os.networkInterfaces() misses exactly those bridges and veths;
 * iproute2 does not print RUNNING at all.
 */
export function parseIpJsonAddr(text: string): InterfaceAddress[] {
  let links: unknown;
  try {
    links = JSON.parse(text);
  } catch (err) {
    throw new InterfaceListError(`ip -j addr show: not JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(links)) throw new InterfaceListError('ip -j addr show: expected an array of links');
  const result: InterfaceAddress[] = [];
  links.forEach((link: unknown, index) => {
    const where = `ip -j addr show: link ${index}`;
    if (!isObject(link) || typeof link.ifname !== 'string' || link.ifname === '') throw new InterfaceListError(`${where}: no ifname`);
    const name = link.ifname;
    const flags = link.flags;
    if (!Array.isArray(flags) || !flags.every((f) => typeof f === 'string')) throw new InterfaceListError(`${where} (${name}): flags is not a list of names`);
    const addrs = link.addr_info ?? [];
    if (!Array.isArray(addrs)) throw new InterfaceListError(`${where} (${name}): addr_info is not a list`);
    const up = flags.includes('UP');
    const running = flags.includes('LOWER_UP');
    const loopback = flags.includes('LOOPBACK');
    addrs.forEach((a: unknown, n) => {
      if (!isObject(a) || a.family !== 'inet') return;
      if (typeof a.local !== 'string' || !isIPv4(a.local))
        throw new InterfaceListError(`${where} (${name}): addr_info[${n}].local is not an IPv4 address: ${JSON.stringify(a.local)}`);
      if (!isPrefix(a.prefixlen)) throw new InterfaceListError(`${where} (${name}): addr_info[${n}].prefixlen is not 0..32: ${JSON.stringify(a.prefixlen)}`);
      result.push({ name, address: a.local, prefix: a.prefixlen, up, running, loopback });
    });
  });
  return result;
}

/** A contiguous netmask as ifconfig prints it (`0xffffff00`; `255.255.255.0` under IFCONFIG_FORMAT=inet:dotted) → its prefix length. */
function maskToPrefix(text: string, where: string): number {
  let mask: number;
  if (/^0x[0-9a-f]{1,8}$/i.test(text)) mask = parseInt(text.slice(2), 16) >>> 0;
  else if (isIPv4(text)) mask = ipv4ToInt(text);
  else throw new InterfaceListError(`${where}: netmask is neither hex nor dotted: ${JSON.stringify(text)}`);
  const prefix = Math.clz32(~mask); // how many one bits lead
  if (mask !== prefixToMaskInt(prefix)) throw new InterfaceListError(`${where}: netmask ${text} is not contiguous`);
  return prefix;
}

interface IfconfigBlock {
  name: string;
  flags: string[];
  noCarrier: boolean;
  inet: { address: string; prefix: number }[];
}

/**
 * FreeBSD `ifconfig -a`, as sbin/ifconfig prints it (ifconfig.c status(), ifconfig_netlink.c
 * status_nl(), af_inet.c, ifmedia.c, ifbridge.c). Each interface starts at column 0 with
 * `NAME: flags=HEX<UP,BROADCAST,RUNNING,...> metric N mtu N` (the `<...>` is left out when no flag is
 * set); every other line of it is indented by a tab. An IPv4 address is
 * `\tinet A [--> DEST] netmask 0xHEX [broadcast B] [vhid N]`, one line per address, aliases included;
 * IFCONFIG_FORMAT=inet:cidr prints `inet A/N` instead and inet:dotted a dotted netmask, both read too.
 * Media-capable interfaces add `\tstatus: active` or `\tstatus: no carrier` (ifmedia.c; `no ring` is
 * the token-ring/FDDI form of the same). Bridge `member:` lines are indented and so never mistaken for
 * an interface.
 *
 * Carrier is the RUNNING flag (IFF_DRV_RUNNING: a tap is RUNNING only while opened) unless the media
 * status says no carrier: an em(4) NIC without a cable stays RUNNING once up. A bridge is RUNNING
 * whenever it is up (bridge_init in sys/net/if_bridge.c), whatever its members, so on FreeBSD a
 * bridge over an unopened tap reads running=true; FreeBSD 14's netlink ifconfig also prints LOWER_UP,
 * but older ones never do, so its absence proves nothing and it is not used.
 */
export function parseIfconfig(text: string): InterfaceAddress[] {
  const blocks: IfconfigBlock[] = [];
  text.split('\n').forEach((line, index) => {
    const where = `ifconfig line ${index + 1}`;
    if (line.trim() === '') return;
    if (!/^\s/.test(line)) {
      const header = /^(\S+): flags=([0-9a-f]+)(?:<([^>]*)>)?/i.exec(line);
      if (!header) throw new InterfaceListError(`${where}: expected "NAME: flags=...": ${JSON.stringify(line)}`);
      blocks.push({ name: header[1]!, flags: header[3] ? header[3].split(',') : [], noCarrier: false, inet: [] });
      return;
    }
    const block = blocks.at(-1);
    if (!block) throw new InterfaceListError(`${where}: indented line before any interface: ${JSON.stringify(line)}`);
    const words = line.trim().split(/\s+/);
    if (words[0] === 'status:') {
      const status = words.slice(1).join(' ');
      if (status === 'no carrier' || status === 'no ring') block.noCarrier = true;
      return;
    }
    if (words[0] !== 'inet') return;
    // inet A[/N] [--> DEST[/N]] [netmask M] ...: under inet:cidr the /N follows the last address printed
    const p2p = words[2] === '-->';
    const [address = '', own] = (words[1] ?? '').split('/');
    const cidr = p2p ? (words[3] ?? '').split('/')[1] : own;
    if (!isIPv4(address)) throw new InterfaceListError(`${where}: not an IPv4 address: ${JSON.stringify(address)}`);
    const netmaskAt = words.indexOf('netmask');
    let prefix: number;
    if (netmaskAt !== -1) prefix = maskToPrefix(words[netmaskAt + 1] ?? '', where);
    else if (cidr !== undefined && /^\d{1,2}$/.test(cidr) && Number(cidr) <= 32) prefix = Number(cidr);
    else throw new InterfaceListError(`${where}: no netmask: ${JSON.stringify(line)}`);
    block.inet.push({ address, prefix });
  });
  return blocks.flatMap((b) => {
    const up = b.flags.includes('UP');
    const running = b.flags.includes('RUNNING') && !b.noCarrier;
    const loopback = b.flags.includes('LOOPBACK');
    return b.inet.map((a) => ({ name: b.name, address: a.address, prefix: a.prefix, up, running, loopback }));
  });
}
