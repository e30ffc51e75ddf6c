/**
 * DHCPv4 messages: the RFC 2131 §2 header (236 bytes of BOOTP, then the 4-byte magic cookie) and the
 * options that follow (RFC 2132). Pure: bytes in, a packet out, and back. No I/O.
 *
 * - Pad (0) is skipped and End (255) stops a field.
 * - Option overload (52, RFC 2132 §9.3): the `file` and then the `sname` field carry more options; the
 *   codec reads them on decode and uses them on encode when the options field is full. Option 52 itself
 *   never appears in a decoded packet.
 * - Long options (RFC 3396): every instance of one code is concatenated, in the order options field,
 *   file, sname; on encode a value longer than 255 bytes is split into consecutive instances.
 * - Unknown codes are kept as bytes, in arrival order, so relay agent information (82) and vendor
 *   options can be echoed unchanged.
 */
import { Code, type OptionName, type OptionValue, optionByName, decodeValue, encodeValue, formatOption, bytesToHex, bytesToIp } from './options.js';

export const BOOTREQUEST = 1;
export const BOOTREPLY = 2;

/** RFC 2132 §9.6 message types (option 53). */
export const MessageType = {
  DISCOVER: 1,
  OFFER: 2,
  REQUEST: 3,
  DECLINE: 4,
  ACK: 5,
  NAK: 6,
  RELEASE: 7,
  INFORM: 8,
} as const;
export type MessageTypeName = keyof typeof MessageType;

const messageTypeNames = new Map<number, string>(Object.entries(MessageType).map(([name, type]) => [type, name]));

export function messageTypeName(type: number | undefined): string {
  return (type !== undefined && messageTypeNames.get(type)) || `type${type ?? '?'}`;
}

/** The broadcast bit of `flags` (RFC 2131 §2, figure 2). */
export const FLAG_BROADCAST = 0x8000;

/** 236 bytes of BOOTP header: op..giaddr (28), chaddr (16), sname (64), file (128). */
export const HEADER_LENGTH = 236;
const SNAME_OFFSET = 44;
const SNAME_LENGTH = 64;
const FILE_OFFSET = 108;
const FILE_LENGTH = 128;
const MAGIC_COOKIE = 0x63825363; // RFC 2131 §3: 99.130.83.99
const OPTIONS_OFFSET = HEADER_LENGTH + 4;
/** RFC 1542 §3.4: a BOOTP message is at least 300 bytes; some old clients drop shorter replies. */
const MIN_MESSAGE_LENGTH = 300;
/** RFC 2131 §2: a client must accept 576-byte IP datagrams, i.e. 548 bytes of DHCP message. */
export const DEFAULT_MAX_MESSAGE = 548;

export interface DhcpOption {
  code: number;
  data: Uint8Array;
}

export interface DhcpPacket {
  op: number;
  htype: number;
  hlen: number;
  hops: number;
  xid: number;
  secs: number;
  flags: number;
  ciaddr: string;
  yiaddr: string;
  siaddr: string;
  giaddr: string;
  /** The first `hlen` bytes of the 16-byte chaddr field. */
  chaddr: Uint8Array;
  /** Server host name, up to the first NUL; empty when the field carried options. */
  sname: string;
  /** Boot file name, up to the first NUL; empty when the field carried options. */
  file: string;
  /** One entry per code, in first-seen order, data concatenated across instances (RFC 3396). */
  options: DhcpOption[];
}

/** A datagram that is not a well-formed DHCP message; the message says where and why. */
export class DhcpDecodeError extends Error {
  override readonly name = 'DhcpDecodeError';
  readonly code = 'E_DHCP_DECODE';
}

export class DhcpEncodeError extends Error {
  override readonly name = 'DhcpEncodeError';
  readonly code = 'E_DHCP_ENCODE';
}

const utf8 = new TextDecoder('utf-8', { fatal: false });
const utf8Encoder = new TextEncoder();

function cString(data: Uint8Array): string {
  if (data[0] === 0) return '';
  const nul = data.indexOf(0);
  return utf8.decode(nul === -1 ? data : data.subarray(0, nul));
}

