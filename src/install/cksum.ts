/**
 * POSIX cksum(1): the CRC the 5.x-8.x `<set>.inf` files list for each piece (release/scripts/info.sh
 * runs `cksum`). CRC-32 with polynomial 0x04C11DB7, most significant bit first, over the data and then
 * the byte length (least significant byte first, as few bytes as it takes), complemented.
 */
const table = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n << 24;
  for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
  return c >>> 0;
});

export class Cksum {
  private crc = 0;
  private length = 0;

  update(data: Uint8Array): this {
    let crc = this.crc;
    for (let i = 0; i < data.length; i++) crc = ((crc << 8) ^ table[((crc >>> 24) ^ data[i]!) & 0xff]!) >>> 0;
    this.crc = crc;
    this.length += data.length;
    return this;
  }

  /** The CRC and the byte count, as cksum prints them. */
  digest(): { crc: number; size: number } {
    let crc = this.crc;
    for (let n = this.length; n > 0; n = Math.floor(n / 256)) crc = ((crc << 8) ^ table[((crc >>> 24) ^ (n & 0xff)) & 0xff]!) >>> 0;
    return { crc: ~crc >>> 0, size: this.length };
  }
}
