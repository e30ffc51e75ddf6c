/**
 * The one table of DHCP options (RFC 2132 and later). Decoding, encoding, configuration names
 * (`dhcp.options.<name>`) and debug output all read it, so an option is added in one place.
 * A packet keeps every option as bytes (src/dhcp/packet.ts); the table only says how to turn those
 * bytes into a value and back. Codes not listed here stay bytes and are shown as hex.
 */

export type OptionType =
  | 'ip' // one IPv4 address
  | 'ips' // one or more IPv4 addresses
  | 'u8'
  | 'u16'
  | 'u32'
  | 'i32'
  | 'bool' // one byte, 0 or 1
  | 'string' // NVT ASCII / UTF-8 text, no terminating NUL required
  | 'bytes' // opaque
  | 'u8s' // a list of bytes (parameter request list)
  | 'u16s'; // a list of 16-bit values (client architectures)

export const optionTable = [
  { code: 1, name: 'subnetMask', type: 'ip' },
  { code: 2, name: 'timeOffset', type: 'i32' },
  { code: 3, name: 'router', type: 'ips' },
  { code: 4, name: 'timeServer', type: 'ips' },
  { code: 6, name: 'dns', type: 'ips' },
  { code: 7, name: 'logServer', type: 'ips' },
  { code: 12, name: 'hostName', type: 'string' },
  { code: 13, name: 'bootFileSize', type: 'u16' },
  { code: 15, name: 'domainName', type: 'string' },
  { code: 16, name: 'swapServer', type: 'ip' },
  { code: 17, name: 'rootPath', type: 'string' },
  { code: 18, name: 'extensionsPath', type: 'string' },
  { code: 19, name: 'ipForwarding', type: 'bool' },
  { code: 23, name: 'defaultTtl', type: 'u8' },
  { code: 26, name: 'interfaceMtu', type: 'u16' },
  { code: 28, name: 'broadcastAddress', type: 'ip' },
  { code: 33, name: 'staticRoutes', type: 'ips' },
  { code: 40, name: 'nisDomain', type: 'string' },
  { code: 41, name: 'nisServers', type: 'ips' },
  { code: 42, name: 'ntpServers', type: 'ips' },
  { code: 43, name: 'vendorSpecific', type: 'bytes' },
  { code: 44, name: 'netbiosNameServers', type: 'ips' },
  { code: 50, name: 'requestedAddress', type: 'ip' },
  { code: 51, name: 'leaseTime', type: 'u32' },
  // 52 (overload) is consumed by the codec itself and never appears in a decoded packet.
  { code: 52, name: 'overload', type: 'u8' },
  { code: 53, name: 'messageType', type: 'u8' },
  { code: 54, name: 'serverId', type: 'ip' },
  { code: 55, name: 'parameterList', type: 'u8s' },
  { code: 56, name: 'message', type: 'string' },
  { code: 57, name: 'maxMessageSize', type: 'u16' },
  { code: 58, name: 'renewalTime', type: 'u32' },
  { code: 59, name: 'rebindingTime', type: 'u32' },
  { code: 60, name: 'vendorClass', type: 'string' },
  { code: 61, name: 'clientId', type: 'bytes' },
  { code: 66, name: 'tftpServer', type: 'string' },
  { code: 67, name: 'bootFile', type: 'string' },
  // RFC 3004 user class: a list of length-prefixed items; iPXE sends a plain string instead (src/dhcp/info.ts).
  { code: 77, name: 'userClass', type: 'bytes' },
  { code: 82, name: 'relayAgentInfo', type: 'bytes' },
  { code: 93, name: 'clientArch', type: 'u16s' },
  { code: 94, name: 'clientNdi', type: 'bytes' },
  { code: 97, name: 'clientUuid', type: 'bytes' },
  { code: 119, name: 'domainSearch', type: 'bytes' },
  { code: 121, name: 'classlessRoutes', type: 'bytes' },
  { code: 150, name: 'tftpServers', type: 'ips' },
  { code: 175, name: 'ipxe', type: 'bytes' },
  // FreeBSD's loader (stand/libsa/bootp.c) turns 246-249 (`name=value;name=value`) and 250-254
  // (`name=value`) into loader environment variables.
  { code: 246, name: 'loaderVars246', type: 'string' },
  { code: 247, name: 'loaderVars247', type: 'string' },
  { code: 248, name: 'loaderVars248', type: 'string' },
  { code: 249, name: 'loaderVars249', type: 'string' },
  { code: 250, name: 'loaderVar250', type: 'string' },
  { code: 251, name: 'loaderVar251', type: 'string' },
  { code: 252, name: 'loaderVar252', type: 'string' },
  { code: 253, name: 'loaderVar253', type: 'string' },
  { code: 254, name: 'loaderVar254', type: 'string' },
] as const satisfies readonly { code: number; name: string; type: OptionType }[];