/**
 * Reads one option field (TLVs until End or the field's end) into `into`, one entry per code in
 * first-seen order; a repeated code (RFC 3396, rare) is concatenated onto its entry. A linear search:
 * requests carry a handful of options, and a Map per datagram showed in GC profiles.
 */
function readOptionField(buf: Uint8Array, start: number, end: number, field: string, into: DhcpOption[]): void {
  let i = start;
  while (i < end) {
    const code = buf[i]!;
    if (code === 0) {
      i++;
      continue;
    }
    if (code === 255) return;
    if (i + 1 >= end) throw new DhcpDecodeError(`option ${code} at offset ${i} in the ${field} field: length byte missing`);
    const length = buf[i + 1]!;
    if (i + 2 + length > end) {
      throw new DhcpDecodeError(`option ${code} at offset ${i} in the ${field} field claims ${length} bytes, only ${end - i - 2} remain`);
    }
    // A view, not a copy: a decoded packet shares the datagram's memory (copying every option showed in GC profiles).
    const data = buf.subarray(i + 2, i + 2 + length);
    const seen = indexOfCode(into, code);
    if (seen === -1) into.push({ code, data });
    else into[seen]!.data = concat(into[seen]!.data, data);
    i += 2 + length;
  }
}

/** A loop, not find(): a closure per lookup, several lookups per datagram. */
function indexOfCode(options: readonly DhcpOption[], code: number): number {
  for (let i = 0; i < options.length; i++) if (options[i]!.code === code) return i;
  return -1;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function uint32At(buf: Uint8Array, offset: number): number {
  return ((buf[offset]! << 24) | (buf[offset + 1]! << 16) | (buf[offset + 2]! << 8) | buf[offset + 3]!) >>> 0;
}

/** Bytes → packet. Throws DhcpDecodeError with the offset and reason for anything malformed. */
export function decodePacket(buf: Uint8Array): DhcpPacket {
  if (buf.length < OPTIONS_OFFSET) {
    throw new DhcpDecodeError(`DHCP message too short: ${buf.length} bytes, need at least ${OPTIONS_OFFSET} (236-byte BOOTP header + magic cookie)`);
  }
  const cookie = uint32At(buf, HEADER_LENGTH);
  if (cookie !== MAGIC_COOKIE) {
    throw new DhcpDecodeError(`no DHCP magic cookie at offset 236: found 0x${cookie.toString(16).padStart(8, '0')}, expected 0x63825363`);
  }
  const op = buf[0]!;
  if (op !== BOOTREQUEST && op !== BOOTREPLY) throw new DhcpDecodeError(`op ${op} at offset 0: expected 1 (BOOTREQUEST) or 2 (BOOTREPLY)`);
  const hlen = buf[2]!;
  if (hlen > 16) throw new DhcpDecodeError(`hlen ${hlen} at offset 2: chaddr holds at most 16 bytes`);

  const options: DhcpOption[] = [];
  readOptionField(buf, OPTIONS_OFFSET, buf.length, 'options', options);
  let overload = 0;
  const overloadAt = indexOfCode(options, Code.overload);
  if (overloadAt !== -1) {
    const data = options[overloadAt]!.data;
    options.splice(overloadAt, 1);
    overload = data.length === 1 ? data[0]! : -1;
    if (overload < 1 || overload > 3) {
      throw new DhcpDecodeError(`option 52 (overload) is ${bytesToHex(data)}: expected one byte 1 (file), 2 (sname) or 3 (both)`);
    }
    // RFC 2131 §4.1: the file field is read before sname.
    if (overload & 1) readOptionField(buf, FILE_OFFSET, FILE_OFFSET + FILE_LENGTH, 'file', options);
    if (overload & 2) readOptionField(buf, SNAME_OFFSET, SNAME_OFFSET + SNAME_LENGTH, 'sname', options);
    const again = indexOfCode(options, Code.overload);
    if (again !== -1) options.splice(again, 1);
  }

  return {
    op,
    htype: buf[1]!,
    hlen,
    hops: buf[3]!,
    xid: uint32At(buf, 4),
    secs: (buf[8]! << 8) | buf[9]!,
    flags: (buf[10]! << 8) | buf[11]!,
    ciaddr: bytesToIp(buf, 12),
    yiaddr: bytesToIp(buf, 16),
    siaddr: bytesToIp(buf, 20),
    giaddr: bytesToIp(buf, 24),
    chaddr: buf.slice(28, 28 + hlen),
    sname: overload & 2 ? '' : cString(buf.subarray(SNAME_OFFSET, SNAME_OFFSET + SNAME_LENGTH)),
    file: overload & 1 ? '' : cString(buf.subarray(FILE_OFFSET, FILE_OFFSET + FILE_LENGTH)),
    options,
  };
}

/** Writes a dotted quad (1-3 digits a part, each at most 255) without splitting or a regular expression: it runs for every reply. */
function writeIp(out: Uint8Array, offset: number, text: string, field: string): void {
  if (text === '0.0.0.0') return; // the output starts zeroed; most address fields are empty
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 46; // a final '.' closes the last part
    if (c >= 48 && c <= 57 && digits < 3) {
      value = value * 10 + (c - 48);
      digits++;
    } else if (c === 46 && digits > 0 && value <= 255 && part < 4) {
      out[offset + part++] = value;
      value = 0;
      digits = 0;
    } else {
      part = -1;
      break;
    }
  }
  if (part !== 4) throw new DhcpEncodeError(`${field} is not an IPv4 address: ${JSON.stringify(text)}`);
}

