/**
 * A real HTTP mirror for the download tests: Debian's nginx (nginx-light) on 127.0.0.1 and a port
 * picked free, with its own nginx.conf, pid file and logs in a temporary directory. Directory listings
 * are nginx's `autoindex on`; a location can be slowed with `limit_rate` so a transfer can be cut
 * mid-way. Access-log lines are JSON (one request a line) so a test can count GETs and read statuses.
 * nginx runs in the foreground as one process (`daemon off; master_process off;`): it is started and
 * ended by its PID, by close() and by a process-exit hook if the test dies; what a killed test left is
 * swept by the next start.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processExists } from '../../services/os.js';
import { waitFor } from './wait.js';

export interface NginxLocation {
  /** A URL prefix under the root, e.g. `/slow/`. */
  path: string;
  /** nginx's limit_rate for responses under it, e.g. `512k` (bytes a second). */
  limitRate?: string;
  /** nginx's limit_rate_after: this much goes at full speed first. */
  limitRateAfter?: string;
  /** Answer every request under it with a 302 to this prefix + the rest of the path (as a mirror sends clients to its CDN). */
  redirectTo?: string;
}

export interface NginxOptions {
  /** The document root (served with autoindex). */
  root: string;
  locations?: readonly NginxLocation[];
}

export interface AccessEntry {
  method: string;
  /** The request target as sent (an absolute URL when the client used nginx as a proxy). */
  target: string;
  uri: string;
  status: number;
  /** Body bytes nginx sent. */
  bytes: number;
  /** The Range header, or '' when there was none. */
  range: string;
}

export interface Nginx {
  port: number;
  /** `http://127.0.0.1:PORT` + path. */
  url(path?: string): string;
  /** Every request logged so far. nginx logs a request when it ends, so wait for a line rather than expect it at once. */
  accessLog(): AccessEntry[];
  errorLog(): string;
  /** SIGTERM by PID (SIGKILL after 5 s), then the temporary directory is removed. Idempotent. */
  close(): Promise<void>;
}

const livePids = new Set<number>();
const liveDirs = new Set<string>();

process.once('exit', () => {
  for (const pid of livePids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * Removes what a killed test process left (it had no exit hook to run): directories named
 * `be-<what>-<pid>-*` whose pid is gone, after ending the nginx whose pid file is in one if its command
 * line names that directory (so a recycled pid is never signalled).
 */
function sweepOrphans(what: string): void {
  const pattern = new RegExp(`^be-${what}-(\\d+)-`);
  for (const entry of readdirSync(tmpdir())) {
    const match = pattern.exec(entry);
    if (!match || processExists(Number(match[1]))) continue;
    const dir = join(tmpdir(), entry);
    try {
      const pid = Number(readFileSync(join(dir, 'nginx.pid'), 'utf8').trim());
      if (pid > 0 && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir)) process.kill(pid, 'SIGKILL');
    } catch {
      // no pid file, or that nginx is gone
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A new temporary directory `be-<what>-<pid>-XXXXXX` (what: lowercase letters and -), removed when this process exits (or by the next run if it is killed). */
export function tempDir(what: string): string {
  if (!/^[a-z][a-z-]*$/.test(what)) throw new Error(`tempDir: "${what}" is not lowercase letters and -`);
  sweepOrphans(what);
  const dir = mkdtempSync(join(tmpdir(), `be-${what}-${process.pid}-`));
  liveDirs.add(dir);
  return dir;
}

/** Removes a directory made by tempDir now. */
export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  liveDirs.delete(dir);
}

/** A TCP port on 127.0.0.1 that nothing listened on a moment ago (bound to port 0, then released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port from listen(0)');
  return address.port;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function config(dir: string, port: number, options: NginxOptions): string {
  const locations = (options.locations ?? []).map((l) =>
    [
      `    location ${l.path} {`,
      ...(l.limitRate ? [`      limit_rate ${l.limitRate};`] : []),
      ...(l.limitRateAfter ? [`      limit_rate_after ${l.limitRateAfter};`] : []),
      ...(l.redirectTo ? [`      rewrite ^${l.path}(.*)$ ${l.redirectTo}$1 redirect;`] : []),
      '    }',
    ].join('\n'),
  );
  return `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 64; }
http {
  log_format be escape=json '{"method":"$request_method","request":"$request","uri":"$uri","status":$status,"bytes":$body_bytes_sent,"range":"$http_range"}';
  access_log ${dir}/access.log be;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  default_type application/octet-stream;
  sendfile on;
  server {
    listen 127.0.0.1:${port};
    root ${options.root};
    autoindex on;
${locations.join('\n')}
  }
}
`;
}

function parseAccessLine(line: string): AccessEntry {
  const raw = JSON.parse(line) as { method: string; request: string; uri: string; status: number; bytes: number; range: string };
  // $request is "GET target HTTP/1.1"; its target keeps an absolute URL sent to a proxy, which $request_uri does not.
  const target = raw.request.split(' ')[1] ?? '';
  return { method: raw.method, target, uri: raw.uri, status: raw.status, bytes: raw.bytes, range: raw.range };
}

async function startOnce(options: NginxOptions, port: number): Promise<Nginx> {
  const dir = tempDir('nginx');
  mkdirSync(join(dir, 'tmp'));
  writeFileSync(join(dir, 'nginx.conf'), config(dir, port, options));
  writeFileSync(join(dir, 'access.log'), '');
  // -e: the error log before nginx.conf is read (otherwise /var/log/nginx/error.log); -p: the prefix for relative paths.
  const child: ChildProcess = spawn('nginx', ['-p', dir, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  if (child.pid !== undefined) livePids.add(child.pid);
  const errorLog = () => {
    try {
      return readFileSync(join(dir, 'error.log'), 'utf8');
    } catch {
      return '';
    }
  };
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    const { pid } = child;
    if (pid !== undefined && child.exitCode === null && child.signalCode === null) {
      const signal = (name: NodeJS.Signals) => {
        try {
          process.kill(pid, name);
        } catch {
          // already gone
        }
      };
      // SIGTERM is nginx's fast shutdown; a worker stuck in a write gets SIGKILL.
      signal('SIGTERM');
      const timer = setTimeout(() => signal('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    if (child.pid !== undefined) livePids.delete(child.pid);
    removeTempDir(dir);
  };
  const server: Nginx = {
    port,
    url: (path = '/') => `http://127.0.0.1:${port}${path}`,
    accessLog: () =>
      readFileSync(join(dir, 'access.log'), 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map(parseAccessLine),
    errorLog,
    close,
  };
  let gone: string | undefined;
  void exited.then(() => {
    gone = `exited (${child.exitCode ?? child.signalCode})`;
  });
  void spawnError.then((err) => {
    gone = err.message;
  });
  try {
    await waitFor(
      async () => {
        if (gone) throw new Error(`nginx ${gone}: ${stderr.trim()} ${errorLog().trim()}`);
        return canConnect(port);
      },
      `nginx on 127.0.0.1:${port}`,
      { timeoutMs: 10_000, intervalMs: 50, message: () => `nginx did not listen on 127.0.0.1:${port}: ${errorLog().trim()}` },
    );
  } catch (err) {
    await close();
    throw err;
  }
  return server;
}

/**
 * Starts nginx and resolves once it accepts connections. A port taken between picking and binding
 * (another suite's server) makes nginx exit with EADDRINUSE; then another port is tried.
 */
export async function startNginx(options: NginxOptions): Promise<Nginx> {
  let last: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(options, await freePort());
    } catch (err) {
      last = err;
      if (!/Address already in use/.test(String(err))) throw err;
    }
  }
  throw last;
}
