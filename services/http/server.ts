/**
 * The HTTP server of the appliance (node:http, no framework): boot files from the same FileSource TFTP
 * asks, by the names TFTP gives them, for everyone; the status page (`/`), the API (`/api/...`) and the
 * metrics (`/metrics`) only for clients in http.allow or carrying http.token. Routing and the answer
 * to a file request are pure (src/http/route.ts, src/http/range.ts); this file only carries them out.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { BeError } from '../../src/errors.js';
import { inNetworks, plainAddress, type Network } from '../../src/http/networks.js';
import { httpDate, planFile } from '../../src/http/range.js';
import { httpStatusOf, routeOf, type Area } from '../../src/http/route.js';
import { isTftpError, TftpError, wireError } from '../../src/tftp/errors.js';
import type { Logger } from '../log.js';
import type { Client, FileSource, TftpFile } from '../tftp/source.js';
import { bindFailureMessage } from '../udp.js';
import type { TransferRow } from '../metrics.js';
import { sendFile } from './files.js';

export interface HttpServerOptions {
  address: string;
  port: number;
  source: FileSource;
  /** Who may see the page, the API and the metrics (http.allow). Boot files are for everyone. */
  allow: readonly Network[];
  /** A bearer token that admits anyone else to them too (http.token); null: none does. */
  token: string | null;
  log: Logger;
  /** A GET of a boot file whose response finished: the boot timeline's step, like a TFTP transfer. */
  onComplete?: (path: string, client: Client) => void;
  /** A connection idle this long (no request, or a client that stopped reading) is closed. */
  idleTimeoutMs?: number;
  /** A download ended (complete, or not): the metrics' transfers by outcome and bytes sent. */
  onEnded?: (outcome: 'complete' | 'client-error' | 'error' | 'refused', bytes: number) => void;
  /** A download started or ended: the list of transfers() changed. */
  onActivity?: () => void;
  /** The page, the API and the metrics (services/http/api.ts); absent: they answer 404 (tests of the boot files alone). */
  window?: OperatorWindow;
}

/** Who asks for the page, the API or the metrics, as the server judged them. */
export interface Visitor {
  client: Client;
  /** In http.allow, or showing http.token. */
  admitted: boolean;
  /** Showed http.token (an Authorization: Bearer header that matches). */
  tokenShown: boolean;
  /** Whether http.token is set at all. */
  tokenSet: boolean;
}

/** What answers `/`, `/api/...` and `/metrics`. */
export interface OperatorWindow {
  handle(req: IncomingMessage, res: ServerResponse, area: Area, segments: readonly string[], visitor: Visitor): Promise<void>;
  /** Ends what it holds open (event streams) so the server can close; resolves once they are ended. */
  close(): Promise<void>;
}

/** One download or refusal, for tests and benchmarks (the log line carries the same). */
export interface HttpExchange {
  method: string;
  target: string;
  client: string;
  status: number;
  bytes: number;
  complete: boolean;
}

const digest = (text: string) => createHash('sha256').update(text).digest();

export class HttpBootServer {
  private server: Server | undefined;
  private readonly pending = new Set<Promise<void>>();
  private readonly sockets = new Set<Socket>();
  private closing: Promise<void> | undefined;
  private boundPort = 0;
  private readonly tokenDigest: Buffer | undefined;
  /** Downloads under way, for the status page. */
  private readonly downloads = new Set<{ path: string; client: Client; size?: number; startedAt: number; progress: { bytes: number } }>();
  onExchange?: (exchange: HttpExchange) => void;

  constructor(private readonly options: HttpServerOptions) {
    this.tokenDigest = options.token === null ? undefined : digest(options.token);
  }

  get port(): number {
    return this.boundPort;
  }