/** Splits options into TLV chunks of at most 255 data bytes each (RFC 3396 §5). */
function tlvChunks(options: readonly DhcpOption[]): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (const { code, data } of options) {
    if (code === 0 || code === 255 || code === Code.overload) {
      throw new DhcpEncodeError(`option ${code} cannot be set directly: pad, end and overload belong to the codec`);
    }
    let at = 0;
    do {
      const piece = data.subarray(at, at + 255);
      const tlv = new Uint8Array(2 + piece.length);
      tlv[0] = code;
      tlv[1] = piece.length;
      tlv.set(piece, 2);
      chunks.push(tlv);
      at += 255;
    } while (at < data.length);
  }
  return chunks;
}

export interface EncodeOptions {
  /** Largest DHCP message (UDP payload) the receiver accepts; default 548 (RFC 2131 §2). */
  maxLength?: number;
}

/** Bytes the options take as TLVs, counting the extra headers of RFC 3396 splits. */
function tlvLength(options: readonly DhcpOption[]): number {
  let n = 0;
  for (const { data } of options) n += data.length + 2 * Math.max(1, Math.ceil(data.length / 255));
  return n;
}

function writeHeader(out: Uint8Array, packet: DhcpPacket): void {
  out[0] = packet.op;
  out[1] = packet.htype;
  out[2] = packet.hlen;
  out[3] = packet.hops;
  const xid = packet.xid >>> 0;
  out[4] = xid >>> 24;
  out[5] = (xid >>> 16) & 255;
  out[6] = (xid >>> 8) & 255;
  out[7] = xid & 255;
  out[8] = (packet.secs >>> 8) & 255;
  out[9] = packet.secs & 255;
  out[10] = (packet.flags >>> 8) & 255;
  out[11] = packet.flags & 255;
  writeIp(out, 12, packet.ciaddr, 'ciaddr');
  writeIp(out, 16, packet.yiaddr, 'yiaddr');
  writeIp(out, 20, packet.siaddr, 'siaddr');
  writeIp(out, 24, packet.giaddr, 'giaddr');
  out.set(packet.chaddr, 28);
  out[236] = 0x63; // magic cookie 99.130.83.99
  out[237] = 0x82;
  out[238] = 0x53;
  out[239] = 0x63;
}

/**
 * Encoded messages are carved from a shared zero-filled block, never reused, so each is zeroed without a
 * fill, and a reply costs no ArrayBuffer of its own: an ArrayBuffer per reply cost an allocation outside
 * the heap and its sweeping at every scavenge (profiles at 10,000 exchanges/s). A block lives as long as
 * one of its messages does.
 */
const BLOCK_BYTES = 16 << 10;
let block = new Uint8Array(0);
let blockUsed = 0;

