/**
 * TFTP throughput of `be serve --only tftp` side by side with tftpd-hpa (extracted from its Debian package,
 * never installed: it fights with atftpd), in one run, on loopback, with the same files and clients:
 * - one curl client fetching 32 MiB at blksize 1468 (target be ≥ 1.5x tftpd-hpa) and at 512;
 * - 20 and 100 curl clients at once, blksize 1468 (target aggregate ≥ 1.2x, be's peak RSS ≤ 150 MiB), with
 *   transfers on the main thread (tftp.workers 0, the default) and in two worker threads (tftp.workers 2);
 * - the same with each server pinned to CPU 0 and the clients to CPU 1 (taskset; tftpd-hpa's forks inherit
 *   it), which compares the servers' own efficiency as if the clients were other machines;
 * - atftp with windowsize 4 (EDK2's default) and 16 against atftp in lock-step, all on be (target 16 ≥ 3x).
 * Rounds alternate the two servers so a noisy neighbour hurts both alike; figures are medians.
 */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { run, start } from '../services/os.js';
import { CpuMeter, cpuSeconds, endedChildrenCpuSeconds, idleCpuSeconds, machine, median, percent, runqueueWaitSeconds, writeSection } from './results.js';

const beMain = fileURLToPath(new URL('../bin/be.mjs', import.meta.url));
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
/** tftp.datagrams of the be servers (auto: the native path when it loads). */
const datagrams = process.env.BENCH_TFTP_DATAGRAMS ?? 'auto';
const fileSize = 32 * 1024 * 1024;
const MB = 1e6;

/** tftpd-hpa and the libwrap it links against, unpacked once into a cache directory. */
async function extractTftpdHpa(): Promise<{ binary: string; libraryPath: string }> {
  const cache = join(tmpdir(), 'be-bench-tftpd-hpa');
  const binary = join(cache, 'root', 'usr', 'sbin', 'in.tftpd');
  const libraryPath = join(cache, 'root', 'usr', 'lib', 'x86_64-linux-gnu');
  if (!existsSync(binary)) {
    mkdirSync(cache, { recursive: true });
    await run('apt-get', ['download', 'tftpd-hpa', 'libwrap0'], { cwd: cache, timeoutMs: 120_000 });
    for (const deb of readdirSync(cache).filter((name) => name.endsWith('.deb'))) {
      await run('dpkg', ['-x', join(cache, deb), join(cache, 'root')]);
    }
  }
  return { binary, libraryPath };
}

async function freePort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** Waits until a TFTP server answers a request for a missing file (any reply will do). */
async function waitForServer(port: number): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const result = await run('curl', ['-sS', '--max-time', '1', '-o', '/dev/null', `tftp://127.0.0.1:${port}/no-such-file`], {
      okExitCodes: [0, 68, 28, 7, 71],
    });
    if (result.exitCode === 68) return;
    await sleep(100);
  }
  throw new Error(`no TFTP server answered on port ${port}`);
}

async function timed(file: string, args: string[]): Promise<number> {
  const begin = process.hrtime.bigint();
  await run(file, args, { timeoutMs: 600_000 });
  return Number(process.hrtime.bigint() - begin) / 1e9;
}

/** `file args`, on one CPU when `cpu` is given (taskset execs it, so the PID is the program's own). */
function onCpu(cpu: number | undefined, file: string, args: string[]): [string, string[]] {
  return cpu === undefined ? [file, args] : ['taskset', ['-c', String(cpu), file, ...args]];
}

/** A curl; pinned runs put the clients on CPU 1, the servers on CPU 0. */
function curl(port: number, blksize: number, pinned: boolean): [string, string[]] {
  // --max-time: under a heavy neighbour two curls once hung for ten minutes against tftpd-hpa; fail the run instead.
  const args = ['-sS', '--max-time', '180', '--tftp-blksize', String(blksize), '-o', '/dev/null', `tftp://127.0.0.1:${port}/big`];
  return onCpu(pinned ? 1 : undefined, 'curl', args);
}

/** A round's throughput, the server's CPU per DATA block over it, and where the time went. */
interface Round {
  mbps: number;
  cpuPerBlockUs: number;
  /** CPUs the curls used on average over the round (their user + system time over the wall time). */
  clientCpus: number;
  /** Share of the round the server's threads spent runnable but waiting for a CPU (be only: tftpd-hpa's forks are gone by then). */
  serverWaiting: number | undefined;
  /** Share of all CPUs idle over the round. */
  idle: number;
}

