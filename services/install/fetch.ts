/**
 * The download layer of `be install`: one distribution file (base.txz, or a piece base.aa of a 5.x-8.x
 * split set) from a mirror directory, an http(s) URL or a local directory, into the cache, verified.
 *
 * - A file is in the cache only once verified: `dest` exists only after its digest matched, so an
 *   existing `dest` whose digest matches is used without asking the mirror anything. One that no
 *   longer matches is deleted and fetched again.
 * - Bytes go to `dest.part` first, streamed through the hash into the file (memory does not grow with
 *   the file). An interrupted download resumes with `Range: bytes=N-` (RFC 9110 §14.2): a 206 appends
 *   and the hash covers the existing part first, a 200 starts over, a 416 whose `Content-Range: bytes
 *   *\/TOTAL` equals the part's size means the part is already complete (§15.5.17).
 * - On success the part is fsynced, verified and renamed over `dest` (then the directory is synced);
 *   on a digest mismatch the part is deleted, so nothing is left for the file.
 * - HTTP is node:http(s) (./http.ts): HTTP_PROXY, HTTPS_PROXY and NO_PROXY apply as they do for curl,
 *   redirects are followed. Failures are one line (BeError, for the CLI).
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream, type Stats } from 'node:fs';
import { mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { BeError } from '../../src/errors.js';
import { syncDirectory } from '../atomic.js';
import { get, type HttpResponse } from './http.js';

export type DigestAlgorithm = 'sha256' | 'md5';

/** The file or directory is not on the mirror (HTTP 404, or no such local path): a place to look elsewhere, not a failure to reach it. */
export class MirrorNotFoundError extends BeError {}

/** The one-line HTTP status error; a 404 is a MirrorNotFoundError. */
function statusError(url: string, status: number, statusText: string): BeError {
  if (status === 404) return new MirrorNotFoundError('E_NET', `${url}: not found (404)`);
  return new BeError('E_NET', `${url}: ${statusText || 'HTTP error'} (${status})`);
}

export interface Digest {
  algorithm: DigestAlgorithm;
  /** Hex, either case. */
  hex: string;
}

export interface FetchProgress {
  name: string;
  /** Bytes of the file on disk so far, the resumed part included. */
  received: number;
  /** The file's size when the mirror said it. */
  total: number | undefined;
  fromCache: boolean;
}

export interface FetchOptions {
  /** Without it the file is taken as it comes (its sha256 is still returned). */
  digest?: Digest;
  /** Aborting keeps the part, so the next call resumes; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Called for every chunk written, and once for a cached file. */
  onProgress?: (progress: FetchProgress) => void;
  /** HTTP only: the longest wait for the next bytes (connecting, headers, body), not a bound on the whole transfer. Default 30 s. */
  timeoutMs?: number;
}

export interface FetchResult {
  /** `dest`. */
  file: string;
  bytes: number;
  /** The digest of the file: options.digest's algorithm, or sha256. */
  hex: string;
  fromCache: boolean;
  /** The download continued a part left by an earlier one. */
  resumed: boolean;
}

const defaultTimeoutMs = 30_000;
/** A directory listing larger than this is not nginx's autoindex of a release directory. */
const maxListingBytes = 4 * 1024 * 1024;
const hexLength: Record<DigestAlgorithm, number> = { sha256: 64, md5: 32 };

export function isHttpSource(source: string): boolean {
  return /^https?:\/\//i.test(source);
}

/** Downloads (or copies) `name` from the mirror directory `source` to `dest`, verified; see the module comment. */
export async function fetchVerified(source: string, name: string, dest: string, options: FetchOptions = {}): Promise<FetchResult> {
  checkName(name);
  const algorithm = options.digest?.algorithm ?? 'sha256';
  const expected = options.digest?.hex.toLowerCase();
  if (expected !== undefined && !new RegExp(`^[0-9a-f]{${hexLength[algorithm]}}$`).test(expected)) {
    throw new BeError('E_USAGE', `${name}: "${options.digest?.hex}" is not a ${algorithm} in hex`);
  }
  options.signal?.throwIfAborted();
  const cached = await fromCache(dest, name, algorithm, expected, options);
  if (cached) return cached;
  await mkdir(dirname(dest), { recursive: true });
  const job: Job = { name, dest, part: `${dest}.part`, algorithm, expected, options };
  return isHttpSource(source) ? fetchHttp(fileUrl(source, name), job) : copyLocal(`${localDirectory(source).replace(/\/+$/, '')}/${name}`, job);
}