function zeroedBytes(length: number): Uint8Array {
  if (length > BLOCK_BYTES / 4) return new Uint8Array(length);
  if (blockUsed + length > block.length) {
    block = new Uint8Array(BLOCK_BYTES);
    blockUsed = 0;
  }
  const out = block.subarray(blockUsed, blockUsed + length);
  blockUsed += length;
  return out;
}

/** Packet → bytes; throws DhcpEncodeError when a field or the options do not fit. */
export function encodePacket(packet: DhcpPacket, encodeOptions: EncodeOptions = {}): Uint8Array {
  const maxLength = Math.max(DEFAULT_MAX_MESSAGE, encodeOptions.maxLength ?? DEFAULT_MAX_MESSAGE);
  // Fast path, the usual case: everything fits in the options field, each option is written in place.
  const length = tlvLength(packet.options);
  if (
    length <= maxLength - OPTIONS_OFFSET - 1 &&
    packet.chaddr.length <= 16 &&
    packet.sname.length <= SNAME_LENGTH / 4 &&
    packet.file.length <= FILE_LENGTH / 4
  ) {
    const out = zeroedBytes(Math.max(MIN_MESSAGE_LENGTH, OPTIONS_OFFSET + length + 1));
    writeHeader(out, packet);
    if (packet.sname) out.set(utf8Encoder.encode(packet.sname), SNAME_OFFSET);
    if (packet.file) out.set(utf8Encoder.encode(packet.file), FILE_OFFSET);
    let at = OPTIONS_OFFSET;
    for (const { code, data } of packet.options) {
      if (code === 0 || code === 255 || code === Code.overload) {
        throw new DhcpEncodeError(`option ${code} cannot be set directly: pad, end and overload belong to the codec`);
      }
      if (data.length <= 255) {
        out[at] = code;
        out[at + 1] = data.length;
        out.set(data, at + 2);
        at += 2 + data.length;
        continue;
      }
      let from = 0;
      do {
        const piece = Math.min(255, data.length - from);
        out[at] = code;
        out[at + 1] = piece;
        out.set(data.subarray(from, from + piece), at + 2);
        at += 2 + piece;
        from += 255;
      } while (from < data.length);
    }
    out[at] = 255;
    return out;
  }
  return encodeSlow(packet, maxLength);
}

/** Packets whose options need the file and sname fields (overload), or whose names are long. */
function encodeSlow(packet: DhcpPacket, maxLength: number): Uint8Array {
  const chunks = tlvChunks(packet.options);
  const sname = utf8Encoder.encode(packet.sname);
  const file = utf8Encoder.encode(packet.file);
  if (sname.length > SNAME_LENGTH) throw new DhcpEncodeError(`sname is ${sname.length} bytes, the field holds ${SNAME_LENGTH}`);
  if (file.length > FILE_LENGTH) throw new DhcpEncodeError(`file is ${file.length} bytes, the field holds ${FILE_LENGTH}`);
  if (packet.chaddr.length > 16) throw new DhcpEncodeError(`chaddr is ${packet.chaddr.length} bytes, the field holds 16`);

  const mainRoom = maxLength - OPTIONS_OFFSET - 1; // one byte for End
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const main: Uint8Array[] = [];
  const inFile: Uint8Array[] = [];
  const inSname: Uint8Array[] = [];
  let overload = 0;
  if (total <= mainRoom) {
    main.push(...chunks);
  } else {
    // Option overload: fill the options field (keeping 3 bytes for option 52), then file, then sname.
    const rooms: [Uint8Array[], number, number][] = [[main, mainRoom - 3, 0]];
    if (file.length === 0) rooms.push([inFile, FILE_LENGTH - 1, 1]);
    if (sname.length === 0) rooms.push([inSname, SNAME_LENGTH - 1, 2]);
    let room = 0;
    let used = 0;
    for (const chunk of chunks) {
      while (room < rooms.length && used + chunk.length > rooms[room]![1]) {
        room++;
        used = 0;
      }
      const target = rooms[room];
      if (!target) {
        throw new DhcpEncodeError(`options need ${total} bytes, more than fit in a ${maxLength}-byte message even with the file and sname fields`);
      }
      target[0].push(chunk);
      overload |= target[2];
      used += chunk.length;
    }
  }

  const mainBytes = main.reduce((n, c) => n + c.length, 0) + (overload ? 3 : 0) + 1;
  const out = new Uint8Array(Math.max(MIN_MESSAGE_LENGTH, OPTIONS_OFFSET + mainBytes));
  const view = new DataView(out.buffer);
  out[0] = packet.op;
  out[1] = packet.htype;
  out[2] = packet.hlen;
  out[3] = packet.hops;
  view.setUint32(4, packet.xid >>> 0);
  view.setUint16(8, packet.secs);
  view.setUint16(10, packet.flags);
  writeIp(out, 12, packet.ciaddr, 'ciaddr');
  writeIp(out, 16, packet.yiaddr, 'yiaddr');
  writeIp(out, 20, packet.siaddr, 'siaddr');
  writeIp(out, 24, packet.giaddr, 'giaddr');
  out.set(packet.chaddr, 28);
  const fill = (parts: Uint8Array[], at: number): number => {
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    out[at] = 255;
    return at + 1;
  };
  if (overload & 2) fill(inSname, SNAME_OFFSET);
  else out.set(sname, SNAME_OFFSET);
  if (overload & 1) fill(inFile, FILE_OFFSET);
  else out.set(file, FILE_OFFSET);
  view.setUint32(HEADER_LENGTH, MAGIC_COOKIE);
  let at = OPTIONS_OFFSET;
  if (overload) {
    out.set([Code.overload, 1, overload], at);
    at += 3;
  }
  fill(main, at);
  return out;
}

