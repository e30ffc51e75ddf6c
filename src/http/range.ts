/**
 * What a GET or HEAD of a file is answered with, as a pure function of the request's Range and
 * conditional headers and what is known of the file: 200, 206 (one byte range), 304 or 416. The
 * server only carries the plan out. Section numbers are RFC 9110's.
 */

export type RangeSpec =
  /** No Range, or one we ignore (another unit, several ranges, bad syntax): the whole file. */
  | { kind: 'whole' }
  /** One satisfiable range, `end` inclusive (§14.1.2 last-pos), already clamped to the file. */
  | { kind: 'part'; start: number; end: number }
  /** A single range that starts at or beyond the end of the file, or a suffix of 0 bytes (§14.1.2, §15.5.17). */
  | { kind: 'unsatisfiable' };

/**
 * Range: bytes=first-last | first- | -suffix (§14.1.2). The unit is case-insensitive (§14.1). A server
 * may ignore Range altogether (§14.2): we do for several ranges (no multipart/byteranges: boot clients
 * ask for one), for other units and for anything that does not parse, and answer the whole file.
 */
export function parseRange(header: string | undefined, size: number): RangeSpec {
  if (header === undefined) return { kind: 'whole' };
  const match = /^\s*bytes\s*=\s*(.*)$/i.exec(header);
  if (!match) return { kind: 'whole' };
  // Empty list elements are allowed and ignored (§5.6.1).
  const specs = match[1]!
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (specs.length !== 1) return { kind: 'whole' };
  const spec = specs[0]!;
  const suffix = /^-(\d+)$/.exec(spec);
  if (suffix) {
    const length = Number(suffix[1]);
    if (length === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'part', start: Math.max(0, size - length), end: size - 1 };
  }
  const span = /^(\d+)-(\d*)$/.exec(spec);
  if (!span) return { kind: 'whole' };
  const first = Number(span[1]);
  const last = span[2] === '' ? Number.POSITIVE_INFINITY : Number(span[2]);
  // last-pos before first-pos makes the range-spec invalid (§14.1.1): ignored, not unsatisfiable.
  if (last < first) return { kind: 'whole' };
  if (first >= size) return { kind: 'unsatisfiable' };
  return { kind: 'part', start: first, end: Math.min(last, size - 1) };
}

/** IMF-fixdate (§5.6.7): `Sun, 06 Nov 1994 08:49:37 GMT`. */
export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

/** Any of the three date forms of §5.6.7 (Date.parse reads them all); undefined when it is none. */
export function parseHttpDate(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = Date.parse(text.trim());
  return Number.isNaN(ms) ? undefined : ms;
}

export interface FileFacts {
  /** undefined: generated content of unknown length (no Content-Length, no ranges). */
  size: number | undefined;
  /** Modification time in ms; undefined: no Last-Modified, no conditionals. */
  mtimeMs: number | undefined;
  /** Whether bytes can be read from any position (TftpFile.readAt): without it, ranges are ignored. */
  positional: boolean;
}

export interface RequestFacts {
  range?: string | undefined;
  ifRange?: string | undefined;
  ifModifiedSince?: string | undefined;
}

export type FilePlan = { status: 200; start: 0; end: number | undefined } | { status: 206; start: number; end: number } | { status: 304 } | { status: 416 };

/** HTTP dates have whole seconds: compare the file's time at that precision. */
const seconds = (ms: number) => Math.floor(ms / 1000);

/**
 * The order of §13.2.2: If-Modified-Since (we send no ETag, so If-None-Match never matches anything
 * of ours and is not consulted), then If-Range and Range. `end` is inclusive; for 200 it is size - 1,
 * or undefined for content of unknown length.
 */
export function planFile(request: RequestFacts, file: FileFacts): FilePlan {
  const since = parseHttpDate(request.ifModifiedSince);
  if (since !== undefined && file.mtimeMs !== undefined && seconds(file.mtimeMs) <= seconds(since)) return { status: 304 };
  const whole: FilePlan = { status: 200, start: 0, end: file.size === undefined ? undefined : file.size - 1 };
  if (request.range === undefined || file.size === undefined || !file.positional) return whole;
  // If-Range (§13.1.5): an entity tag never matches (we send none); a date applies the range only when
  // it is exactly the file's Last-Modified. Anything else: the whole, current file.
  if (request.ifRange !== undefined) {
    const date = /^\s*(W\/)?"/.test(request.ifRange) ? undefined : parseHttpDate(request.ifRange);
    if (date === undefined || file.mtimeMs === undefined || seconds(date) !== seconds(file.mtimeMs)) return whole;
  }
  const range = parseRange(request.range, file.size);
  if (range.kind === 'unsatisfiable') return { status: 416 };
  if (range.kind === 'part') return { status: 206, start: range.start, end: range.end };
  return whole;
}
