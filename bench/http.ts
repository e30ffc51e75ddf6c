/**
 * HTTP boot-file throughput of `be serve --only http` side by side with nginx serving the same
 * directory: a 32 MiB file to `curl -o /dev/null` on loopback, one client at a time and 8 at once.
 * Target (issue 15): be ≥ 0.8x nginx for the single client.
 *
 * - nginx (test/lan/nginx.ts: nginx-light, one worker, sendfile on as Debian ships it) and be listen on
 *   127.0.0.1 and free ports; both serve the directory be uses as tftp.root (the default root, what an
 *   unknown client gets), so both read the same file from the page cache.
 * - Rounds alternate which server goes first; figures are medians of curl's own speed_download
 *   (single) or of total bytes over the wall time from the first start to the last exit (8 at once).
 * - The iPXE-over-HTTP against TFTP comparison of the issue needs the PXE lab and is not here yet.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, start } from '../services/os.js';
import { freePort, type Nginx, startNginx } from '../test/lan/nginx.js';
import { waitFor } from '../test/lan/wait.js';
import { machine, median, writeSection } from './results.js';

const beMain = fileURLToPath(new URL('../bin/be.mjs', import.meta.url));
const rounds = Number(process.env.BENCH_ROUNDS ?? 15);
const fileSize = 32 * 1024 * 1024;
const concurrentClients = 8;
const target = 0.8;

const now = () => Number(process.hrtime.bigint()) / 1e9;
const fmt = (value: number) => value.toFixed(0);

/** One curl; returns MB/s as curl measured it. */
async function single(url: string): Promise<number> {
  const result = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{size_download} %{speed_download}', url], { timeoutMs: 120_000 });
  const [size, speed] = result.stdout.trim().split(' ').map(Number);
  if (size !== fileSize) throw new Error(`curl ${url}: ${size} bytes, expected ${fileSize}`);
  return speed! / 1e6;
}

/** `clients` curls at once; returns the aggregate MB/s. */
async function concurrent(url: string, clients: number): Promise<number> {
  const begin = now();
  await Promise.all(Array.from({ length: clients }, () => single(url)));
  return (clients * fileSize) / (now() - begin) / 1e6;
}

async function alternate(times: number, measure: (server: 'be' | 'nginx') => Promise<number>): Promise<Record<'be' | 'nginx', number[]>> {
  const pair = { be: [] as number[], nginx: [] as number[] };
  for (let i = 0; i < times; i++) {
    for (const server of i % 2 === 0 ? (['be', 'nginx'] as const) : (['nginx', 'be'] as const)) pair[server].push(await measure(server));
  }
  return pair;
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'be-bench-http-'));
  writeFileSync(join(root, 'big'), randomBytes(fileSize));
  const load = loadavg()[0]!;
  const say = (line: string) => process.stdout.write(`http: ${line}\n`);
  const port = await freePort();
  const be = start(process.execPath, [
    beMain,
    'serve',
    '--only',
    'http',
    ...['--set', 'http.enabled=true', '--set', 'http.address=127.0.0.1', '--set', `http.port=${port}`],
    ...['--set', 'dhcp.enabled=false', '--set', 'log.level=warn', '--set', `tftp.root=${root}`, '--set', `server.stateDir=${join(root, '.state')}`],
  ]);
  let nginx: Nginx | undefined;
  try {
    nginx = await startNginx({ root });
    const urls = { be: `http://127.0.0.1:${port}/big`, nginx: nginx.url('/big') };
    await waitFor(
      async () => (await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', urls.be], { okExitCodes: [0, 7] })).stdout === '200',
      'be serve --only http',
    );
    // Warm-up: both servers' first request, the file in the page cache.
    await single(urls.be);
    await single(urls.nginx);
    const one = await alternate(rounds, (server) => single(urls[server]));
    say(`1 client: be ${fmt(median(one.be))} MB/s, nginx ${fmt(median(one.nginx))} MB/s`);
    const many = await alternate(Math.max(3, Math.ceil(rounds / 3)), (server) => concurrent(urls[server], concurrentClients));
    say(`${concurrentClients} clients: be ${fmt(median(many.be))} MB/s, nginx ${fmt(median(many.nginx))} MB/s`);
    const version = (await run('nginx', ['-v'])).stderr.replace(/^nginx version: /, '').trim();
    const ratio = (pair: { be: number[]; nginx: number[] }) => median(pair.be) / median(pair.nginx);
    const spread = (values: number[]) => `${fmt(Math.min(...values))}–${fmt(Math.max(...values))}`;
    const body = [
      `A 32 MiB file on loopback to \`curl -o /dev/null\`: \`be serve --only http\` (dist/bin/be.mjs, node:http, the file as tftp.root`,
      `serves it) beside ${version} (test/lan/nginx.ts: one worker, sendfile, its access log on) serving the same directory. Alternating rounds;`,
      `medians (min–max) of ${rounds} single-client rounds and ${Math.max(3, Math.ceil(rounds / 3))} rounds of ${concurrentClients} clients at once (aggregate: bytes over wall time).`,
      '',
      '| scenario | be | nginx | be / nginx | target |',
      '| --- | --- | --- | --- | --- |',
      `| 1 curl | ${fmt(median(one.be))} MB/s (${spread(one.be)}) | ${fmt(median(one.nginx))} MB/s (${spread(one.nginx)}) | ${ratio(one).toFixed(2)}x | ≥ ${target}x: **${ratio(one) >= target ? 'met' : 'not met'}** |`,
      `| ${concurrentClients} curls at once | ${fmt(median(many.be))} MB/s (${spread(many.be)}) | ${fmt(median(many.nginx))} MB/s (${spread(many.nginx)}) | ${ratio(many).toFixed(2)}x | |`,
      '',
      `- nginx sends with sendfile(2), straight from the page cache; be reads the checked descriptor with pread into reused 1 MiB buffers and writes them.`,
      `- Not here yet: the issue's other comparison, the PXE bench's 8 MB kernel fetched by iPXE over HTTP against TFTP in the same boot.`,
      `- Load average ${load.toFixed(2)} at the start, ${loadavg()[0]!.toFixed(2)} at the end (2 cores, shared machine).`,
      '',
      `Machine: ${machine()}; measured ${new Date().toISOString().slice(0, 10)}.`,
    ].join('\n');
    writeSection('HTTP boot files', body);
  } finally {
    await nginx?.close();
    be.kill('SIGTERM');
    await be.catch(() => {});
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
