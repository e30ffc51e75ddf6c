/**
 * The control socket: a Unix socket (mode 0600, root's only) where `be` commands reach the running
 * appliance: `be status`, `be vm list|start|stop`, and the commands that change assignments. One JSON
 * line per request and per answer (src/control/protocol.ts); a bad line gets an error answer, never
 * a crash, and a client that sends too much is disconnected.
 */
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import type { Config } from '../../src/config/schema.js';
import { encodeMessage, maxLineBytes, parseRequest, ProtocolError, type ControlResponse } from '../../src/control/protocol.js';
import { BeError, isBeError } from '../../src/errors.js';
import type { Service, ServiceContext, ServiceKind } from '../service.js';

export function controlSocketPath(config: Config): string {
  return config.server.socket ?? join(config.server.stateDir, 'be.sock');
}

/** Whether something answers on the socket path: a live appliance, as opposed to a stale file. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createConnection(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

class ControlService implements Service {
  readonly name = 'control';
  private server: Server | undefined;
  private readonly clients = new Set<Socket>();

  constructor(
    private readonly path: string,
    private readonly context: ServiceContext,
  ) {}

  async start(): Promise<void> {
    mkdirSync(dirname(this.path), { recursive: true });
    if (await answers(this.path)) {
      throw new BeError('E_BIND', `control: another be serve is running (it answers on ${this.path}); stop it, or set server.socket`);
    }
    rmSync(this.path, { force: true }); // a stale socket from a process that died
    const server = createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(new BeError('E_BIND', `control: cannot listen on ${this.path}: ${err.code ?? err.message} (check server.socket and server.stateDir)`)),
      );
      server.listen(this.path, () => resolve());
    });
    chmodSync(this.path, 0o600);
    server.on('error', (err) => this.context.log.warn({ err: err.message }, 'control socket error'));
    this.server = server;
    this.context.log.info({ path: this.path }, 'control socket listening');
  }

  private accept(socket: Socket): void {
    this.clients.add(socket);
    socket.on('close', () => this.clients.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      if (buffer.length > maxLineBytes && !buffer.includes('\n')) {
        this.context.log.warn({ bytes: buffer.length }, 'control: line too long, client disconnected');
        socket.destroy();
        return;
      }
      for (let newline = buffer.indexOf('\n'); newline >= 0; newline = buffer.indexOf('\n')) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        if (line.trim()) void this.answer(line).then((response) => socket.writable && socket.write(encodeMessage(response)));
      }
    });
  }

  private async answer(line: string): Promise<ControlResponse> {
    let id = 0;
    try {
      const request = parseRequest(line);
      id = request.id;
      return { id, result: (await this.context.commands.call(request.method, request.params)) ?? null };
    } catch (err) {
      if (err instanceof ProtocolError) return { id, error: { code: 'E_PROTOCOL', message: err.message } };
      if (isBeError(err)) return { id, error: { code: err.code, message: err.message } };
      this.context.log.error({ err: (err as Error).message }, 'control command failed');
      return { id, error: { code: 'E_INTERNAL', message: (err as Error).message } };
    }
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const client of this.clients) client.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(this.path, { force: true });
  }
}

export const controlKind: ServiceKind = {
  name: 'control',
  enabled: (config) => config.server.control,
  settings: (config) => controlSocketPath(config),
  create: (context) => new ControlService(controlSocketPath(context.config), context),
};
