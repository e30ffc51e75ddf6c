/**
 * The operator's window of the HTTP service: the status page (`/`), the JSON API (`/api/...`, its
 * event stream included) and the Prometheus metrics (`/metrics`). Everything it shows comes from the
 * appliance's command bus, the same commands the control socket serves to `be status`, `be wol` and
 * `be bootpxe`; the routing is pure (src/http/api.ts). The server (server.ts) has already decided who
 * may read; actions are decided here, since they need http.token from everyone.
 */
import { randomBytes } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { apiRouteOf, apiStatusOf, maxBodyBytes, parseActionBody, type ApiResource } from '../../src/http/api.js';
import { statusPage } from '../../src/http/page.js';
import type { Area } from '../../src/http/route.js';
import { isBeError } from '../../src/errors.js';
import type { CommandBus } from '../control/bus.js';
import type { Logger } from '../log.js';
import type { ApplianceMetrics, TransferRow } from '../metrics.js';
import type { ApplianceEventMap } from '../supervisor.js';
import type { OperatorWindow, Visitor } from './server.js';

export interface WindowOptions {
  commands: CommandBus;
  metrics: ApplianceMetrics;
  events: EventEmitter<ApplianceEventMap>;
  log: Logger;
  /** Milliseconds between two `transfers` events while any transfer is under way. */
  transfersEveryMs?: number;
  /** Milliseconds between two keep-alive comments on an idle event stream (proxies close silent ones). */
  keepAliveMs?: number;
}

/** An error the API answers: a status, and a body with a stable code. */
class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** How long after a transfer starts or ends its list goes out: changes within it go out together. */
const soonMs = 100;