interface Job {
  name: string;
  dest: string;
  part: string;
  algorithm: DigestAlgorithm;
  expected: string | undefined;
  options: FetchOptions;
}

/** A name is a relative path inside the mirror directory (`base.txz`, `base/base.aa`), never above it. */
function checkName(name: string): void {
  const segments = name.split('/');
  if (name === '' || name.startsWith('/') || name.includes('\0') || segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw new BeError('E_USAGE', `"${name}" is not a file name inside a mirror directory`);
  }
}

function withSlash(source: string): string {
  return source.endsWith('/') ? source : `${source}/`;
}

function fileUrl(source: string, name: string): string {
  return new URL(name.split('/').map(encodeURIComponent).join('/'), withSlash(source)).href;
}

function localDirectory(source: string): string {
  return source.startsWith('file:') ? fileURLToPath(source) : source;
}

async function fromCache(dest: string, name: string, algorithm: DigestAlgorithm, expected: string | undefined, options: FetchOptions) {
  const size = await sizeOf(dest);
  if (size === undefined) return undefined;
  const hex = (await hashFile(dest, createHash(algorithm), options.signal)).digest('hex');
  if (expected !== undefined && hex !== expected) {
    await unlink(dest);
    return undefined;
  }
  options.onProgress?.({ name, received: size, total: size, fromCache: true });
  return { file: dest, bytes: size, hex, fromCache: true, resumed: false } satisfies FetchResult;
}

async function fetchHttp(url: string, job: Job): Promise<FetchResult> {
  const { options, part } = job;
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  // A part the mirror disagrees about (a 206 from elsewhere, a 416 for another size) is dropped and the request made once more from 0.
  for (let attempt = 0; ; attempt++) {
    const offset = (await sizeOf(part)) ?? 0;
    const hash = createHash(job.algorithm);
    // Hashed before asking, so the watchdog does not count the time spent reading a large part.
    if (offset > 0) await hashFile(part, hash, options.signal);
    const watchdog = new Watchdog(timeoutMs);
    const signals = [watchdog.signal, ...(options.signal ? [options.signal] : [])];
    const signal = AbortSignal.any(signals);
    try {
      let response: HttpResponse;
      try {
        // identity: a Range applies to the bytes sent, so a compressed response could not be resumed.
        response = await get(url, { 'accept-encoding': 'identity', ...(offset > 0 ? { range: `bytes=${offset}-` } : {}) }, signal);
      } catch (err) {
        throw failure(err, url, watchdog, options.signal, (cause) => `cannot reach ${url}: ${cause}`);
      }
      watchdog.kick();
      const { status } = response;
      if (status === 416 && offset > 0) {
        response.body.destroy();
        if (contentRange(response)?.total === offset) return await finish(job, url, hash, offset, true);
        await unlink(part);
        if (attempt > 0) throw new BeError('E_NET', `${url}: the mirror refused the range ${offset}- twice (416)`);
        continue;
      }
      if (status === 206) {
        const range = contentRange(response);
        if (range?.start !== offset) {
          response.body.destroy();
          await unlink(part);
          if (attempt > 0) throw new BeError('E_NET', `${url}: the mirror answered the range ${offset}- with ${response.header('content-range')}`);
          continue;
        }
        return await receive(job, url, response, hash, offset, range.total, watchdog, signal);
      }
      if (status === 200) {
        const length = Number(response.header('content-length') ?? Number.NaN);
        return await receive(job, url, response, createHash(job.algorithm), 0, Number.isSafeInteger(length) ? length : undefined, watchdog, signal);
      }
      response.body.destroy();
      throw statusError(url, status, response.statusText);
    } finally {
      watchdog.stop();
    }
  }
}

