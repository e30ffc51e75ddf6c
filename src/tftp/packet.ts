/**
 * TFTP packets (RFC 1350 section 5, OACK from RFC 2347): decode bytes into a typed packet and encode it back.
 * Pure: no sockets, no files. Decoding is strict and every failure names what was wrong and where, so a
 * dropped datagram's log line says why; the server decides what to do with a DecodeError (drop it).
 *
 * Strings (file name, mode, option names and values, error text) are NUL-terminated bytes on the wire.
 * They are read as latin1, one character per byte, so every byte sequence survives a round trip and the
 * file source can turn the name back into the exact bytes the client sent.
 */

export const opcodes = { RRQ: 1, WRQ: 2, DATA: 3, ACK: 4, ERROR: 5, OACK: 6 } as const;
export type OpName = keyof typeof opcodes;

/** One option as the client spelled it; RFC 2347 names are case-insensitive, so compare lowercased. */
export interface TftpOption {
  name: string;
  value: string;
}

export type RequestPacket = { op: 'RRQ' | 'WRQ'; filename: string; mode: string; options: TftpOption[] };
export type DataPacket = { op: 'DATA'; block: number; data: Uint8Array };
export type AckPacket = { op: 'ACK'; block: number };
export type ErrorPacket = { op: 'ERROR'; code: number; message: string };
export type OackPacket = { op: 'OACK'; options: TftpOption[] };
export type Packet = RequestPacket | DataPacket | AckPacket | ErrorPacket | OackPacket;

/** RFC 2348: the largest block that fits a 65535-byte UDP datagram with IP and UDP headers. */
export const maxBlockSize = 65464;

export class DecodeError extends Error {
  override readonly name = 'DecodeError';
  readonly code = 'E_TFTP_DECODE';
}

const opNames: Record<number, OpName> = { 1: 'RRQ', 2: 'WRQ', 3: 'DATA', 4: 'ACK', 5: 'ERROR', 6: 'OACK' };

function u16(bytes: Uint8Array, offset: number): number {
  return (bytes[offset]! << 8) | bytes[offset + 1]!;
}

/** Reads a NUL-terminated string starting at offset; returns it and the offset after the NUL. */
function readString(bytes: Uint8Array, offset: number, what: string): { text: string; next: number } {
  const end = bytes.indexOf(0, offset);
  if (end < 0) throw new DecodeError(`${what} at offset ${offset} is not NUL-terminated`);
  return { text: latin1(bytes.subarray(offset, end)), next: end + 1 };
}

function latin1(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 4096) {
    text += String.fromCharCode(...bytes.subarray(i, i + 4096));
  }
  return text;
}

function decodeOptions(bytes: Uint8Array, offset: number, op: string): TftpOption[] {
  const options: TftpOption[] = [];
  while (offset < bytes.length) {
    const name = readString(bytes, offset, `${op} option name`);
    if (name.text === '') throw new DecodeError(`${op} option name at offset ${offset} is empty`);
    if (name.next >= bytes.length) throw new DecodeError(`${op} option "${name.text}" has no value`);
    const value = readString(bytes, name.next, `${op} option "${name.text}" value`);
    options.push({ name: name.text, value: value.text });
    offset = value.next;
  }
  return options;
}

