/**
 * XDR (RFC 4506), the encoding under ONC RPC: big-endian 4-byte units, opaque data and strings
 * padded with zeros to a multiple of 4. Only what the portmapper, MOUNT and NFSv3 calls need.
 * Every read is bounds-checked and says what it was reading, so a short reply is one clear error.
 */

export class XdrError extends Error {
  override readonly name = 'XdrError';
}

const pad = (n: number): number => (4 - (n % 4)) % 4;

export class XdrWriter {
  private chunks: Uint8Array[] = [];
  private length = 0;

  uint(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new XdrError(`uint out of range: ${value}`);
    const b = Buffer.alloc(4);
    b.writeUInt32BE(value);
    return this.push(b);
  }

  int(value: number): this {
    if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) throw new XdrError(`int out of range: ${value}`);
    const b = Buffer.alloc(4);
    b.writeInt32BE(value);
    return this.push(b);
  }

  bool(value: boolean): this {
    return this.uint(value ? 1 : 0);
  }

  /** Variable-length opaque<max>: length, bytes, padding. */
  opaque(bytes: Uint8Array, max = 0xffffffff): this {
    if (bytes.length > max) throw new XdrError(`opaque of ${bytes.length} bytes exceeds its limit of ${max}`);
    this.uint(bytes.length);
    return this.fixed(bytes);
  }

  /** Fixed-length opaque[n]: bytes and padding, no length. */
  fixed(bytes: Uint8Array): this {
    this.push(bytes);
    const p = pad(bytes.length);
    return p ? this.push(new Uint8Array(p)) : this;
  }

  string(text: string, max = 0xffffffff): this {
    return this.opaque(Buffer.from(text, 'utf8'), max);
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks, this.length);
  }

  private push(b: Uint8Array): this {
    this.chunks.push(b);
    this.length += b.length;
    return this;
  }
}

export class XdrReader {
  private offset = 0;
  private readonly view: Buffer;

  constructor(data: Uint8Array, offset = 0) {
    this.view = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    this.offset = offset;
  }

  get position(): number {
    return this.offset;
  }

  get remaining(): number {
    return this.view.length - this.offset;
  }

  private need(n: number, what: string): void {
    if (this.offset + n > this.view.length) {
      throw new XdrError(`truncated: ${what} needs ${n} bytes at offset ${this.offset}, ${this.remaining} left`);
    }
  }

  uint(what = 'uint'): number {
    this.need(4, what);
    const v = this.view.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  int(what = 'int'): number {
    this.need(4, what);
    const v = this.view.readInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  /** An unsigned hyper as a bigint (sizes, file ids). */
  uhyper(what = 'uhyper'): bigint {
    this.need(8, what);
    const v = this.view.readBigUInt64BE(this.offset);
    this.offset += 8;
    return v;
  }

  bool(what = 'bool'): boolean {
    const v = this.uint(what);
    if (v > 1) throw new XdrError(`${what}: ${v} is not a boolean`);
    return v === 1;
  }

  opaque(what = 'opaque', max = 0xffffffff): Buffer {
    const n = this.uint(`${what} length`);
    if (n > max) throw new XdrError(`${what}: length ${n} exceeds its limit of ${max}`);
    return this.fixed(n, what);
  }

  fixed(n: number, what = 'fixed opaque'): Buffer {
    this.need(n + pad(n), what);
    const v = Buffer.from(this.view.subarray(this.offset, this.offset + n));
    this.offset += n + pad(n);
    return v;
  }

  string(what = 'string', max = 0xffffffff): string {
    return this.opaque(what, max).toString('utf8');
  }

  skip(n: number, what = 'skipped bytes'): void {
    this.need(n, what);
    this.offset += n;
  }
}
