/**
 * The HTTP server in this process on loopback, over the same per-host file source TFTP uses: statuses,
 * headers, ranges, refusals, http.allow, the service's lifecycle in the supervisor, and a 64 MiB file
 * streamed to a slow reader while the memory still in use stays far below the file.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/schema.js';
import { parseNetwork } from '../../../src/http/networks.js';
import { updateState } from '../../../services/be/state.js';
import { BootCatalogue } from '../../../services/boot/catalogue.js';
import { BootEnvironmentSource } from '../../../services/boot/tftp-source.js';
import { HttpBootServer, type HttpServerOptions } from '../../../services/http/server.js';
import { httpKind } from '../../../services/http/service.js';
import { createLogger } from '../../../services/log.js';
import { Supervisor } from '../../../services/supervisor.js';
import { DirectorySource, type FileSource, type TftpFile } from '../../../services/tftp/source.js';
import { liveBytes } from '../../lan/memory.js';

const dir = mkdtempSync(join(tmpdir(), 'be-http-'));
const envs = join(dir, 'envs');
const root = join(dir, 'tftp');
const outside = join(dir, 'outside');
const loader = randomBytes(300_000);
const mtime = new Date(Date.UTC(2024, 4, 1, 12, 0, 0));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function put(path: string, data: string | Buffer): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, data);
}

// 127.0.0.1 is host pc (BE head); 127.0.0.2 is nobody, and not in http.allow.
const config = configSchema.parse({
  be: { backend: 'dir', root: envs },
  server: { stateDir: join(dir, 'state') },
  tftp: { root },
  hosts: [{ name: 'pc', mac: '02:00:00:00:00:01', ip: '127.0.0.1', be: 'head' }],
});

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

function get(port: number, path: string, options: { method?: string; headers?: Record<string, string>; from?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: options.method ?? 'GET',
        headers: options.headers ?? {},
        localAddress: options.from ?? '127.0.0.1',
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('the HTTP boot server', () => {
  let server: HttpBootServer;
  let port: number;
  const logs: Record<string, unknown>[] = [];
  const completed: [string, string][] = [];
  let opened = 0;
  let closed = 0;

  beforeAll(async () => {
    put(join(envs, 'head', 'boot', 'loader.efi'), loader);
    put(join(envs, 'head', 'boot', 'kernel', 'kernel'), 'KERNEL of head');
    put(join(envs, 'head', 'etc', 'master.passwd'), 'root:secret');
    symlinkSync('../etc/master.passwd', join(envs, 'head', 'boot', 'passwd'));
    put(join(envs, 'other', 'boot', 'loader.efi'), 'other loader');
    put(join(root, 'boot', 'loader.efi'), 'default loader');
    put(join(outside, 'secret'), 'not for clients');
    symlinkSync(join(outside, 'secret'), join(root, 'escape'));
    symlinkSync('/dev/zero', join(root, 'zero'));
    execFileSync('mkfifo', [join(root, 'fifo')]);
    mkdirSync(join(root, 'dir'));
    utimesSync(join(envs, 'head', 'boot', 'loader.efi'), mtime, mtime);
    await updateState(config.server.stateDir, (s) => (s.pxe = ['head']));
    const catalogue = await BootCatalogue.load(config);
    const boot = new BootEnvironmentSource(() => ({ config, catalogue }), { holderOf: async () => null }, await DirectorySource.create(root));
    // Counts opens and closes: every opened file must be closed, whatever happened to its response.
    const source: FileSource = {
      async open(path, client) {
        const file = await boot.open(path, client);
        opened++;
        return Object.assign(Object.create(file) as TftpFile, {
          close: () => {
            closed++;
            return file.close();
          },
        });
      },
    };
    const destination = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n')) if (line) logs.push(JSON.parse(line));
        done();
      },
    });
    const options: HttpServerOptions = {
      address: '127.0.0.1',
      port: 0,
      source,
      allow: ['127.0.0.1/32'].map(parseNetwork),
      token: 'sesame-0123456789',
      log: createLogger({ level: 'info', pretty: false, destination }),
      onComplete: (path, client) => completed.push([path, client.address]),
    };
    server = new HttpBootServer(options);
    await server.start();
    port = server.port;
  });

  afterAll(async () => {
    await server?.close();
  });

  it('serves a boot file whole: 200, Content-Length, Last-Modified, Accept-Ranges', async () => {
    const answer = await get(port, '/head/boot/loader.efi');
    expect(answer.status).toBe(200);
    expect(answer.body.equals(loader)).toBe(true);
    expect(answer.headers).toMatchObject({
      'content-length': String(loader.length),
      'last-modified': 'Wed, 01 May 2024 12:00:00 GMT',
      'accept-ranges': 'bytes',
      'content-type': 'application/octet-stream',
    });
    await expect.poll(() => completed).toContainEqual(['head/boot/loader.efi', '127.0.0.1']);
  });

  it('serves one range with 206 and Content-Range, and 416 with bytes */SIZE past the end', async () => {
    const part = await get(port, '/head/boot/loader.efi', { headers: { Range: 'bytes=1000-262999' } });
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 1000-262999/${loader.length}`);
    expect(part.headers['content-length']).toBe('262000');
    expect(part.body.equals(loader.subarray(1000, 263000))).toBe(true);
    const tail = await get(port, '/head/boot/loader.efi', { headers: { Range: 'bytes=-10' } });
    expect(tail.body.equals(loader.subarray(-10))).toBe(true);
    const past = await get(port, '/head/boot/loader.efi', { headers: { Range: `bytes=${loader.length}-` } });
    expect(past.status).toBe(416);
    expect(past.headers['content-range']).toBe(`bytes */${loader.length}`);
    expect(past.body.length).toBe(0);
  });

  it('answers HEAD with the headers alone, and If-Modified-Since with 304', async () => {
    const head = await get(port, '/head/boot/loader.efi', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String(loader.length));
    expect(head.body.length).toBe(0);
    const same = await get(port, '/head/boot/loader.efi', { headers: { 'If-Modified-Since': 'Wed, 01 May 2024 12:00:00 GMT' } });
    expect(same.status).toBe(304);
    expect(same.body.length).toBe(0);
    const older = await get(port, '/head/boot/loader.efi', { headers: { 'If-Modified-Since': 'Wed, 01 May 2024 11:00:00 GMT' } });
    expect(older.status).toBe(200);
  });

  it('refuses other methods with 405 and Allow', async () => {
    const post = await get(port, '/head/boot/loader.efi', { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    expect((await get(port, '/boot/loader.efi', { method: 'PUT' })).status).toBe(405);
  });

  it('applies the per-host rules of TFTP: the client’s own BE for boot/..., the default root for others', async () => {
    expect((await get(port, '/boot/loader.efi')).body.equals(loader)).toBe(true);
    expect((await get(port, '/boot/loader.efi', { from: '127.0.0.2' })).body.toString()).toBe('default loader');
    expect((await get(port, '/boot/kernel/kernel')).body.toString()).toBe('KERNEL of head');
  });

  it.each([
    ['/head/etc/master.passwd', 404],
    ['/other/boot/loader.efi', 404],
    ['/missing', 404],
    ['/head/boot/passwd', 403],
    ['/boot/passwd', 403],
    ['/escape', 403],
    ['/zero', 403],
    ['/fifo', 403],
    ['/dir', 403],
    ['/../etc/passwd', 403],
    ['/boot/%2e%2e/%2e%2e/etc/passwd', 403],
    ['/boot%5c..%5c..%5cetc%5cpasswd', 403],
    ['/boot/%zz', 400],
  ])('refuses %s with %i and serves nothing of it', async (path, status) => {
    const answer = await get(port, path);
    expect(answer.status).toBe(status);
    expect(answer.body.toString()).not.toMatch(/secret|not for clients|root:/);
    expect(answer.body.length).toBeLessThan(64);
  });

  it('keeps the page, the API and the metrics to http.allow or the token, and boot files open to all', async () => {
    for (const path of ['/', '/api/hosts', '/metrics']) {
      const allowed = await get(port, path);
      // No window in this server: only the boot files (services/http/api.ts answers these in be serve).
      expect(allowed.status).toBe(404);
      expect(JSON.parse(allowed.body.toString())).toMatchObject({ code: 'E_HTTP_NOT_FOUND' });
      const other = await get(port, path, { from: '127.0.0.2' });
      expect(other.status).toBe(403);
      expect(JSON.parse(other.body.toString())).toMatchObject({ code: 'E_HTTP_FORBIDDEN' });
      const token = await get(port, path, { from: '127.0.0.2', headers: { Authorization: 'Bearer sesame-0123456789' } });
      expect(token.status).toBe(404);
      const wrong = await get(port, path, { from: '127.0.0.2', headers: { Authorization: 'Bearer sesame' } });
      expect(wrong.status).toBe(403);
    }
    expect((await get(port, '/head/boot/loader.efi', { from: '127.0.0.2' })).status).toBe(200);
    expect(logs.some((l) => l.msg === 'request refused' && l.code === 'E_HTTP_FORBIDDEN' && l.status === 403)).toBe(true);
  });

  it('counts only completed GETs of loaders and kernels as boot steps', async () => {
    completed.length = 0;
    await get(port, '/boot/kernel/kernel', { method: 'HEAD' });
    await get(port, '/boot/kernel/kernel');
    await expect.poll(() => completed).toEqual([['boot/kernel/kernel', '127.0.0.1']]);
  });

  it('streams a 64 MiB file to a slow reader while the memory in use stays far below it', async () => {
    // What is alive, not RSS (test/lan/memory.ts says why).
    const live = liveBytes;
    const size = 64 * 1024 * 1024;
    const big = join(envs, 'head', 'boot', 'big');
    const block = randomBytes(1024 * 1024);
    writeFileSync(big, '');
    for (let i = 0; i < 64; i++) writeFileSync(big, block, { flag: 'a' });
    const before = live();
    let peak = 0;
    let received = 0;
    let chunks = 0;
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/head/boot/big', agent: false }, (res) => {
        res.on('data', (chunk: Buffer) => {
          received += chunk.length;
          // A slow client: a pause now and then lets the socket fill, so the server must wait for it.
          if (++chunks % 64 === 0) {
            res.pause();
            peak = Math.max(peak, live() - before);
            setTimeout(() => res.resume(), 5);
          }
        });
        res.on('end', () => resolve());
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
    expect(received).toBe(size);
    expect(chunks).toBeGreaterThan(256);
    // Holding the file would keep 64 MiB alive; streaming keeps two or three 1 MiB chunks and socket buffers.
    expect(peak).toBeLessThan(8 * 1024 * 1024);
  });

  it('closes every file it opened, and close() ends a running download and may be called twice', async () => {
    const slow = new HttpBootServer({
      address: '127.0.0.1',
      port: 0,
      source: await DirectorySource.create(join(envs, 'head', 'boot')),
      allow: [],
      token: null,
      log: createLogger({ level: 'silent' }),
    });
    await slow.start();
    let received = 0;
    const aborted = new Promise<boolean>((resolve) => {
      const req = request({ host: '127.0.0.1', port: slow.port, path: '/big', agent: false }, (res) => {
        res.on('data', (chunk: Buffer) => (received += chunk.length));
        // Paused, the server waits for room in the socket; close() must end it all the same.
        res.once('data', () => {
          res.pause();
          void slow.close().then(() => res.resume());
        });
        res.on('error', () => resolve(res.complete));
        res.on('close', () => resolve(res.complete));
      });
      req.on('error', () => resolve(false));
      req.end();
    });
    expect(await aborted).toBe(false);
    expect(received).toBeLessThan(64 * 1024 * 1024);
    await slow.close();
    await slow.close();
    await expect.poll(() => closed).toBe(opened);
  });

  it('fails to start with one line naming http.port when the port is taken', async () => {
    const other = new HttpBootServer({
      address: '127.0.0.1',
      port,
      source: await DirectorySource.create(root),
      allow: [],
      token: null,
      log: createLogger({ level: 'silent' }),
    });
    await expect(other.start()).rejects.toMatchObject({
      code: 'E_BIND',
      message: `http: cannot bind TCP 127.0.0.1:${port}: address already in use (another server holds port ${port}): stop it or set http.port to a free port`,
    });
    await other.close();
  });
});

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('the http service in the supervisor', () => {
  it('starts over the boot snapshot, keeps its socket when only hosts change, and stops', async () => {
    const port = await freePort();
    const base = { ...config, http: { ...config.http, enabled: true, address: '127.0.0.1', port } };
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    const supervisor = new Supervisor([httpKind], createLogger({ level: 'info', pretty: false, destination }));
    await supervisor.start(base);
    try {
      expect(supervisor.names).toEqual(['http']);
      expect((await get(port, '/boot/loader.efi')).body.equals(loader)).toBe(true);
      // 127.0.0.1 now belongs to nobody: the same socket answers from the default root.
      await supervisor.reload({ ...base, hosts: [] });
      expect((await get(port, '/boot/loader.efi')).body.toString()).toBe('default loader');
      expect(lines.some((l) => l.includes('settings changed: restarting service'))).toBe(false);
      await expect
        .poll(() => supervisor.timelines.get('pc')?.events.map((e) => [e.step, e.detail, e.protocol]))
        .toEqual([['loader-fetched', 'boot/loader.efi', 'http']]);
    } finally {
      await supervisor.stop();
    }
    expect(lines.filter((l) => l.includes('"msg":"service stopped"')).length).toBe(1);
  });
});
