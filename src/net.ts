/** Small, pure helpers for IPv4 addresses. */

const octet = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const ipv4Pattern = new RegExp(`^${octet}\\.${octet}\\.${octet}\\.${octet}$`);

export function isIPv4(text: string): boolean {
  return ipv4Pattern.test(text);
}

export function ipv4ToInt(text: string): number {
  if (!isIPv4(text)) throw new RangeError(`not an IPv4 address: ${JSON.stringify(text)}`);
  return text.split('.').reduce((acc, part) => acc * 256 + Number(part), 0) >>> 0;
}

export function intToIPv4(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}

/** `10.0.0.0/24` → { network, prefix }; refuses host bits set, so a typo is not silently widened. */
export function parseCidr(text: string): { network: string; prefix: number } {
  const match = /^([\d.]+)\/(\d{1,2})$/.exec(text);
  if (!match || !isIPv4(match[1]!) || Number(match[2]) > 32) {
    throw new RangeError(`not a network in CIDR form (a.b.c.d/n): ${JSON.stringify(text)}`);
  }
  const prefix = Number(match[2]);
  const mask = prefixToMaskInt(prefix);
  const base = ipv4ToInt(match[1]!);
  if ((base & ~mask) >>> 0 !== 0) {
    throw new RangeError(`network ${text} has host bits set (did you mean ${intToIPv4((base & mask) >>> 0)}/${prefix}?)`);
  }
  return { network: match[1]!, prefix };
}

export function prefixToMaskInt(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function prefixToMask(prefix: number): string {
  return intToIPv4(prefixToMaskInt(prefix));
}
