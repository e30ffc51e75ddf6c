/**
 * Reads the classic pcap files `tcpdump -w` writes (Ethernet link type), so tests can assert on the
 * exact frames that crossed a namespace's interface. Handles IPv4/UDP and raw Ethernet payloads.
 */
export interface Frame {
  ethDst: string;
  ethSrc: string;
  etherType: number;
  /** Set for IPv4/UDP frames. */
  udp?: { srcIp: string; dstIp: string; srcPort: number; dstPort: number; payload: Buffer };
  /** Everything after the Ethernet header. */
  payload: Buffer;
}

const mac = (b: Buffer) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');
const ip = (b: Buffer) => Array.from(b).join('.');

export function readPcap(file: Buffer): Frame[] {
  if (file.length < 24) throw new Error(`pcap file too short: ${file.length} bytes`);
  const magic = file.readUInt32LE(0);
  const little = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!little && file.readUInt32BE(0) !== 0xa1b2c3d4 && file.readUInt32BE(0) !== 0xa1b23c4d) {
    throw new Error(`not a pcap file (magic ${magic.toString(16)})`);
  }
  const u32 = (offset: number) => (little ? file.readUInt32LE(offset) : file.readUInt32BE(offset));
  if (u32(20) !== 1) throw new Error(`link type ${u32(20)} is not Ethernet`);
  const frames: Frame[] = [];
  let offset = 24;
  while (offset + 16 <= file.length) {
    const captured = u32(offset + 8);
    const data = file.subarray(offset + 16, offset + 16 + captured);
    offset += 16 + captured;
    if (data.length < 14) continue;
    const frame: Frame = { ethDst: mac(data.subarray(0, 6)), ethSrc: mac(data.subarray(6, 12)), etherType: data.readUInt16BE(12), payload: data.subarray(14) };
    if (frame.etherType === 0x0800 && data.length >= 14 + 20) {
      const ihl = (data[14]! & 0x0f) * 4;
      const protocol = data[14 + 9];
      const udpStart = 14 + ihl;
      if (protocol === 17 && data.length >= udpStart + 8) {
        const length = data.readUInt16BE(udpStart + 4);
        frame.udp = {
          srcIp: ip(data.subarray(14 + 12, 14 + 16)),
          dstIp: ip(data.subarray(14 + 16, 14 + 20)),
          srcPort: data.readUInt16BE(udpStart),
          dstPort: data.readUInt16BE(udpStart + 2),
          payload: data.subarray(udpStart + 8, udpStart + length),
        };
      }
    }
    frames.push(frame);
  }
  return frames;
}