interface Target {
  port: number;
  cpu: { seconds(): number };
  /** A process whose threads' runqueue waits are the server's (be); undefined for a server of many processes. */
  threadsOf?: number | undefined;
}

/** Aggregate MB/s of `clients` curls started together, and the server's CPU (with its forks) per block. */
async function concurrent(server: Target, clients: number, blksize = 1468, pinned = false): Promise<Round> {
  const before = {
    cpu: server.cpu.seconds(),
    clients: endedChildrenCpuSeconds(),
    idle: idleCpuSeconds(),
    waited: server.threadsOf && runqueueWaitSeconds(server.threadsOf),
  };
  const begin = process.hrtime.bigint();
  await Promise.all(Array.from({ length: clients }, () => run(...curl(server.port, blksize, pinned), { timeoutMs: 600_000 })));
  const seconds = Number(process.hrtime.bigint() - begin) / 1e9;
  const blocks = clients * Math.ceil((fileSize + 1) / blksize);
  return {
    mbps: (clients * fileSize) / MB / seconds,
    cpuPerBlockUs: ((server.cpu.seconds() - before.cpu) * 1e6) / blocks,
    clientCpus: (endedChildrenCpuSeconds() - before.clients) / seconds,
    serverWaiting: server.threadsOf ? (runqueueWaitSeconds(server.threadsOf) - (before.waited || 0)) / seconds : undefined,
    idle: (idleCpuSeconds() - before.idle) / (seconds * cpus().length),
  };
}

async function atftp(port: number, windowsize: number): Promise<number> {
  const options = ['--option', 'blksize 1468', ...(windowsize > 1 ? ['--option', `windowsize ${windowsize}`] : [])];
  return fileSize / MB / (await timed('atftp', [...options, '-g', '-r', 'big', '-l', '/dev/null', '127.0.0.1', String(port)]));
}

/**
 * The floor of Node's dgram for this workload: a sender that answers each ACK with the next block of the
 * file held in memory, with no file reads, timers, checks or logging (only the blksize OACK curl asks for).
 * Measured beside the servers, it shows how much of be's per-block cost is Node's own.
 */
const floorServer = `
import dgram from 'node:dgram';
const [port, size, blksize] = process.argv.slice(1).map(Number);
const data = Buffer.alloc(size, 7);
const lookup = (address, _options, callback) => callback(null, address, 4);
const listener = dgram.createSocket({ type: 'udp4', lookup });
const last = Math.floor(size / blksize) + 1;
listener.on('message', (_request, client) => {
  const socket = dgram.createSocket({ type: 'udp4', lookup });
  socket.bind(0, '127.0.0.1', () => {
    let block = 0;
    const send = () => {
      const from = (block - 1) * blksize;
      const header = Buffer.from([0, 3, (block >> 8) & 255, block & 255]);
      socket.send([header, data.subarray(from, Math.min(from + blksize, size))], client.port, client.address);
    };
    socket.on('message', (ack) => {
      if (((ack[2] << 8) | ack[3]) !== (block & 0xffff)) return;
      if (block === last) return socket.close();
      block++;
      send();
    });
    socket.send(Buffer.from('\\x00\\x06blksize\\x00' + blksize + '\\x00', 'latin1'), client.port, client.address);
  });
});
listener.bind(port, '127.0.0.1');
`;

function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return kib / 1024;
}

interface Pair {
  be: Round[];
  hpa: Round[];
}

async function alternate(times: number, measure: (server: 'be' | 'hpa') => Promise<Round>): Promise<Pair> {
  const pair: Pair = { be: [], hpa: [] };
  for (let i = 0; i < times; i++) {
    // Alternate who goes first, so warm caches and a neighbour's burst do not always favour one.
    const order: ('be' | 'hpa')[] = i % 2 === 0 ? ['hpa', 'be'] : ['be', 'hpa'];
    for (const server of order) pair[server].push(await measure(server));
  }
  return pair;
}