async function receive(
  job: Job,
  url: string,
  response: HttpResponse,
  hash: Hash,
  offset: number,
  total: number | undefined,
  watchdog: Watchdog,
  signal: AbortSignal,
): Promise<FetchResult> {
  let received: number;
  try {
    received = await writePart(job, response.body, hash, offset, total, signal, () => watchdog.kick());
  } catch (err) {
    throw failure(err, url, watchdog, job.options.signal, (cause) => `${url}: transfer failed: ${cause}`);
  }
  // Without a digest this is what tells a cut transfer from a whole one; the part stays to be resumed.
  if (total !== undefined && received !== total) throw new BeError('E_NET', `${url}: transfer ended after ${received} of ${total} bytes`);
  return finish(job, url, hash, received, offset > 0);
}

async function copyLocal(path: string, job: Job): Promise<FetchResult> {
  let info: Stats;
  try {
    info = await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new MirrorNotFoundError('E_EXEC', `${path}: no such file`);
    throw new BeError('E_EXEC', `${path}: ${(err as Error).message}`, undefined, { cause: err });
  }
  if (!info.isFile()) throw new BeError('E_EXEC', `${path}: not a file`);
  let offset = (await sizeOf(job.part)) ?? 0;
  if (offset > info.size) {
    await unlink(job.part);
    offset = 0;
  }
  const hash = createHash(job.algorithm);
  if (offset > 0) await hashFile(job.part, hash, job.options.signal);
  let received = offset;
  if (offset < info.size) {
    const { signal } = job.options;
    received = await writePart(job, createReadStream(path, { start: offset, ...(signal ? { signal } : {}) }), hash, offset, info.size, signal, () => {});
  }
  return finish(job, path, hash, received, offset > 0);
}

/**
 * A young-generation collection every `everyBytes` received. The chunks of a download are Buffers whose
 * memory lives outside V8's heap and is freed only when a collection finds them dead; a download makes
 * almost no garbage on the heap itself, so no collection comes until V8's external-memory threshold
 * (tens of MiB) is crossed, and dead chunks pile up to that much resident memory. Measured on a 256 MiB
 * download from nginx: peak RSS 88 MiB without, 59 MiB with a scavenge every 2 MiB (a 1 MiB download:
 * 48 MiB), and no difference in wall time (1.0-1.2 s either way): a scavenge of a near-empty young
 * generation costs microseconds.
 * `gc` is exposed at run time, as node --expose-gc would (V8 reads the flag when a context is made).
 */
class Collector {
  private static gc: ((options: { type: 'minor' }) => void) | undefined | null = null;
  private pending = 0;
  constructor(private readonly everyBytes: number) {}
  count(bytes: number): void {
    this.pending += bytes;
    if (this.pending < this.everyBytes) return;
    this.pending = 0;
    Collector.collect();
  }
  private static collect(): void {
    if (Collector.gc === null) {
      try {
        setFlagsFromString('--expose-gc');
        Collector.gc = runInNewContext('gc') as (options: { type: 'minor' }) => void;
      } catch {
        Collector.gc = undefined;
      }
    }
    Collector.gc?.({ type: 'minor' });
  }
}

/**
 * Streams `body` through the hash into the part (appending after `offset` bytes, or replacing it when
 * offset is 0) and fsyncs it; returns the part's size. Errors writing the file are BeErrors naming it.
 */