const pageCsp = (nonce: string) =>
  `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

export class Window implements OperatorWindow {
  private readonly streams = new Set<ServerResponse>();
  private transfersTimer: NodeJS.Timeout | undefined;
  private keepAliveTimer: NodeJS.Timeout | undefined;
  /** Whether the last `transfers` event listed any: one empty list follows the last one. */
  private transfersShown = false;
  private readonly onBoot = (payload: ApplianceEventMap['boot'][0]) => this.broadcast('boot', payload);
  private readonly onReload = () => this.broadcast('reload', {});
  /** A transfer started or ended: the list goes out soon, not at the next tick (a download can be over by then). */
  private readonly onTransfer = () => {
    this.soonTimer ??= setTimeout(() => {
      this.soonTimer = undefined;
      void this.pushTransfers();
    }, soonMs);
  };
  private soonTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: WindowOptions) {}

  async handle(req: IncomingMessage, res: ServerResponse, area: Area, segments: readonly string[], visitor: Visitor): Promise<void> {
    try {
      if (area === 'page') return this.page(req, res);
      if (area === 'metrics') return await this.metrics(req, res, segments);
      await this.api(req, res, segments, visitor);
    } catch (err) {
      const failure = this.apiError(err);
      if (failure.status >= 500) this.options.log.error({ target: req.url, code: failure.code, err: failure.message }, 'API request failed');
      if (res.headersSent) res.destroy();
      else json(res, failure.status, { code: failure.code, message: failure.message }, failure.headers);
    }
  }

  /** Ends every event stream with its last chunk (a browser sees a clean end, not a broken response), then stops. */
  async close(): Promise<void> {
    const ended = [...this.streams].map(
      (stream) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 500); // a client that reads nothing does not hold the shutdown
          stream.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
          stream.end();
        }),
    );
    this.streams.clear();
    this.stopTimers();
    await Promise.all(ended);
  }

  private page(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new ApiError(405, 'E_HTTP_METHOD', 'the page takes GET only', { Allow: 'GET, HEAD' });
    const nonce = randomBytes(16).toString('base64');
    const body = statusPage(nonce);
    res.writeHead(200, {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
      'Content-Security-Policy': pageCsp(nonce),
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  private async metrics(req: IncomingMessage, res: ServerResponse, segments: readonly string[]): Promise<void> {
    if (segments.length !== 1) throw new ApiError(404, 'E_HTTP_NOT_FOUND', `no such path: /${segments.join('/')}`);
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new ApiError(405, 'E_HTTP_METHOD', '/metrics takes GET only', { Allow: 'GET, HEAD' });
    const { text, contentType } = await this.options.metrics.exposition();
    res.writeHead(200, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : text);
  }

  private async api(req: IncomingMessage, res: ServerResponse, segments: readonly string[], visitor: Visitor): Promise<void> {
    const route = apiRouteOf(req.method ?? '', segments);
    switch (route.kind) {
      case 'error':
        throw new ApiError(route.status, route.code, route.message, route.allow ? { Allow: route.allow } : {});
      case 'read':
        json(res, 200, await this.read(route.resource, route.host));
        return;
      case 'events':
        this.openStream(req, res);
        return;
      case 'action': {
        if (!visitor.tokenSet) throw new ApiError(403, 'E_HTTP_NO_TOKEN', 'actions are disabled: set http.token to allow them');
        if (!visitor.tokenShown) {
          throw new ApiError(401, 'E_HTTP_TOKEN', 'actions need Authorization: Bearer with http.token', { 'WWW-Authenticate': 'Bearer realm="be"' });
        }
        const body = await readBody(req);
        const params = route.command === 'host.assign' ? { ...body, host: route.host } : { host: route.host };
        const result = await this.options.commands.call(route.command, params);
        this.options.log.info({ action: route.command, host: route.host, client: visitor.client.address, result }, 'API action done');
        json(res, 200, result);
        return;
      }
    }
  }

  private async read(resource: ApiResource, host: string | undefined): Promise<unknown> {
    const { commands } = this.options;
    const ask = async <T>(method: string, empty: T, params: Record<string, unknown> = {}): Promise<T> =>
      commands.has(method) ? ((await commands.call(method, params)) as T) : empty;
    switch (resource) {
      case 'status':
        return commands.call('status');
      case 'hosts':
        return commands.call('hosts.list');
      case 'boots':
        return commands.call('hosts.boots', { host });
      case 'leases': {
        const [pools, leases] = await Promise.all([ask('dhcp.pools', []), ask('dhcp.leases', [])]);
        return { pools, leases };
      }
      case 'envs':
        return commands.call('envs.list');
      case 'transfers':
        return this.transfers();
      case 'guests':
        return ask('vm.list', []);
    }
  }

  private async transfers(): Promise<TransferRow[]> {
    const { commands } = this.options;
    const lists = await Promise.all(
      ['tftp.transfers', 'http.transfers'].map((m) => (commands.has(m) ? (commands.call(m) as Promise<TransferRow[]>).catch(() => []) : [])),
    );
    return lists.flat();
  }

  private apiError(err: unknown): ApiError {
    if (err instanceof ApiError) return err;
    if (isBeError(err)) return new ApiError(apiStatusOf(err.code), err.code, err.message);
    return new ApiError(500, 'E_INTERNAL', (err as Error).message);
  }

  /** GET /api/events: Server-Sent Events (`hello`, then `boot`, `transfers`, `reload` as they happen). */
  private openStream(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Accel-Buffering': 'no', // a reverse proxy must not hold the events back
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    res.socket?.setNoDelay(true);
    // EventSource reconnects by itself after this long; the page fetches everything again on `hello`.
    res.write('retry: 2000\n\n');
    this.streams.add(res);
    res.once('close', () => {
      this.streams.delete(res);
      if (this.streams.size === 0) this.stopTimers();
    });
    send(res, 'hello', { version: this.options.metrics.version });
    if (this.streams.size === 1) this.startTimers();
  }

  private startTimers(): void {
    this.options.events.on('boot', this.onBoot).on('reload', this.onReload).on('transfer', this.onTransfer);
    this.transfersTimer = setInterval(() => void this.pushTransfers(), this.options.transfersEveryMs ?? 1000);
    this.keepAliveTimer = setInterval(() => {
      for (const stream of this.streams) stream.write(': keep-alive\n\n');
    }, this.options.keepAliveMs ?? 15_000);
  }

  private stopTimers(): void {
    this.options.events.off('boot', this.onBoot).off('reload', this.onReload).off('transfer', this.onTransfer);
    clearInterval(this.transfersTimer);
    clearTimeout(this.soonTimer);
    this.soonTimer = undefined;
    clearInterval(this.keepAliveTimer);
    this.transfersTimer = undefined;
    this.keepAliveTimer = undefined;
    this.transfersShown = false;
  }

  private async pushTransfers(): Promise<void> {
    const rows = await this.transfers();
    if (rows.length === 0 && !this.transfersShown) return;
    this.transfersShown = rows.length > 0;
    this.broadcast('transfers', rows);
  }

  private broadcast(event: string, data: unknown): void {
    for (const stream of this.streams) send(stream, event, data);
  }
}

function send(res: ServerResponse, event: string, data: unknown): void {
  // JSON has no raw newlines, so one `data:` line carries it (WHATWG HTML §9.2 event stream format).
  res.write(`event: ${event}\ndata: ${JSON.stringify(data ?? {})}\n\n`);
}

function json(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = `${JSON.stringify(value)}\n`;
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store', ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** An action's body: at most maxBodyBytes of JSON (an object) or nothing. */
async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBodyBytes) throw new ApiError(413, 'E_HTTP_BODY', `the body is over ${maxBodyBytes} bytes`);
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    length += chunk.length;
    if (length > maxBodyBytes) throw new ApiError(413, 'E_HTTP_BODY', `the body is over ${maxBodyBytes} bytes`);
    chunks.push(chunk);
  }
  try {
    return parseActionBody(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw new ApiError(400, 'E_HTTP_JSON', (err as Error).message);
  }
}