export type OptionSpec = (typeof optionTable)[number];
export type OptionName = OptionSpec['name'];

interface TypeValues {
  ip: string;
  ips: string[];
  u8: number;
  u16: number;
  u32: number;
  i32: number;
  bool: boolean;
  string: string;
  bytes: Uint8Array;
  u8s: number[];
  u16s: number[];
}

/** The value type of a named option: `OptionValue<'router'>` is `string[]`. */
type ValueByName = { [S in OptionSpec as S['name']]: TypeValues[S['type']] };
export type OptionValue<N extends OptionName> = ValueByName[N];

export const Code = Object.fromEntries(optionTable.map((o) => [o.name, o.code])) as {
  readonly [S in OptionSpec as S['name']]: S['code'];
};

const byCode = new Map<number, OptionSpec>(optionTable.map((o) => [o.code, o]));
const byName = new Map<string, OptionSpec>(optionTable.map((o) => [o.name, o]));

export function optionByCode(code: number): OptionSpec | undefined {
  return byCode.get(code);
}

export function optionByName(name: string): OptionSpec | undefined {
  return byName.get(name);
}

/** Thrown when option bytes do not fit the table's type; the message names the option. */
export class OptionValueError extends Error {
  override readonly name = 'OptionValueError';
}

const utf8 = new TextDecoder('utf-8', { fatal: false });
const utf8Encoder = new TextEncoder();

/** Four bytes as a dotted quad; the empty address (most of a request's address fields) costs no string. */
function ipAt(data: Uint8Array, offset: number): string {
  const a = data[offset]!;
  const b = data[offset + 1]!;
  const c = data[offset + 2]!;
  const d = data[offset + 3]!;
  return (a | b | c | d) === 0 ? '0.0.0.0' : `${a}.${b}.${c}.${d}`;
}

export function ipToBytes(text: string, into?: Uint8Array, offset = 0): Uint8Array {
  const parts = text.split('.');
  const bytes = into ?? new Uint8Array(4);
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
    throw new OptionValueError(`not an IPv4 address: ${JSON.stringify(text)}`);
  }
  parts.forEach((p, i) => (bytes[offset + i] = Number(p)));
  return bytes;
}

export function bytesToIp(data: Uint8Array, offset = 0): string {
  return ipAt(data, offset);
}

function expectLength(spec: OptionSpec, data: Uint8Array, ok: boolean, rule: string): void {
  if (!ok) throw new OptionValueError(`option ${spec.code} (${spec.name}) has ${data.length} bytes, expected ${rule}`);
}

/** Bytes → value by the table's type; throws OptionValueError when the length does not fit. */
export function decodeValue(spec: OptionSpec, data: Uint8Array): TypeValues[OptionType] {
  switch (spec.type) {
    case 'ip':
      expectLength(spec, data, data.length === 4, '4');
      return ipAt(data, 0);
    // Loops into arrays of known length, not Array.from: its iterator objects showed in allocation profiles.
    case 'ips': {
      expectLength(spec, data, data.length >= 4 && data.length % 4 === 0, 'a non-zero multiple of 4');
      const ips = new Array<string>(data.length / 4);
      for (let i = 0; i < ips.length; i++) ips[i] = ipAt(data, i * 4);
      return ips;
    }
    case 'u8':
      expectLength(spec, data, data.length === 1, '1');
      return data[0]!;
    case 'bool':
      expectLength(spec, data, data.length === 1, '1');
      return data[0] !== 0;
    case 'u16':
      expectLength(spec, data, data.length === 2, '2');
      return (data[0]! << 8) | data[1]!;
    case 'u32':
      expectLength(spec, data, data.length === 4, '4');
      return ((data[0]! << 24) | (data[1]! << 16) | (data[2]! << 8) | data[3]!) >>> 0;
    case 'i32':
      expectLength(spec, data, data.length === 4, '4');
      return (data[0]! << 24) | (data[1]! << 16) | (data[2]! << 8) | data[3]!;
    case 'string':
      return utf8.decode(data);
    case 'bytes':
      return data;
    case 'u8s': {
      const values = new Array<number>(data.length);
      for (let i = 0; i < data.length; i++) values[i] = data[i]!;
      return values;
    }
    case 'u16s': {
      expectLength(spec, data, data.length % 2 === 0, 'an even number');
      const values = new Array<number>(data.length / 2);
      for (let i = 0; i < values.length; i++) values[i] = (data[i * 2]! << 8) | data[i * 2 + 1]!;
      return values;
    }
  }
}

