/**
 * The Wake-on-LAN magic packet (AMD's "Magic Packet" white paper, 1995): six bytes of 0xFF, then the
 * target's MAC sixteen times, optionally followed by a SecureOn password of 4 or 6 bytes that the
 * NIC compares before it wakes. Pure: the sender lives in services/wol.ts.
 */
import { formatMac, parseMac } from '../mac.js';
import { isIPv4 } from '../net.js';

const syncLength = 6;
const repeats = 16;
export const magicPacketLength = syncLength + repeats * 6; // 102

export function encodeMagicPacket(mac: Uint8Array, password?: Uint8Array): Buffer {
  if (mac.length !== 6) throw new RangeError(`a MAC address has 6 bytes, got ${mac.length}`);
  if (password && password.length !== 4 && password.length !== 6) {
    throw new RangeError(`a SecureOn password has 4 or 6 bytes, got ${password.length}`);
  }
  const packet = Buffer.alloc(magicPacketLength + (password?.length ?? 0));
  packet.fill(0xff, 0, syncLength);
  for (let i = 0; i < repeats; i++) packet.set(mac, syncLength + i * 6);
  if (password) packet.set(password, magicPacketLength);
  return packet;
}

export interface MagicPacket {
  mac: string;
  password?: Uint8Array;
}

/** Decode a magic packet; undefined when the bytes are not one (wrong length, sync or repetition). */
export function decodeMagicPacket(bytes: Uint8Array): MagicPacket | undefined {
  const extra = bytes.length - magicPacketLength;
  if (extra !== 0 && extra !== 4 && extra !== 6) return undefined;
  for (let i = 0; i < syncLength; i++) if (bytes[i] !== 0xff) return undefined;
  const mac = bytes.subarray(syncLength, syncLength + 6);
  for (let i = 1; i < repeats; i++) {
    const copy = bytes.subarray(syncLength + i * 6, syncLength + (i + 1) * 6);
    if (!copy.every((b, j) => b === mac[j])) return undefined;
  }
  const result: MagicPacket = { mac: formatMac(mac) };
  if (extra > 0) result.password = Uint8Array.from(bytes.subarray(magicPacketLength));
  return result;
}

/**
 * SecureOn passwords are written like ether-wake's `-p`: 4 bytes as a dotted quad (`192.168.1.1`) or
 * 6 bytes as a MAC (`00:22:44:66:88:aa`, or any MAC form).
 */
export function parseSecureOnPassword(text: string): Uint8Array | undefined {
  if (isIPv4(text)) return Uint8Array.from(text.split('.'), Number);
  return parseMac(text);
}