/** Decodes one datagram; throws DecodeError with a precise message on anything malformed. */
export function decode(bytes: Uint8Array): Packet {
  if (bytes.length < 2) throw new DecodeError(`datagram of ${bytes.length} byte(s) is shorter than an opcode`);
  const code = u16(bytes, 0);
  const op = opNames[code];
  switch (op) {
    case 'RRQ':
    case 'WRQ': {
      const filename = readString(bytes, 2, `${op} file name`);
      const mode = readString(bytes, filename.next, `${op} mode`);
      if (mode.text === '') throw new DecodeError(`${op} mode at offset ${filename.next} is empty`);
      return { op, filename: filename.text, mode: mode.text, options: decodeOptions(bytes, mode.next, op) };
    }
    case 'DATA': {
      if (bytes.length < 4) throw new DecodeError(`DATA of ${bytes.length} bytes is shorter than its 4-byte header`);
      return { op, block: u16(bytes, 2), data: bytes.subarray(4) };
    }
    case 'ACK': {
      if (bytes.length !== 4) throw new DecodeError(`ACK must be 4 bytes, got ${bytes.length}`);
      return { op, block: u16(bytes, 2) };
    }
    case 'ERROR': {
      if (bytes.length < 4) throw new DecodeError(`ERROR of ${bytes.length} bytes is shorter than its 4-byte header`);
      // Forgiving on one point: some clients omit the message's NUL. A client ERROR must still end
      // its transfer (PXE ROMs abort after reading tsize), so the text runs to the end of the datagram.
      const end = bytes.indexOf(0, 4);
      return { op, code: u16(bytes, 2), message: latin1(bytes.subarray(4, end < 0 ? bytes.length : end)) };
    }
    case 'OACK':
      return { op, options: decodeOptions(bytes, 2, op) };
    default:
      throw new DecodeError(`unknown opcode ${code}`);
  }
}

function stringLength(text: string): number {
  return text.length + 1;
}

/** The number of bytes encode(packet) produces. */
export function encodingLength(packet: Packet): number {
  switch (packet.op) {
    case 'RRQ':
    case 'WRQ':
      return 2 + stringLength(packet.filename) + stringLength(packet.mode) + optionsLength(packet.options);
    case 'DATA':
      return 4 + packet.data.length;
    case 'ACK':
      return 4;
    case 'ERROR':
      return 4 + stringLength(packet.message);
    case 'OACK':
      return 2 + optionsLength(packet.options);
  }
}

function optionsLength(options: readonly TftpOption[]): number {
  return options.reduce((sum, o) => sum + stringLength(o.name) + stringLength(o.value), 0);
}

function writeString(buf: Uint8Array, offset: number, text: string, what: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0 || c > 0xff) throw new RangeError(`${what} has a character that cannot be sent (code ${c} at index ${i})`);
    buf[offset++] = c;
  }
  buf[offset++] = 0;
  return offset;
}

function writeU16(buf: Uint8Array, offset: number, value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) throw new RangeError(`${what} ${value} is not 0-65535`);
  buf[offset] = value >> 8;
  buf[offset + 1] = value & 0xff;
}

/** Encodes a packet into `buf` at `offset` (a new buffer when omitted); returns the bytes written. */
export function encode(packet: Packet, buf?: Uint8Array, offset = 0): Uint8Array {
  const length = encodingLength(packet);
  const out = buf ?? new Uint8Array(length);
  if (out.length - offset < length) throw new RangeError(`buffer has ${out.length - offset} bytes, packet needs ${length}`);
  writeU16(out, offset, opcodes[packet.op], 'opcode');
  let at = offset + 2;
  switch (packet.op) {
    case 'RRQ':
    case 'WRQ':
      at = writeString(out, at, packet.filename, 'file name');
      at = writeString(out, at, packet.mode, 'mode');
      at = writeOptions(out, at, packet.options);
      break;
    case 'DATA':
      writeU16(out, at, packet.block, 'block');
      out.set(packet.data, at + 2);
      break;
    case 'ACK':
      writeU16(out, at, packet.block, 'block');
      break;
    case 'ERROR':
      writeU16(out, at, packet.code, 'error code');
      writeString(out, at + 2, packet.message, 'error message');
      break;
    case 'OACK':
      writeOptions(out, at, packet.options);
      break;
  }
  return out.subarray(offset, offset + length);
}

function writeOptions(buf: Uint8Array, at: number, options: readonly TftpOption[]): number {
  for (const option of options) {
    if (option.name === '') throw new RangeError('option name is empty');
    at = writeString(buf, at, option.name, 'option name');
    at = writeString(buf, at, option.value, `option ${option.name} value`);
  }
  return at;
}

/** The 4-byte DATA header; the server sends it with the payload as a second buffer to avoid a copy. */
export function dataHeader(block: number, header: Uint8Array = new Uint8Array(4)): Uint8Array {
  header[0] = 0;
  header[1] = opcodes.DATA;
  writeU16(header, 2, block, 'block');
  return header;
}
