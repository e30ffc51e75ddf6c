/**
 * IP networks for `http.allow`: IPv4 and IPv6 in CIDR form, and whether a client address lies in one.
 * Pure. A socket listening on `::` reports IPv4 clients as IPv4-mapped IPv6 (`::ffff:10.0.0.2`,
 * RFC 4291 §2.5.5.2); plainAddress turns them back into IPv4, so hosts[].ip and IPv4 networks match them.
 */
import { ipv4ToInt, isIPv4 } from '../net.js';

export interface Network {
  family: 4 | 6;
  /** The network's address, 4 or 16 bytes. */
  bytes: Uint8Array;
  prefix: number;
  /** As written, for logs. */
  text: string;
}

function v4Bytes(text: string): Uint8Array | undefined {
  if (!isIPv4(text)) return undefined;
  const n = ipv4ToInt(text);
  return Uint8Array.of(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
}

/** RFC 4291 §2.2 text forms: eight groups, one `::`, and an IPv4 tail (`::ffff:10.0.0.2`). No zone ids. */
function v6Bytes(text: string): Uint8Array | undefined {
  if (!/^[0-9A-Fa-f:.]+$/.test(text)) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (part: string, last: boolean): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    const pieces = part.split(':');
    for (const [i, piece] of pieces.entries()) {
      if (last && i === pieces.length - 1 && piece.includes('.')) {
        const v4 = v4Bytes(piece);
        if (!v4) return undefined;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else if (/^[0-9A-Fa-f]{1,4}$/.test(piece)) out.push(Number.parseInt(piece, 16));
      else return undefined;
    }
    return out;
  };
  const head = groups(halves[0]!, halves.length === 1);
  const tail = halves.length === 2 ? groups(halves[1]!, true) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  // Without `::` there must be exactly eight groups; with it, `::` stands for at least one.
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  all.forEach((group, i) => {
    bytes[2 * i] = group >>> 8;
    bytes[2 * i + 1] = group & 255;
  });
  return bytes;
}

/** `::ffff:a.b.c.d` → `a.b.c.d`; any other address unchanged. */
export function plainAddress(address: string): string {
  const match = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return match && isIPv4(match[1]!) ? match[1]! : address;
}

export function parseIp(text: string): { family: 4 | 6; bytes: Uint8Array } | undefined {
  const v4 = v4Bytes(text);
  if (v4) return { family: 4, bytes: v4 };
  const v6 = v6Bytes(text);
  return v6 ? { family: 6, bytes: v6 } : undefined;
}

export function isIp(text: string): boolean {
  return parseIp(text) !== undefined;
}

/** Whether the first `prefix` bits of a and b agree. */
function samePrefix(a: Uint8Array, b: Uint8Array, prefix: number): boolean {
  for (let bit = 0; bit < prefix; bit += 8) {
    const take = Math.min(8, prefix - bit);
    const mask = (0xff << (8 - take)) & 0xff;
    if ((a[bit / 8]! & mask) !== (b[bit / 8]! & mask)) return false;
  }
  return true;
}

/** `10.0.0.0/8`, `::1/128`, `fd00::/8`; refuses host bits set, so a typo is not silently widened (as parseCidr does). */
export function parseNetwork(text: string): Network {
  const match = /^([^/]+)\/(\d{1,3})$/.exec(text);
  const ip = match ? parseIp(match[1]!) : undefined;
  const prefix = Number(match?.[2]);
  if (!match || !ip || prefix > (ip.family === 4 ? 32 : 128)) {
    throw new RangeError(`not a network in CIDR form (a.b.c.d/n or x:x::/n): ${JSON.stringify(text)}`);
  }
  const zero = new Uint8Array(ip.bytes.length);
  // Host bits set: the bits after the prefix differ from a network address's zeros.
  const hostBits = Array.from(ip.bytes).some((byte, i) => {
    const keep = Math.max(0, Math.min(8, prefix - 8 * i));
    return (byte & (0xff >> keep)) !== zero[i];
  });
  if (hostBits) throw new RangeError(`network ${text} has host bits set`);
  return { family: ip.family, bytes: ip.bytes, prefix, text };
}

export function isNetwork(text: string): boolean {
  try {
    parseNetwork(text);
    return true;
  } catch {
    return false;
  }
}

/** Whether `address` (as a socket reports it) lies in one of `networks`; false for anything unparseable. */
export function inNetworks(address: string, networks: readonly Network[]): boolean {
  const ip = parseIp(plainAddress(address));
  if (!ip) return false;
  return networks.some((n) => n.family === ip.family && samePrefix(ip.bytes, n.bytes, n.prefix));
}