  /** Listens, or rejects with BeError('E_BIND') naming http.address/http.port and leaves nothing open. */
  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const work = this.handle(req, res).catch((err: unknown) => {
        this.options.log.error({ err: (err as Error).message, target: req.url }, 'request failed');
        if (!res.headersSent) this.plain(res, 500, 'Internal error');
        else res.destroy();
      });
      this.pending.add(work);
      void work.finally(() => this.pending.delete(work));
    });
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    // A client that stops reading holds a descriptor of ours: with no listener for 'timeout', node
    // destroys the idle socket.
    server.setTimeout(this.options.idleTimeoutMs ?? 60_000);
    // A malformed request is answered 400 by node and logged here; it never reaches a handler.
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      this.options.log.debug({ err: err.code ?? err.message }, 'malformed HTTP request');
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      else socket.destroy();
    });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: this.options.address, port: this.options.port }, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      server.close();
      throw new BeError(
        'E_BIND',
        bindFailureMessage(err as NodeJS.ErrnoException, {
          address: this.options.address,
          port: this.options.port,
          service: 'http',
          keys: { address: 'http.address', port: 'http.port' },
          protocol: 'TCP',
          examplePort: 8080,
        }),
        undefined,
        { cause: err },
      );
    }
    server.on('error', (err) => this.options.log.error({ err: err.message }, 'http server error'));
    const address = server.address();
    this.boundPort = typeof address === 'object' && address ? address.port : this.options.port;
    this.server = server;
    this.options.log.info({ address: this.options.address, port: this.boundPort }, 'http listening');
  }

  /** Stops listening, ends every connection (downloads included) and waits until their files are closed. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const server = this.server;
      this.server = undefined;
      if (!server) return;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await this.options.window?.close();
      for (const socket of this.sockets) socket.destroy();
      await Promise.all([closed, ...this.pending]);
    })();
    return this.closing;
  }

  private client(req: IncomingMessage): Client {
    return { address: plainAddress(req.socket.remoteAddress ?? ''), port: req.socket.remotePort ?? 0 };
  }

  /** The page, the API and the metrics: a client in http.allow, or one that shows http.token. */
  private visitor(req: IncomingMessage, client: Client): Visitor {
    const header = req.headers.authorization;
    const match = header === undefined || this.tokenDigest === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
    // Digests of equal length, compared in constant time: the comparison says nothing about the token.
    const tokenShown = match !== null && timingSafeEqual(digest(match[1]!), this.tokenDigest!);
    return { client, admitted: tokenShown || inNetworks(client.address, this.options.allow), tokenShown, tokenSet: this.tokenDigest !== undefined };
  }

  /** The downloads under way, with their progress (the status page, /api/transfers). */
  transfers(): TransferRow[] {
    return [...this.downloads].map((d) => ({
      protocol: 'http',
      file: d.path,
      client: `${d.client.address}:${d.client.port}`,
      bytes: d.progress.bytes,
      ...(d.size !== undefined ? { size: d.size } : {}),
      startedAt: new Date(d.startedAt).toISOString(),
    }));
  }

  private plain(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
    const body = `${text}\n`;
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body), ...headers });
    res.end(res.req.method === 'HEAD' ? undefined : body);
  }

  private json(res: ServerResponse, status: number, value: unknown): void {
    const body = `${JSON.stringify(value)}\n`;
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(res.req.method === 'HEAD' ? undefined : body);
  }

  private report(req: IncomingMessage, client: Client, status: number, bytes = 0, complete = true): void {
    this.onExchange?.({ method: req.method ?? '', target: req.url ?? '', client: `${client.address}:${client.port}`, status, bytes, complete });
  }

  private refuse(req: IncomingMessage, client: Client, status: number, code: string, reason: string): void {
    this.options.log.warn({ client: `${client.address}:${client.port}`, target: req.url, status, code, reason }, 'request refused');
    this.report(req, client, status);
    if (code !== 'E_HTTP_FORBIDDEN') this.options.onEnded?.('refused', 0);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const client = this.client(req);
    const route = routeOf(req.url ?? '/');
    if (route.kind === 'refused') {
      this.refuse(req, client, route.status, route.code, route.reason);
      this.plain(res, route.status, route.status === 403 ? wireError('E_TFTP_ACCESS').message : 'Bad request');
      return;
    }
    if (route.kind === 'reserved') {
      await this.reserved(req, res, client, route.area, route.segments);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      this.refuse(req, client, 405, 'E_HTTP_METHOD', `method ${req.method}: boot files are read-only`);
      this.plain(res, 405, 'Method not allowed', { Allow: 'GET, HEAD' });
      return;
    }
    let file: TftpFile;
    try {
      file = await this.options.source.open(route.path, client);
    } catch (err) {
      const refusal = isTftpError(err) ? err : new TftpError('E_TFTP_READ', (err as Error).message, { cause: err });
      const status = httpStatusOf(refusal.code);
      this.refuse(req, client, status, refusal.code, refusal.detail);
      this.plain(res, status, wireError(refusal.code).message);
      return;
    }
    try {
      await this.serveFile(req, res, client, route.path, file);
    } finally {
      await file.close().catch(() => {});
    }
  }

  /**
   * The page, the API and the metrics. Reads are for http.allow or the token; the window itself asks
   * for the token for actions, which are refused to everyone without it.
   */
  private async reserved(req: IncomingMessage, res: ServerResponse, client: Client, area: Area, segments: readonly string[]): Promise<void> {
    const visitor = this.visitor(req, client);
    const action = req.method === 'POST' && area === 'api';
    if (!visitor.admitted && !action) {
      this.refuse(req, client, 403, 'E_HTTP_FORBIDDEN', `${area}: ${client.address} is not in http.allow and shows no http.token`);
      this.json(res, 403, { code: 'E_HTTP_FORBIDDEN', message: 'not allowed from this address (http.allow)' });
      return;
    }
    if (!this.options.window) {
      this.report(req, client, 404);
      this.json(res, 404, { code: 'E_HTTP_NOT_FOUND', message: `no ${area} on this server` });
      return;
    }
    await this.options.window.handle(req, res, area, segments, visitor);
    this.report(req, client, res.statusCode);
  }

  private async serveFile(req: IncomingMessage, res: ServerResponse, client: Client, path: string, file: TftpFile): Promise<void> {
    const started = performance.now();
    const plan = planFile(
      { range: req.headers.range, ifRange: header(req, 'if-range'), ifModifiedSince: header(req, 'if-modified-since') },
      { size: file.size, mtimeMs: file.mtimeMs, positional: file.readAt !== undefined },
    );
    const headers: Record<string, string | number> = {};
    if (file.mtimeMs !== undefined) headers['Last-Modified'] = httpDate(file.mtimeMs);
    if (file.readAt !== undefined && file.size !== undefined) headers['Accept-Ranges'] = 'bytes';
    if (plan.status === 304) {
      res.writeHead(304, headers).end();
      this.report(req, client, 304);
      return;
    }
    if (plan.status === 416) {
      res.writeHead(416, { ...headers, 'Content-Range': `bytes */${file.size}`, 'Content-Length': 0 }).end();
      this.options.log.info({ file: path, client: `${client.address}:${client.port}`, range: req.headers.range, size: file.size }, 'range not satisfiable');
      this.report(req, client, 416);
      return;
    }
    headers['Content-Type'] = 'application/octet-stream';
    if (plan.end !== undefined) headers['Content-Length'] = plan.end + 1 - plan.start;
    if (plan.status === 206) headers['Content-Range'] = `bytes ${plan.start}-${plan.end}/${file.size}`;
    res.writeHead(plan.status, headers);
    if (req.method === 'HEAD') {
      res.end();
      this.report(req, client, plan.status);
      return;
    }
    const download = { path, client, startedAt: Date.now(), progress: { bytes: 0 }, ...(plan.end !== undefined ? { size: plan.end + 1 - plan.start } : {}) };
    this.downloads.add(download);
    this.options.onActivity?.();
    const result = await sendFile(file, res, plan.start, plan.end, download.progress).finally(() => {
      this.downloads.delete(download);
      this.options.onActivity?.();
    });
    this.options.onEnded?.(result.complete ? 'complete' : result.fault === 'file' ? 'error' : 'client-error', result.bytes);
    const fields = {
      file: path,
      client: `${client.address}:${client.port}`,
      status: plan.status,
      bytes: result.bytes,
      ms: Math.round(performance.now() - started),
      ...(plan.status === 206 ? { range: `${plan.start}-${plan.end}` } : {}),
    };
    if (result.complete) {
      this.options.log.info(fields, 'download complete');
      this.options.onComplete?.(path, client);
    } else this.options.log.info({ ...fields, reason: result.reason }, 'download ended early');
    this.report(req, client, plan.status, result.bytes, result.complete);
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