// ---- option access by name, through the table ----

export function getRaw(packet: DhcpPacket, code: number): Uint8Array | undefined {
  const at = indexOfCode(packet.options, code);
  return at === -1 ? undefined : packet.options[at]!.data;
}

/**
 * The typed value of a named option, or undefined when absent. A present option whose bytes do not
 * fit its type throws OptionValueError (a malformed request: the caller drops it).
 */
export function getOption<N extends OptionName>(packet: DhcpPacket, name: N): OptionValue<N> | undefined {
  const spec = optionByName(name)!;
  const data = getRaw(packet, spec.code);
  if (data === undefined) return undefined;
  return decodeValue(spec, data) as unknown as OptionValue<N>;
}

/** Sets (replacing) or appends a named option, encoding the value by the table's type. */
export function setOption<N extends OptionName>(packet: DhcpPacket, name: N, value: OptionValue<N>): void {
  const spec = optionByName(name)!;
  setRaw(packet, spec.code, encodeValue(spec, value));
}

export function setRaw(packet: DhcpPacket, code: number, data: Uint8Array): void {
  const at = indexOfCode(packet.options, code);
  if (at === -1) packet.options.push({ code, data });
  else packet.options[at]!.data = data;
}

export function emptyPacket(op: number): DhcpPacket {
  return {
    op,
    htype: 1,
    hlen: 6,
    hops: 0,
    xid: 0,
    secs: 0,
    flags: 0,
    ciaddr: '0.0.0.0',
    yiaddr: '0.0.0.0',
    siaddr: '0.0.0.0',
    giaddr: '0.0.0.0',
    chaddr: new Uint8Array(6),
    sname: '',
    file: '',
    options: [],
  };
}

/** A one-object summary for debug logs: header fields and every option by its table name. */
export function describePacket(packet: DhcpPacket): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  for (const o of packet.options) {
    const { name, value } = formatOption(o.code, o.data);
    options[name] = value;
  }
  return {
    op: packet.op === BOOTREQUEST ? 'request' : 'reply',
    xid: `0x${packet.xid.toString(16).padStart(8, '0')}`,
    chaddr: bytesToHex(packet.chaddr, ':'),
    flags: packet.flags,
    ciaddr: packet.ciaddr,
    yiaddr: packet.yiaddr,
    siaddr: packet.siaddr,
    giaddr: packet.giaddr,
    ...(packet.sname ? { sname: packet.sname } : {}),
    ...(packet.file ? { file: packet.file } : {}),
    options,
  };
}
