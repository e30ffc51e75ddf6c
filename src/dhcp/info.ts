/**
 * "Parse the request once into an info record, then decide with a pure function": everything the
 * boot policy and the lease logic want to know about a request, read from the packet in one place.
 */
import { type DhcpPacket, getOption, getRaw } from './packet.js';
import { Code } from './options.js';

/** Who sent the request, as far as the options tell. */
export type ClientKind =
  | 'freebsd-loader' // pxeboot / loader.efi running their own DHCP (stand/libsa/bootp.c): user class FreeBSD, or a bare "PXEClient" without option 93
  | 'ipxe' // iPXE: option 175 or user class "iPXE"
  | 'pxe' // other PXE firmware: option 60 starts with "PXEClient"
  | 'http' // UEFI HTTP boot: option 60 starts with "HTTPClient"
  | 'plain'; // an ordinary DHCP client (an OS, an initramfs)

export interface RequestInfo {
  /** chaddr as aa:bb:..; undefined unless htype 1 (Ethernet) with hlen 6. */
  mac: string | undefined;
  /** The lease key: option 61 as hex when present (RFC 2131 §4.2), else `mac:<mac>`. */
  clientKey: string;
  messageType: number | undefined;
  /** Option 93, first entry (RFC 4578 §2.1); undefined when absent. */
  arch: number | undefined;
  vendorClass: string | undefined;
  /** Option 77 items: RFC 3004 form when it parses as such, else the whole option as one plain string. */
  userClasses: string[];
  /** True when option 77 is in RFC 3004 form (length-prefixed items). */
  userClassRfc3004: boolean;
  ipxe: boolean;
  kind: ClientKind;
  parameterList: number[];
  requestedAddress: string | undefined;
  serverId: string | undefined;
  hostName: string | undefined;
  maxMessageSize: number | undefined;
  relay: { giaddr: string; agentInfo: Uint8Array | undefined } | undefined;
}

const text = new TextDecoder();
const HEX_DIGITS = Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
const COLON = 58;
const textCodes: number[] = [];

/**
 * `prefix`, then the bytes in hex with `separator` (a character code; 0: none) between them, made as one
 * flat string. The MAC and the lease key are Map keys looked up several times a request, and a string
 * built by concatenation is a rope that V8 copies flat before it can hash it.
 */
function hexText(prefix: string, bytes: Uint8Array, separator: number): string {
  textCodes.length = 0;
  for (let i = 0; i < prefix.length; i++) textCodes.push(prefix.charCodeAt(i));
  for (let i = 0; i < bytes.length; i++) {
    if (i > 0 && separator !== 0) textCodes.push(separator);
    textCodes.push(HEX_DIGITS[bytes[i]! >> 4]!, HEX_DIGITS[bytes[i]! & 15]!);
  }
  return String.fromCharCode.apply(null, textCodes);
}

/**
 * RFC 3004 §4: user class data is a list of (length, bytes) items, each at least one byte. Returns
 * undefined when the bytes are not such a list (iPXE sends "iPXE" bare: 'i' = 105 overruns it).
 */
export function parseRfc3004(data: Uint8Array): string[] | undefined {
  const items: string[] = [];
  let i = 0;
  while (i < data.length) {
    const length = data[i]!;
    if (length === 0 || i + 1 + length > data.length) return undefined;
    items.push(text.decode(data.subarray(i + 1, i + 1 + length)));
    i += 1 + length;
  }
  return items.length > 0 ? items : undefined;
}

/** Reads the request once. Throws OptionValueError when an option the policy relies on is malformed. */
export function requestInfo(packet: DhcpPacket): RequestInfo {
  const mac = packet.htype === 1 && packet.hlen === 6 ? hexText('', packet.chaddr, COLON) : undefined;
  const clientId = getOption(packet, 'clientId');
  const clientKey = clientId && clientId.length > 0 ? hexText('id:', clientId, 0) : hexText(`hw:${packet.htype}:`, packet.chaddr, 0);
  const userClassRaw = getOption(packet, 'userClass');
  let userClasses: string[] = [];
  let userClassRfc3004 = false;
  if (userClassRaw && userClassRaw.length > 0) {
    const items = parseRfc3004(userClassRaw);
    userClassRfc3004 = items !== undefined;
    userClasses = items ?? [text.decode(userClassRaw)];
  }
  const vendorClass = getOption(packet, 'vendorClass');
  // iPXE sends its user class as a plain string; match by substring (FREEBSD.md, firmware facts).
  const ipxe = getRaw(packet, Code.ipxe) !== undefined || userClasses.some((u) => u.includes('iPXE'));
  const pxe = vendorClass?.startsWith('PXEClient') ?? false;
  const archList = getOption(packet, 'clientArch');
  // PXE firmware sends "PXEClient:Arch:xxxxx:UNDI:yyyzzz" and option 93 (PXE 2.1, RFC 4578); FreeBSD's
  // loaders send a bare "PXEClient", 12.2 with user class FreeBSD, 10.1's pxeboot with nothing else
  // (../../../shared/freebsd/RECIPES.md).
  const freebsdLoader = pxe && (userClasses.includes('FreeBSD') || (vendorClass === 'PXEClient' && archList === undefined && !ipxe));
  let kind: ClientKind = 'plain';
  if (vendorClass?.startsWith('HTTPClient')) kind = 'http';
  else if (freebsdLoader) kind = 'freebsd-loader';
  else if (ipxe) kind = 'ipxe';
  else if (pxe) kind = 'pxe';
  return {
    mac,
    clientKey,
    messageType: getOption(packet, 'messageType'),
    arch: archList?.[0],
    vendorClass,
    userClasses,
    userClassRfc3004,
    ipxe,
    kind,
    parameterList: getOption(packet, 'parameterList') ?? [],
    requestedAddress: getOption(packet, 'requestedAddress'),
    serverId: getOption(packet, 'serverId'),
    hostName: getOption(packet, 'hostName'),
    maxMessageSize: getOption(packet, 'maxMessageSize'),
    relay: packet.giaddr !== '0.0.0.0' ? { giaddr: packet.giaddr, agentInfo: getOption(packet, 'relayAgentInfo') } : undefined,
  };
}
