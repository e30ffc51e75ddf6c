/**
 * Option negotiation for a read request (RFC 2347): from what the client asked and what the server allows,
 * decide the transfer's parameters and the OACK to send. Pure.
 *
 * RFC 2347: unknown options are ignored, and the OACK names only the options the server accepted; with none
 * accepted the server answers with DATA 1 as in RFC 1350. Names are case-insensitive; the OACK repeats the
 * client's own spelling so a client that compares names exactly still finds them.
 */
import { maxBlockSize, type TftpOption } from './packet.js';

export interface NegotiationLimits {
  /** tftp.maxBlksize: the largest block the server agrees to. */
  maxBlksize: number;
  /** tftp.maxWindowsize: the largest RFC 7440 window the server agrees to. */
  maxWindowsize: number;
}

export interface Negotiated {
  blksize: number;
  windowsize: number;
  /** Seconds the client asked to wait before retransmitting (RFC 2349), if accepted. */
  timeoutSec: number | undefined;
  /** The options to acknowledge, in the client's order; empty means no OACK. */
  oack: TftpOption[];
}

/** RFC 1350's fixed block size, used when the client does not ask for another. */
export const defaultBlksize = 512;

/** Decimal digits only: RFC 2347 values are ASCII numbers; a sign, space or exponent is refused. */
function integerValue(text: string): number | undefined {
  if (!/^\d{1,10}$/.test(text)) return undefined;
  return Number(text);
}

/**
 * @param size the file's size in bytes for tsize, or undefined when the source does not know it (a generated
 *   file) or the size on the wire differs from it (netascii): then tsize is not acknowledged.
 */
export function negotiate(requested: readonly TftpOption[], limits: NegotiationLimits, size: number | undefined): Negotiated {
  const result: Negotiated = { blksize: defaultBlksize, windowsize: 1, timeoutSec: undefined, oack: [] };
  const seen = new Set<string>();
  for (const option of requested) {
    const name = option.name.toLowerCase();
    // A repeated option is answered once, by its first occurrence.
    if (seen.has(name)) continue;
    seen.add(name);
    const value = integerValue(option.value);
    switch (name) {
      case 'blksize': {
        // RFC 2348: 8-65464; the server may answer with a smaller size than asked, never a larger one.
        if (value === undefined || value < 8 || value > maxBlockSize) break;
        result.blksize = Math.min(value, limits.maxBlksize);
        result.oack.push({ name: option.name, value: String(result.blksize) });
        break;
      }
      case 'windowsize': {
        // RFC 7440: 1-65535, the server may answer with a smaller window.
        if (value === undefined || value < 1 || value > 65535) break;
        result.windowsize = Math.min(value, limits.maxWindowsize);
        result.oack.push({ name: option.name, value: String(result.windowsize) });
        break;
      }
      case 'timeout': {
        // RFC 2349: 1-255 seconds; the server must answer with the same value or leave the option out.
        if (value === undefined || value < 1 || value > 255) break;
        result.timeoutSec = value;
        result.oack.push({ name: option.name, value: String(value) });
        break;
      }
      case 'tsize': {
        // RFC 2349: on a read request the client sends 0 and the server answers with the file's size.
        if (value === undefined || size === undefined) break;
        result.oack.push({ name: option.name, value: String(size) });
        break;
      }
      default:
        // RFC 2347: options the server does not know are ignored, not refused.
        break;
    }
  }
  return result;
}

/** The transfer modes of RFC 1350; "mail" is obsolete and refused. */
export type TransferMode = 'octet' | 'netascii';

export function transferMode(mode: string): TransferMode | undefined {
  const lower = mode.toLowerCase();
  return lower === 'octet' || lower === 'netascii' ? lower : undefined;
}