const fmt = (value: number) => value.toFixed(1);
const verdict = (met: boolean) => `**${met ? 'met' : 'not met'}**`;
const mbps = (rounds: Round[]) => median(rounds.map((r) => r.mbps));
const cpu = (rounds: Round[]) => median(rounds.map((r) => r.cpuPerBlockUs));

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'be-bench-tftp-'));
  writeFileSync(join(root, 'big'), randomBytes(fileSize));
  const hpaBin = await extractTftpdHpa();
  const load = loadavg()[0]!;
  const serveBe = async (workers: number, pinned: boolean) => {
    const port = await freePort();
    const args = [
      beMain,
      'serve',
      '--only',
      'tftp',
      '--set',
      'dhcp.enabled=false',
      '--set',
      'log.level=warn',
      '--set',
      `tftp.workers=${workers}`,
      '--set',
      'tftp.address=127.0.0.1',
      '--set',
      `tftp.port=${port}`,
      '--set',
      `tftp.root=${root}`,
      '--set',
      `tftp.datagrams=${datagrams}`,
    ];
    // Every thread be starts inherits CPU 0.
    return { port, child: start(...onCpu(pinned ? 0 : undefined, 'node', args)) };
  };
  const serveHpa = async (pinned: boolean) => {
    const port = await freePort();
    // -B 1468: the same largest block as be's tftp.maxBlksize default (TESTLAB.md's reference invocation).
    const args = ['-L', '-a', `127.0.0.1:${port}`, '-s', root, '-u', 'root', '-B', '1468'];
    const env = { LD_LIBRARY_PATH: hpaBin.libraryPath };
    return { port, child: start(...onCpu(pinned ? 0 : undefined, hpaBin.binary, args), { env }) };
  };
  const servers = {
    be: await serveBe(0, false),
    workers: await serveBe(2, false),
    hpa: await serveHpa(false),
    bePinned: await serveBe(0, true),
    hpaPinned: await serveHpa(true),
  };
  const floorPort = await freePort();
  const floor = start('node', ['--input-type=module', '-e', floorServer, String(floorPort), String(fileSize), '1468']);
  const children = [...Object.values(servers).map((s) => s.child), floor];
  const meters = Object.fromEntries(Object.entries(servers).map(([name, s]) => [name, new CpuMeter(`be-bench-tftp-${name}`, s.child.pid!)])) as Record<
    keyof typeof servers,
    CpuMeter
  >;
  const stopAll = () => {
    for (const child of children) if (child.pid !== undefined) child.kill('SIGTERM');
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      stopAll();
      process.exit(1);
    });
  }
  try {
    for (const [name, server] of Object.entries(servers)) {
      // A server that exits (a port taken meanwhile) says why, instead of a timeout naming a port.
      const exited = server.child.then(
        (result) => Promise.reject(new Error(`${name} exited: ${result.stderr}`)),
        (err: Error) => Promise.reject(new Error(`${name} failed: ${err.message}`)),
      );
      exited.catch(() => {});
      await Promise.race([waitForServer(server.port), exited]);
    }
    const targetOf = (name: keyof typeof servers): Target => ({
      port: servers[name].port,
      cpu: meters[name],
      threadsOf: name.startsWith('hpa') ? undefined : servers[name].child.pid,
    });
    const say = (line: string) => process.stdout.write(`tftp: ${line}\n`);
    const many = Math.max(1, Math.ceil(rounds / 2));
    const hundreds = Math.max(1, Math.ceil(rounds / 3));
    interface Scenario {
      label: string;
      pair: Pair;
      target: number;
      clients: number;
      pinned: boolean;
    }
    const scenarios: Scenario[] = [];
    /** `clients` curls fetching at once from each server in turn, `times` rounds; `pick` names the server of a side. */
    const scenario = async (
      label: string,
      times: number,
      target: number,
      {
        clients,
        pinned = false,
        blksize = 1468,
        pick,
      }: { clients: number; pinned?: boolean; blksize?: number; pick: (s: 'be' | 'hpa') => keyof typeof servers },
    ) => {
      const pair = await alternate(times, (s) => concurrent(targetOf(pick(s)), clients, blksize, pinned));
      say(`${label}: be ${fmt(mbps(pair.be))} MB/s (${fmt(cpu(pair.be))} µs/block), tftpd-hpa ${fmt(mbps(pair.hpa))} MB/s (${fmt(cpu(pair.hpa))} µs/block)`);
      scenarios.push({ label, pair, target, clients, pinned });
      return pair;
    };
    const plain = (s: 'be' | 'hpa') => s;
    const withWorkers = (s: 'be' | 'hpa') => (s === 'be' ? 'workers' : 'hpa');
    const pinnedPick = (s: 'be' | 'hpa') => (s === 'be' ? 'bePinned' : 'hpaPinned');
    const s1468 = await scenario('1 curl, blksize 1468', rounds, 1.5, { clients: 1, pick: plain });
    const s512 = await scenario('1 curl, blksize 512', rounds, 1.2, { clients: 1, blksize: 512, pick: plain });
    await scenario('20 curls at once (aggregate)', many, 1.2, { clients: 20, pick: plain });
    await scenario('20 curls at once, be with tftp.workers=2', many, 1.2, { clients: 20, pick: withWorkers });
    await scenario('100 curls at once (aggregate)', hundreds, 1.2, { clients: 100, pick: plain });
    await scenario('100 curls at once, be with tftp.workers=2', hundreds, 1.2, { clients: 100, pick: withWorkers });
    await scenario('pinned: 1 curl, blksize 1468', rounds, 1.5, { clients: 1, pinned: true, pick: pinnedPick });
    await scenario('pinned: 20 curls at once (aggregate)', many, 1.2, { clients: 20, pinned: true, pick: pinnedPick });
    await scenario('pinned: 100 curls at once (aggregate)', hundreds, 1.2, { clients: 100, pinned: true, pick: pinnedPick });
    const floor20: number[] = [];
    for (let i = 0; i < many; i++) floor20.push((await concurrent({ port: floorPort, cpu: { seconds: () => cpuSeconds(floor.pid!) } }, 20)).mbps);
    const floorCpu = cpuSeconds(floor.pid!);
    say(`20 clients, minimal Node sender: ${fmt(median(floor20))} MB/s`);
    const rss = {
      be: peakRssMiB(servers.be.child.pid!),
      workers: peakRssMiB(servers.workers.child.pid!),
      pinned: peakRssMiB(servers.bePinned.child.pid!),
    };
    say(`be peak RSS ${fmt(rss.be)} MiB, with 2 workers ${fmt(rss.workers)} MiB, pinned ${fmt(rss.pinned)} MiB`);
    // RFC 7440 on the same path: lock-step, EDK2's default window of 4, and 16, rounds interleaved.
    const windows = new Map<number, number[]>([
      [1, []],
      [4, []],
      [16, []],
    ]);
    const atftpHpa: number[] = [];
    for (let i = 0; i < rounds; i++) {
      for (const size of windows.keys()) windows.get(size)!.push(await atftp(servers.be.port, size));
      atftpHpa.push(await atftp(servers.hpa.port, 1));
    }
    const lockStep = median(windows.get(1)!);
    say(
      `atftp 1468: be ${[...windows].map(([size, v]) => `windowsize ${size} ${fmt(median(v))} MB/s`).join(', ')}, tftpd-hpa lock-step ${fmt(median(atftpHpa))} MB/s`,
    );

    const ratio = (pair: Pair) => mbps(pair.be) / mbps(pair.hpa);
    const row = ({ label, pair, target: goal }: (typeof scenarios)[number]) =>
      `| ${label} | ${fmt(mbps(pair.be))} MB/s | ${fmt(mbps(pair.hpa))} MB/s | ${ratio(pair).toFixed(2)}x | ${fmt(cpu(pair.be))} / ${fmt(cpu(pair.hpa))} µs | ≥ ${goal.toFixed(1)}x: ${verdict(ratio(pair) >= goal)} |`;
    const windowRow = (size: number) =>
      `| windowsize ${size} | ${fmt(median(windows.get(size)!))} MB/s | ${(median(windows.get(size)!) / lockStep).toFixed(2)}x |${size === 16 ? ` ≥ 3x: ${verdict(median(windows.get(16)!) / lockStep >= 3)}` : ''} |`;
    /** Where a concurrent scenario's time went: the clients' CPUs, be's waits for a CPU, idle CPUs. */
    const whereTimeWent = ({ label, pair, pinned }: Scenario) => {
      const of = (list: Round[], pick: (r: Round) => number) => median(list.map(pick));
      const clients = { be: of(pair.be, (r) => r.clientCpus), hpa: of(pair.hpa, (r) => r.clientCpus) };
      // Pinned, the curls have CPU 1 alone: saturated with both servers, each server got what the curls could take from it.
      const clientBound = pinned && clients.be >= 0.9 && clients.hpa >= 0.9;
      return (
        `- ${label}: the curls used ${clients.be.toFixed(2)} CPUs with be and ${clients.hpa.toFixed(2)} with tftpd-hpa${pinned ? ' (CPU 1 alone)' : ''}; ` +
        `be's threads were ready to run but waiting for a CPU ${percent(of(pair.be, (r) => r.serverWaiting ?? Number.NaN))} of the round; ` +
        `idle CPU ${percent(of(pair.be, (r) => r.idle))} with be, ${percent(of(pair.hpa, (r) => r.idle))} with tftpd-hpa.` +
        (clientBound ? " The clients' core was saturated (≥ 90 %) with both servers." : '')
      );
    };
    const samples = (pair: Pair) => `be ${pair.be.map((r) => fmt(r.mbps)).join(', ')} / hpa ${pair.hpa.map((r) => fmt(r.mbps)).join(', ')}`;
    const body = [
      `32 MiB file on loopback, \`be serve --only tftp\` (dist/bin/be.mjs, log level warn, tftp.datagrams ${datagrams}) beside tftpd-hpa 5.2 (\`in.tftpd -L -B 1468\`,`,
      `extracted from the Debian package), alternating rounds; medians of ${rounds} single-client rounds, ${many} rounds of 20`,
      `clients and ${hundreds} of 100 (each client a curl process; aggregate = bytes / wall time from the first start to the last exit).`,
      '"pinned": each server on CPU 0 (taskset; tftpd-hpa\'s forks and be\'s threads inherit it) and every curl on CPU 1, so the',
      "servers' own efficiency is compared as it would be with the clients on other machines. CPU = the server's user + system",
      `time per DATA block sent, medians over the rounds (${Object.values(meters).every((m) => m.exact) ? "each server's own cpuacct cgroup, so tftpd-hpa's forks count" : "the server's own counters: tftpd-hpa's forks are not counted"}).`,
      '',
      '| scenario | be | tftpd-hpa | be / tftpd-hpa | CPU per block, be / hpa | target |',
      '| --- | --- | --- | --- | --- | --- |',
      ...scenarios.map(row),
      '',
      'Where the time of the concurrent rounds went (medians): CPUs the curls used (their user + system time over the round),',
      "the share of the round be's threads were runnable but not running (schedstat, summed over its threads; tftpd-hpa's forks are gone by the end",
      'of a round, so it has no such figure), and the idle share of all CPUs.',
      '',
      ...scenarios.filter((s) => s.clients > 1).map(whereTimeWent),
      '',
      `RFC 7440 windows on be, the same client (atftp 0.8.0, blksize 1468), medians of ${rounds} interleaved rounds; atftp in lock-step`,
      `against tftpd-hpa (which has no windowsize): ${fmt(median(atftpHpa))} MB/s.`,
      '',
      '| atftp | be | against lock-step | target |',
      '| --- | --- | --- | --- |',
      `| lock-step | ${fmt(lockStep)} MB/s | 1.00x | |`,
      windowRow(4),
      windowRow(16),
      '',
      `- be's peak RSS (VmHWM) after the concurrent rounds, target ≤ 150 MiB: ${fmt(rss.be)} MiB with transfers on the main thread`,
      `  (${verdict(rss.be <= 150)}), ${fmt(rss.workers)} MiB with tftp.workers=2 (${verdict(rss.workers <= 150)}), ${fmt(rss.pinned)} MiB pinned (${verdict(rss.pinned <= 150)}).`,
      `- Node's dgram alone, for scale: a minimal Node sender (the file in memory; no reads, timers, checks or logs; one`,
      `  thread, node:dgram) fed 20 unpinned curls at ${fmt(median(floor20))} MB/s, spending`,
      `  ${((floorCpu * 1e6) / ((floor20.length * 20 * fileSize) / 1468)).toFixed(1)} µs of CPU per block.`,
      `- Samples, MB/s: 1468 ${samples(s1468)}; 512 ${samples(s512)}.`,
      `- The machine is shared (load average ${load.toFixed(2)} at the start of this run; the 100-client rounds raise it themselves): single-client`,
      '  figures vary from round to round for both servers; compare the ratios, and rerun before trusting one.',
      '',
      `Machine: ${machine()}; measured ${new Date().toISOString().slice(0, 10)}.`,
    ].join('\n');
    writeSection('TFTP', body);
  } finally {
    stopAll();
    await Promise.allSettled(children);
    for (const meter of Object.values(meters)) meter.close();
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