async function writePart(
  job: Job,
  body: Readable,
  hash: Hash,
  offset: number,
  total: number | undefined,
  signal: AbortSignal | undefined,
  onData: () => void,
): Promise<number> {
  let received = offset;
  const { name, options } = job;
  const collector = new Collector(2 * 1024 * 1024);
  const meter = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      onData();
      hash.update(chunk);
      received += chunk.length;
      collector.count(chunk.length);
      callback(null, chunk);
      options.onProgress?.({ name, received, total, fromCache: false });
    },
  });
  const file = createWriteStream(job.part, { flags: offset > 0 ? 'a' : 'w' });
  let writeError: Error | undefined;
  // Only the file's own failures (ENOSPC, EACCES: they carry a syscall): pipeline also destroys the file stream with
  // the body's error, and that one is the mirror's fault.
  file.on('error', (err: NodeJS.ErrnoException) => {
    if (err.syscall !== undefined) writeError ??= err;
  });
  try {
    await pipeline(body, meter, file, ...(signal ? [{ signal }] : []));
  } catch (err) {
    // pipeline rejects as soon as the signal aborts or a stream fails, while a write may still be in flight;
    // the part must be final before anyone (a resume) reads its size, so wait for the descriptor to close.
    if (!file.closed) await new Promise<void>((resolve) => file.once('close', () => resolve()));
    if (signal?.aborted) throw signal.reason;
    if (writeError) throw new BeError('E_EXEC', `${job.part}: ${writeError.message}`, undefined, { cause: writeError });
    throw err;
  }
  // The stream has closed its descriptor; fsync through another (fsync applies to the file, not the descriptor).
  const handle = await open(job.part, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  return received;
}

/** Verifies the complete part and moves it into place, or deletes it on a mismatch. */
async function finish(job: Job, where: string, hash: Hash, bytes: number, resumed: boolean): Promise<FetchResult> {
  const hex = hash.digest('hex');
  if (job.expected !== undefined && hex !== job.expected) {
    await unlink(job.part).catch(() => {});
    throw new BeError('E_EXEC', `${where}: ${job.algorithm} mismatch: expected ${job.expected}, got ${hex}`);
  }
  await rename(job.part, job.dest);
  await syncDirectory(dirname(job.dest));
  return { file: job.dest, bytes, hex, fromCache: false, resumed };
}

/**
 * The entries of a mirror directory, directories with a trailing `/`: readdir for a local path (sorted),
 * nginx's `autoindex on` listing over HTTP (in its order). `be install --list` shows them.
 */
export async function listDirectory(source: string, options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<string[]> {
  if (!isHttpSource(source)) return listLocal(localDirectory(source));
  const url = withSlash(source);
  const watchdog = new Watchdog(options.timeoutMs ?? defaultTimeoutMs);
  const signal = AbortSignal.any([watchdog.signal, ...(options.signal ? [options.signal] : [])]);
  try {
    let response: HttpResponse;
    try {
      response = await get(url, {}, signal);
    } catch (err) {
      throw failure(err, url, watchdog, options.signal, (cause) => `cannot reach ${url}: ${cause}`);
    }
    watchdog.kick();
    if (response.status !== 200) {
      response.body.destroy();
      throw statusError(url, response.status, response.statusText);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of response.body) {
        watchdog.kick();
        size += (chunk as Buffer).length;
        if (size > maxListingBytes) throw new BeError('E_NET', `${url}: the listing is larger than ${maxListingBytes} bytes`);
        chunks.push(chunk as Buffer);
      }
    } catch (err) {
      if (err instanceof BeError) throw err;
      throw failure(err, url, watchdog, options.signal, (cause) => `${url}: transfer failed: ${cause}`);
    }
    return parseIndexHtml(Buffer.concat(chunks).toString('utf8'));
  } finally {
    watchdog.stop();
  }
}

async function listLocal(path: string): Promise<string[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(path, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new MirrorNotFoundError('E_EXEC', `${path}: no such directory`);
    if (code === 'ENOTDIR') throw new BeError('E_EXEC', `${path}: not a directory`);
    throw new BeError('E_EXEC', `${path}: ${(err as Error).message}`, undefined, { cause: err });
  }
  const names = await Promise.all(
    entries.map(async (e) => {
      const isDirectory = e.isDirectory() || (e.isSymbolicLink() && (await stat(`${path}/${e.name}`).catch(() => undefined))?.isDirectory() === true);
      return isDirectory ? `${e.name}/` : e.name;
    }),
  );
  return names.sort();
}