function intBytes(spec: OptionSpec, value: unknown, size: 1 | 2 | 4, signed = false): Uint8Array {
  const min = signed ? -(2 ** (size * 8 - 1)) : 0;
  const max = signed ? 2 ** (size * 8 - 1) - 1 : 2 ** (size * 8) - 1;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new OptionValueError(`option ${spec.code} (${spec.name}) must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  const out = new Uint8Array(size);
  const bits = value >>> 0; // two's complement for negative i32
  for (let i = 0; i < size; i++) out[i] = (bits >>> (8 * (size - 1 - i))) & 255;
  return out;
}

/** Value → bytes by the table's type; throws OptionValueError naming the option when the value does not fit. */
export function encodeValue(spec: OptionSpec, value: unknown): Uint8Array {
  const fail = (what: string): never => {
    throw new OptionValueError(`option ${spec.code} (${spec.name}) must be ${what}, got ${JSON.stringify(value)}`);
  };
  switch (spec.type) {
    case 'ip':
      if (typeof value !== 'string') fail('an IPv4 address');
      return ipToBytes(value as string);
    case 'ips': {
      const list = typeof value === 'string' ? [value] : value;
      if (!Array.isArray(list) || list.length === 0 || list.some((v) => typeof v !== 'string')) fail('a list of IPv4 addresses');
      const out = new Uint8Array((list as string[]).length * 4);
      (list as string[]).forEach((ip, i) => ipToBytes(ip, out, i * 4));
      return out;
    }
    case 'u8':
      return intBytes(spec, value, 1);
    case 'bool':
      if (typeof value !== 'boolean') fail('true or false');
      return Uint8Array.of(value ? 1 : 0);
    case 'u16':
      return intBytes(spec, value, 2);
    case 'u32':
      return intBytes(spec, value, 4);
    case 'i32':
      return intBytes(spec, value, 4, true);
    case 'string':
      if (typeof value !== 'string') fail('a string');
      return utf8Encoder.encode(value as string);
    case 'bytes':
      if (value instanceof Uint8Array) return value;
      if (typeof value === 'string' && /^([0-9a-f]{2})*$/i.test(value.replace(/[:\s]/g, ''))) return hexToBytes(value);
      return fail('bytes (hex such as "01:02:0a")');
    case 'u8s':
      if (!Array.isArray(value)) fail('a list of integers 0-255');
      return Uint8Array.from(value as unknown[], (v) => intBytes(spec, v, 1)[0]!);
    case 'u16s': {
      if (!Array.isArray(value)) fail('a list of integers 0-65535');
      const out = new Uint8Array((value as unknown[]).length * 2);
      (value as unknown[]).forEach((v, i) => out.set(intBytes(spec, v, 2), i * 2));
      return out;
    }
  }
}

const hexByte = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

export function bytesToHex(data: Uint8Array, separator = ''): string {
  let out = '';
  for (let i = 0; i < data.length; i++) out += (i > 0 ? separator : '') + hexByte[data[i]!];
  return out;
}

export function hexToBytes(text: string): Uint8Array {
  const clean = text.replace(/[:\s]/g, '');
  return Uint8Array.from({ length: clean.length / 2 }, (_, i) => parseInt(clean.slice(i * 2, i * 2 + 2), 16));
}

/** A printable rendering for logs: the table's value when it decodes, else hex. */
export function formatOption(code: number, data: Uint8Array): { name: string; value: unknown } {
  const spec = byCode.get(code);
  if (!spec) return { name: `option${code}`, value: bytesToHex(data) };
  try {
    const value = decodeValue(spec, data);
    return { name: spec.name, value: value instanceof Uint8Array ? bytesToHex(value) : value };
  } catch {
    return { name: spec.name, value: `invalid:${bytesToHex(data)}` };
  }
}
