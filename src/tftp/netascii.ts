/**
 * netascii (RFC 1350 mode, defined by RFC 764's NVT): lines end in CR LF and a bare CR is sent as CR NUL.
 * Files on this server are Unix text, so a netascii read turns LF into CR LF and CR into CR NUL. The
 * conversion is a stream: a chunk boundary can fall anywhere, so the decoder keeps a pending CR between
 * chunks. Pure.
 */
const CR = 0x0d;
const LF = 0x0a;
const NUL = 0x00;

/** Local text to netascii. Stateless: every input byte maps to one or two output bytes. */
export class NetasciiEncoder {
  push(chunk: Uint8Array): Uint8Array {
    let extra = 0;
    for (const byte of chunk) if (byte === CR || byte === LF) extra++;
    if (extra === 0) return chunk;
    const out = new Uint8Array(chunk.length + extra);
    let at = 0;
    for (const byte of chunk) {
      if (byte === LF) {
        out[at++] = CR;
        out[at++] = LF;
      } else if (byte === CR) {
        out[at++] = CR;
        out[at++] = NUL;
      } else out[at++] = byte;
    }
    return out;
  }
}

/** netascii to local text: CR LF becomes LF, CR NUL becomes CR; a CR followed by anything else is kept. */
export class NetasciiDecoder {
  private pendingCr = false;

  push(chunk: Uint8Array): Uint8Array {
    const out = new Uint8Array(chunk.length + 1);
    let at = 0;
    for (const byte of chunk) {
      if (this.pendingCr) {
        this.pendingCr = false;
        if (byte === LF) {
          out[at++] = LF;
          continue;
        }
        if (byte === NUL) {
          out[at++] = CR;
          continue;
        }
        out[at++] = CR;
      }
      if (byte === CR) this.pendingCr = true;
      else out[at++] = byte;
    }
    return out.subarray(0, at);
  }

  /** End of stream: a trailing lone CR is kept as it was. */
  end(): Uint8Array {
    if (!this.pendingCr) return new Uint8Array(0);
    this.pendingCr = false;
    return Uint8Array.of(CR);
  }
}

/** Convenience for whole buffers (tests, small generated files). */
export function toNetascii(text: Uint8Array): Uint8Array {
  return new NetasciiEncoder().push(text);
}

export function fromNetascii(wire: Uint8Array): Uint8Array {
  const decoder = new NetasciiDecoder();
  const body = decoder.push(wire);
  const tail = decoder.end();
  if (tail.length === 0) return body;
  const out = new Uint8Array(body.length + tail.length);
  out.set(body);
  out.set(tail, body.length);
  return out;
}