const entities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, ref: string) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' || ref[1] === 'X' ? Number.parseInt(ref.slice(2), 16) : Number(ref.slice(1));
      return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return entities[ref.toLowerCase()] ?? whole;
  });
}

/**
 * The entries of an HTML directory listing (nginx's autoindex; Apache's is read the same way): every
 * `<a href>` naming a direct child, URL-decoded, directories keeping their `/`. Links up (`../`), to
 * other paths or sites, and sort links (`?C=N;O=D`) are not entries.
 */
export function parseIndexHtml(html: string): string[] {
  const names: string[] = [];
  for (const match of html.matchAll(/<a\s[^>]*?href\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/gi)) {
    const href = decodeEntities(match[1] ?? match[2] ?? match[3] ?? '');
    if (href === '' || /^[a-z][a-z\d+.-]*:/i.test(href) || href.startsWith('/') || /[?#]/.test(href)) continue;
    let name: string;
    try {
      name = decodeURIComponent(href.replace(/^\.\//, ''));
    } catch {
      continue;
    }
    const bare = name.endsWith('/') ? name.slice(0, -1) : name;
    if (bare === '' || bare === '.' || bare === '..' || bare.includes('/')) continue;
    if (!names.includes(name)) names.push(name);
  }
  return names;
}

/** Aborts when no bytes came for `ms`: kicked on every chunk, so a slow but moving transfer never trips it. */
class Watchdog {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  constructor(readonly ms: number) {
    this.kick();
  }
  get signal(): AbortSignal {
    return this.controller.signal;
  }
  get fired(): boolean {
    return this.controller.signal.aborted;
  }
  kick(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.controller.abort(new Error(`no data for ${this.ms} ms`)), this.ms);
  }
  stop(): void {
    clearTimeout(this.timer);
  }
}

/** The one line for a failed request: the caller's abort passes through as it is, a watchdog abort is a timeout. */
function failure(err: unknown, url: string, watchdog: Watchdog, signal: AbortSignal | undefined, line: (cause: string) => string): unknown {
  if (signal?.aborted) return signal.reason;
  if (watchdog.fired) return new BeError('E_NET', `${url}: no data for ${watchdog.ms / 1000} s`, undefined, { cause: err });
  if (err instanceof BeError) return err;
  return new BeError('E_NET', line(describe(err)), undefined, { cause: err });
}

/** The innermost cause says most (a connection's AggregateError: its first error), on one line. */
function describe(err: unknown): string {
  let e: unknown = err;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  if (e instanceof AggregateError && e.errors[0] instanceof Error) e = e.errors[0];
  const text = e instanceof Error ? e.message || (e as NodeJS.ErrnoException).code || e.name : String(e);
  return text.replace(/\s*\n\s*/g, ' ');
}

/**
 * `Content-Range: bytes START-END/TOTAL` (a 206) or `bytes *\/TOTAL` (a 416), RFC 9110 §14.4; TOTAL
 * may be `*` (unknown). Undefined when the header is missing or says something else.
 */
export function parseContentRange(header: string | null): { start: number | undefined; total: number | undefined } | undefined {
  const match = /^\s*bytes\s+(?:(\d+)-\d+|\*)\/(\d+|\*)\s*$/i.exec(header ?? '');
  if (!match) return undefined;
  return { start: match[1] === undefined ? undefined : Number(match[1]), total: match[2] === '*' ? undefined : Number(match[2]) };
}

function contentRange(response: HttpResponse) {
  return parseContentRange(response.header('content-range') ?? null);
}

async function sizeOf(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Feeds the file into the hash; an abort rejects with the signal's reason, as a download's does. */
async function hashFile(file: string, hash: Hash, signal: AbortSignal | undefined): Promise<Hash> {
  try {
    for await (const chunk of createReadStream(file, signal ? { signal } : {})) hash.update(chunk as Buffer);
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    throw err;
  }
  return hash;
}
