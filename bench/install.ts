/**
 * `be install` of a 256 MiB base.txz from a local nginx into an empty boot environment (dir backend),
 * side by side with the plain tools doing the same work one after another: `curl -sS -o FILE URL`,
 * `sha256sum FILE`, `tar -xpf FILE -C DIR`. Targets: be's wall time ≤ 1.1x the plain tools' summed wall
 * time, and be's peak RSS ≤ 100 MiB (the set is streamed to disk through the hash, never held whole).
 *
 * - The mirror (releases/amd64/amd64/14.1-RELEASE/: MANIFEST, base.txz, kernel.txz) is made once per run
 *   with the real tar -cJf (XZ_OPT=-0 -T2: xz of random data is slow): 32 files of 8 MiB of random
 *   bytes (incompressible, as most of a real base is after xz) and 6,000 small text files.
 * - nginx (test/lan/nginx.ts) serves it on 127.0.0.1 and a free port, with no rate limit.
 * - Each be round is a fresh empty BE with its own be.root and server.stateDir, so the install cache is
 *   empty every time (a cached set would skip the download); `--sets base`, so both sides move the same
 *   bytes. Each plain round is a fresh directory. Every command runs under GNU time -v (Debian's `time`
 *   package) for its peak RSS and CPU time.
 * - The page cache is not dropped (drop_caches cannot be relied on in a container on a shared machine,
 *   and the served file stays in memory for both sides alike); instead rounds alternate which side goes
 *   first, and `sync` runs (untimed) before each measurement so one side's dirty pages are not written
 *   back during the other's.
 * - Beside the target, not in it: `openssl dgst -sha256` on the same file, because Debian's sha256sum
 *   has no SHA-NI code and so is slower than the hash be streams the download through.
 * - Run twice: with the BE, the cache and the plain files on the disk (tmpdir()), then on tmpfs
 *   (/dev/shm), where the disk's and the neighbours' I/O noise is gone and what is left is the tools' cost.
 */
import { createHash, randomFillSync } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { run, start } from '../services/os.js';
import { type Nginx, removeTempDir, startNginx, tempDir } from '../test/lan/nginx.js';
import { machine, median, writeSection } from './results.js';
import { installSettings } from '../test/lan/mirror.js';

const beMain = fileURLToPath(new URL('../bin/be.mjs', import.meta.url));
const rounds = Number(process.env.BENCH_ROUNDS ?? 10);
const gnuTime = '/usr/bin/time';
const MiB = 1024 * 1024;
const bigFiles = 32;
const bigSize = 8 * MiB;
const smallFiles = 6000;
const release = '14.1-RELEASE';
const releasePath = `/releases/amd64/amd64/${release}/`;
const targetRatio = 1.1;
const targetRssMiB = 100;

interface Mirror {
  root: string;
  /** The mirror's base.txz on disk. */
  file: string;
  bytes: number;
  sha256: string;
  entries: number;
  /** Bytes once extracted (file contents). */
  extracted: number;
  buildSeconds: number;
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

/** A set's .txz from a tree, with the real tar and xz; returns its MANIFEST line. */
async function makeSet(dir: string, src: string, set: string, description: string): Promise<{ line: string; file: string; sha256: string; entries: number }> {
  const file = join(dir, `${set}.txz`);
  await run('tar', ['-cJf', file, '--numeric-owner', '--owner=0', '--group=0', '-C', src, '.'], {
    env: { XZ_OPT: '-0 -T2' },
    timeoutMs: 600_000,
  });
  const listing = await run('tar', ['-tf', file], { timeoutMs: 600_000 });
  const entries = listing.stdout.trim().split('\n').length;
  const sha256 = await sha256Of(file);
  return { line: `${set}.txz\t${sha256}\t${entries}\t${set}\t"${description}"\ton`, file, sha256, entries };
}

async function buildMirror(work: string): Promise<Mirror> {
  const begin = process.hrtime.bigint();
  const base = join(work, 'src', 'base');
  let extracted = 0;
  mkdirSync(join(base, 'usr', 'lib'), { recursive: true });
  for (let i = 0; i < bigFiles; i++) {
    // Random bytes, as xz leaves most of a real base: incompressible.
    writeFileSync(join(base, 'usr', 'lib', `libbench${String(i).padStart(2, '0')}.so.1`), randomFillSync(Buffer.allocUnsafe(bigSize)));
    extracted += bigSize;
  }
  for (let i = 0; i < smallFiles; i++) {
    const dir = join(base, 'usr', 'share', `d${String(i % 60).padStart(2, '0')}`);
    if (i < 60) mkdirSync(dir, { recursive: true });
    const text = `small file ${i} of the bench's base set\n`.repeat(5 + (i % 90));
    writeFileSync(join(dir, `f${i}.txt`), text);
    extracted += text.length;
  }
  const kernel = join(work, 'src', 'kernel');
  mkdirSync(join(kernel, 'boot', 'kernel'), { recursive: true });
  writeFileSync(join(kernel, 'boot', 'kernel', 'kernel'), randomFillSync(Buffer.allocUnsafe(MiB)));
  writeFileSync(join(kernel, 'boot', 'kernel', 'zfs.ko'), 'zfs');

  const root = join(work, 'mirror');
  const dir = join(root, releasePath);
  mkdirSync(dir, { recursive: true });
  const b = await makeSet(dir, base, 'base', 'Base system (MANDATORY)');
  const k = await makeSet(dir, kernel, 'kernel', 'Kernel (MANDATORY)');
  writeFileSync(join(dir, 'MANIFEST'), `${b.line}\n${k.line}\n`);
  rmSync(join(work, 'src'), { recursive: true, force: true });
  return {
    root,
    file: b.file,
    bytes: statSync(b.file).size,
    sha256: b.sha256,
    entries: b.entries,
    extracted,
    buildSeconds: Number(process.hrtime.bigint() - begin) / 1e9,
  };
}

interface Usage {
  maxRssKiB: number;
  cpuSeconds: number;
}

/** GNU time -v's report: peak RSS (of the command, or of its largest waited-for child if larger) and user + system time (children included). */
function readUsage(file: string): Usage {
  const text = readFileSync(file, 'utf8');
  const field = (label: string) => {
    const match = new RegExp(`${label}: ([\\d.]+)`).exec(text);
    if (!match) throw new Error(`${file}: no "${label}" in GNU time's report:\n${text}`);
    return Number(match[1]);
  };
  return { maxRssKiB: field('Maximum resident set size \\(kbytes\\)'), cpuSeconds: field('User time \\(seconds\\)') + field('System time \\(seconds\\)') };
}

const now = () => Number(process.hrtime.bigint()) / 1e9;

interface BeSample {
  wall: number;
  rssMiB: number;
  cpu: number;
  /** Seconds from the start to each progress line: download started, download's last byte written, extraction's first entry. */
  downloading: number;
  downloaded: number;
  extracting: number;
  requests: number;
}

interface PlainSample {
  wall: number;
  curl: number;
  sha256sum: number;
  tar: number;
  cpu: number;
  maxRssMiB: number;
  /** `openssl dgst -sha256 FILE`, timed after the round and not in its sum: a checksum with OpenSSL's SHA code, as Node's. */
  openssl: number;
}

async function sync(): Promise<void> {
  await run('sync', [], { timeoutMs: 300_000 });
}

/** The flags of a fresh, empty dir-backend BE setup under `dir` (its own be.root and state, so an empty install cache). */
function beFlags(dir: string): string[] {
  return [...installSettings(dir), '--set', 'log.level=warn'];
}

/** be's peak RSS installing the 1 MiB kernel set: what loading the install path and one download cost whatever the size. */
async function fixedRssMiB(nginx: Nginx, work: string): Promise<number> {
  const dir = mkdtempSync(join(work, 'kernel-'));
  try {
    const flags = beFlags(dir);
    await run(process.execPath, [beMain, ...flags, 'create', 'bench'], { timeoutMs: 60_000 });
    const usage = join(dir, 'time.txt');
    await run(gnuTime, ['-v', '-o', usage, process.execPath, beMain, ...flags, 'install', '-p', nginx.url(''), '-r', '14.1', '--sets', 'kernel', 'bench'], {
      timeoutMs: 120_000,
    });
    return readUsage(usage).maxRssKiB / 1024;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function beRound(nginx: Nginx, work: string): Promise<BeSample> {
  const dir = mkdtempSync(join(work, 'be-'));
  try {
    const flags = beFlags(dir);
    await run(process.execPath, [beMain, ...flags, 'create', 'bench'], { timeoutMs: 60_000 });
    const usage = join(dir, 'time.txt');
    const requestsBefore = nginx.accessLog().length;
    await sync();
    const marks = new Map<string, number>();
    const begin = now();
    const child = start(gnuTime, [
      '-v',
      '-o',
      usage,
      process.execPath,
      beMain,
      ...flags,
      'install',
      '-p',
      nginx.url(''),
      '-r',
      '14.1',
      '--sets',
      'base',
      'bench',
    ]);
    child.stderr?.on('data', (chunk: Buffer) => {
      const at = now() - begin;
      for (const line of chunk.toString().split('\n')) {
        for (const mark of ['downloading base.txz', 'base.txz downloaded and verified', 'extracting']) {
          if (line.includes(mark) && !marks.has(mark)) marks.set(mark, at);
        }
      }
    });
    const result = await child;
    const wall = now() - begin;
    if (result.exitCode !== 0) throw new Error(`be install exited ${result.exitCode ?? result.signal}: ${String(result.stderr)}`);
    const stdout = String(result.stdout);
    if (!/installed \(base; [\d.]+ MiB\)/.test(stdout) || stdout.includes('from the cache')) throw new Error(`be install: unexpected summary: ${stdout}`);
    const sample = join(dir, 'envs', 'bench', 'usr', 'lib', 'libbench00.so.1');
    if (!existsSync(sample) || statSync(sample).size !== bigSize) throw new Error(`be install: ${sample} is missing or short`);
    const mark = (name: string) => {
      const at = marks.get(name);
      if (at === undefined) throw new Error(`be install: no "${name}" line on stderr: ${String(result.stderr)}`);
      return at;
    };
    const { maxRssKiB, cpuSeconds } = readUsage(usage);
    return {
      wall,
      rssMiB: maxRssKiB / 1024,
      cpu: cpuSeconds,
      downloading: mark('downloading base.txz'),
      downloaded: mark('base.txz downloaded and verified'),
      extracting: mark('extracting'),
      requests: nginx.accessLog().length - requestsBefore,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function plainRound(nginx: Nginx, mirror: Mirror, work: string): Promise<PlainSample> {
  const dir = mkdtempSync(join(work, 'plain-'));
  try {
    const file = join(dir, 'base.txz');
    const dest = join(dir, 'root');
    mkdirSync(dest);
    const timed = (name: string, args: string[]) => run(gnuTime, ['-v', '-o', join(dir, `${name}.time`), name, ...args], { timeoutMs: 600_000 });
    await sync();
    const t0 = now();
    await timed('curl', ['-sS', '-o', file, nginx.url(`${releasePath}base.txz`)]);
    const t1 = now();
    const sum = await timed('sha256sum', [file]);
    const t2 = now();
    await timed('tar', ['-xpf', file, '-C', dest]);
    const t3 = now();
    if (sum.stdout.split(' ')[0] !== mirror.sha256) throw new Error(`sha256sum: ${sum.stdout.trim()}, MANIFEST says ${mirror.sha256}`);
    if (statSync(join(dest, 'usr', 'lib', 'libbench00.so.1')).size !== bigSize) throw new Error('tar -xpf: libbench00.so.1 is short');
    const t4 = now();
    const dgst = await run('openssl', ['dgst', '-sha256', '-r', file], { timeoutMs: 600_000 });
    const openssl = now() - t4;
    if (dgst.stdout.split(' ')[0] !== mirror.sha256) throw new Error(`openssl dgst: ${dgst.stdout.trim()}, MANIFEST says ${mirror.sha256}`);
    const usages = ['curl', 'sha256sum', 'tar'].map((name) => readUsage(join(dir, `${name}.time`)));
    return {
      wall: t3 - t0,
      curl: t1 - t0,
      sha256sum: t2 - t1,
      tar: t3 - t2,
      cpu: usages.reduce((n, u) => n + u.cpuSeconds, 0),
      maxRssMiB: Math.max(...usages.map((u) => u.maxRssKiB)) / 1024,
      openssl,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const s = (value: number) => value.toFixed(2);
const spread = (values: readonly number[]) => `${s(Math.min(...values))}–${s(Math.max(...values))}`;
const verdict = (met: boolean) => `**${met ? 'met' : 'not met'}**`;

interface Medium {
  /** What the BE, the cache and the plain tools' files live on: `ext4 (/tmp)`. */
  label: string;
  be: BeSample[];
  plain: PlainSample[];
}

/** `rounds` rounds of each side with their files under `work`, after one untimed warm-up of each; rounds alternate who goes first. */
async function compare(nginx: Nginx, mirror: Mirror, work: string, name: string, say: (line: string) => void): Promise<Medium> {
  // The first line: a file system mounted over another at the same point lists both.
  const fs = (await run('findmnt', ['-no', 'FSTYPE', '-T', work])).stdout.trim().split('\n')[0]!;
  const label = `${name}: ${fs}`;
  // First-use costs (the bundle read from disk, nginx's first open of the file), and a check that both sides work.
  await plainRound(nginx, mirror, work);
  await beRound(nginx, work);
  const be: BeSample[] = [];
  const plain: PlainSample[] = [];
  for (let i = 0; i < rounds; i++) {
    const order = i % 2 === 0 ? (['plain', 'be'] as const) : (['be', 'plain'] as const);
    for (const side of order) {
      if (side === 'be') be.push(await beRound(nginx, work));
      else plain.push(await plainRound(nginx, mirror, work));
    }
    const b = be.at(-1)!;
    const p = plain.at(-1)!;
    say(
      `${label} round ${i + 1}/${rounds}: be ${s(b.wall)} s (peak RSS ${b.rssMiB.toFixed(1)} MiB), plain ${s(p.wall)} s (${s(p.curl)} + ${s(p.sha256sum)} + ${s(p.tar)})`,
    );
  }
  return { label, be, plain };
}

const med = <T>(samples: readonly T[], pick: (x: T) => number) => median(samples.map(pick));
const ratioOf = (m: Medium) => med(m.be, (x) => x.wall) / med(m.plain, (x) => x.wall);
/** be against curl + openssl dgst + tar: the plain tools with a checksum as fast as be's. */
const opensslRatioOf = (m: Medium) => med(m.be, (x) => x.wall) / med(m.plain, (x) => x.curl + x.openssl + x.tar);

async function main(): Promise<void> {
  if (!existsSync(gnuTime)) throw new Error(`${gnuTime} is missing: apt-get install -y time (GNU time, for peak RSS)`);
  const work = tempDir('bench-install');
  // The second medium: tmpfs, where the disk's (and its neighbours') noise is gone and what remains is the tools' own cost.
  const shm = existsSync('/dev/shm') ? mkdtempSync(join('/dev/shm', `be-bench-install-${process.pid}-`)) : undefined;
  const load = loadavg()[0]!;
  const say = (line: string) => process.stdout.write(`install: ${line}\n`);
  let nginx: Nginx | undefined;
  try {
    const mirror = await buildMirror(work);
    say(`mirror built in ${s(mirror.buildSeconds)} s: base.txz ${(mirror.bytes / MiB).toFixed(1)} MiB, ${mirror.entries} entries`);
    nginx = await startNginx({ root: mirror.root });
    const versions = {
      curl: (await run('curl', ['--version'])).stdout.split(' ').slice(0, 2).join(' '),
      tar: (await run('tar', ['--version'])).stdout.split('\n')[0]!,
      xz: (await run('xz', ['--version'])).stdout.split('\n')[0]!,
      nginx: (await run('nginx', ['-v'])).stderr.replace(/^nginx version: /, '').trim(),
    };
    const media = [await compare(nginx, mirror, work, tmpdir(), say)];
    if (shm) media.push(await compare(nginx, mirror, shm, '/dev/shm', say));

    const fixed: number[] = [];
    for (let i = 0; i < 3; i++) fixed.push(await fixedRssMiB(nginx, work));
    const nodeUsage = join(work, 'node.time');
    await run(gnuTime, ['-v', '-o', nodeUsage, process.execPath, '-e', '0']);
    const nodeRss = readUsage(nodeUsage).maxRssKiB / 1024;
    const allBe = media.flatMap((m) => m.be);
    const peakRss = Math.max(...allBe.map((x) => x.rssMiB));
    const medianRss = med(allBe, (x) => x.rssMiB);
    const mb = mirror.bytes / 1e6;
    for (const m of media) {
      say(`${m.label}: be ${s(med(m.be, (x) => x.wall))} s, plain ${s(med(m.plain, (x) => x.wall))} s, ratio ${ratioOf(m).toFixed(3)}`);
    }
    say(`be peak RSS ${peakRss.toFixed(1)} MiB (kernel set only: ${median(fixed).toFixed(1)} MiB)`);

    const row = (label: string, cell: (m: Medium) => string) => `| ${label} | ${media.map(cell).join(' | ')} |`;
    const timeCell = (values: readonly number[]) => `${s(median(values))} s (${spread(values)})`;
    const beTime = (pick: (x: BeSample) => number) => (m: Medium) => timeCell(m.be.map(pick));
    const plainTime = (pick: (x: PlainSample) => number) => (m: Medium) => timeCell(m.plain.map(pick));
    const table: [string, (m: Medium) => string][] = [
      ['**be install**', beTime((x) => x.wall)],
      ['**curl + sha256sum + tar**', plainTime((x) => x.wall)],
      ['**be / plain** (ratio of the medians)', (m) => `**${ratioOf(m).toFixed(3)}x**`],
      ['be / plain, round by round', (m) => m.be.map((x, i) => (x.wall / m.plain[i]!.wall).toFixed(2)).join(', ')],
      ['MB/s, be / plain', (m) => `${(mb / med(m.be, (x) => x.wall)).toFixed(0)} / ${(mb / med(m.plain, (x) => x.wall)).toFixed(0)}`],
      ['CPU s (user + sys, children included), be / plain', (m) => `${s(med(m.be, (x) => x.cpu))} / ${s(med(m.plain, (x) => x.cpu))}`],
      ['plain: curl -o', plainTime((x) => x.curl)],
      ['plain: sha256sum', plainTime((x) => x.sha256sum)],
      ['plain: tar -xpf', plainTime((x) => x.tar)],
      ["be: start to base.txz's first byte", beTime((x) => x.downloading)],
      ['be: download, hashed as it streams', beTime((x) => x.downloaded - x.downloading)],
      ["be: last byte to tar's first entry", beTime((x) => x.extracting - x.downloaded)],
      ['be: extraction to exit', beTime((x) => x.wall - x.extracting)],
      ['(not in the sum) openssl dgst -sha256', plainTime((x) => x.openssl)],
      ['(not in the sum) be / (curl + openssl dgst + tar)', (m) => `${opensslRatioOf(m).toFixed(3)}x`],
    ];
    const metOn = media.filter((m) => ratioOf(m) <= targetRatio).map((m) => m.label);
    const body = [
      `A ${(mirror.bytes / MiB).toFixed(1)} MiB base.txz (${bigFiles} files of ${bigSize / MiB} MiB of random bytes and ${smallFiles.toLocaleString('en')} small text files,`,
      `${mirror.entries.toLocaleString('en')} entries, ${(mirror.extracted / MiB).toFixed(1)} MiB extracted; made with \`tar -cJf\`, XZ_OPT=-0 -T2) served by ${versions.nginx} on`,
      `127.0.0.1 (test/lan/nginx.ts, no rate limit) as \`${releasePath}\` with its MANIFEST. **be**: \`node dist/bin/be.mjs`,
      `install -p http://127.0.0.1:PORT -r 14.1 --sets base NAME\` into a fresh empty BE (dir backend; its own be.root and`,
      'server.stateDir each round, so the install cache starts empty), the whole command timed, start-up included.',
      `**plain**: \`curl -sS -o FILE URL\`, \`sha256sum FILE\`, \`tar -xpf FILE -C DIR\` (${versions.curl}, ${versions.tar}, ${versions.xz})`,
      'run one after another into a fresh directory, their wall times summed. Every command under GNU time -v (Debian',
      `package \`time\`) for peak RSS and CPU. ${rounds} rounds of each per medium after one untimed warm-up of each, alternating which`,
      'side goes first, `sync` (untimed) before every measurement; the page cache is not dropped (the served file is in',
      'memory for both sides alike). Run twice: with the BE, the cache and the plain files on the disk, and on tmpfs, where',
      "the disk's and the neighbours' I/O noise is gone (and be's fsync costs nothing). Medians, (min–max).",
      '',
      `| | ${media.map((m) => m.label).join(' | ')} |`,
      `| --- | ${media.map(() => '---').join(' | ')} |`,
      ...table.map(([label, cell]) => row(label, cell)),
      '',
      `- **Time, target be ≤ ${targetRatio}x the plain tools: ${metOn.length === media.length ? 'met' : metOn.length ? `met on ${metOn.join(', ')} only` : 'not met'}** (${media.map((m) => `${m.label} ${ratioOf(m).toFixed(3)}x: ${verdict(ratioOf(m) <= targetRatio)}`).join('; ')}).`,
      '- **Peak RSS, target ≤ 100 MiB: ' +
        `${peakRss <= targetRssMiB ? 'met' : 'not met'}**: be's maximum resident set size (GNU time: node's, or tar's or xz's if one were larger)`,
      `  was ${medianRss.toFixed(1)} MiB median, ${peakRss.toFixed(1)} MiB at most over the ${allBe.length} timed installs of the ${(mirror.bytes / MiB).toFixed(0)} MiB set. It is streamed, not`,
      `  buffered: the same command installing the 1 MiB kernel set peaks at ${median(fixed).toFixed(1)} MiB (median of 3; \`node -e 0\` alone:`,
      `  ${nodeRss.toFixed(1)} MiB), so 256 MiB more data adds ${(medianRss - median(fixed)).toFixed(1)} MiB (median), not its size. The rest is the`,
      "  fixed cost of Node with the install path loaded (node:http, not undici, whose WebAssembly parser alone cost ~50 MiB: services/install/http.ts). The plain tools' largest:",
      `  ${Math.max(...media.flatMap((m) => m.plain.map((x) => x.maxRssMiB))).toFixed(1)} MiB.`,
      `- be's phases come from its progress lines on stderr. Before the first byte: Node's start-up, the configuration, the BE, the`,
      `  MANIFEST (${med(allBe, (x) => x.requests)} HTTP requests in all). be has no separate checksum pass: its`,
      "  download (node:http, sha256 as it streams) costs more than curl alone and less than curl + sha256sum (Debian's sha256sum",
      "  9.1 does not link OpenSSL: its own C code, no SHA-NI; Node's hash is OpenSSL's). That slow sha256sum is where be's margin",
      `  comes from: against curl + \`openssl dgst -sha256\` + tar (timed on the same file, not part of the target), be is`,
      `  ${media.map((m) => `${opensslRatioOf(m).toFixed(2)}x (${m.label})`).join(' and ')}. From the last byte to tar's first entry: the part fsynced (curl does not fsync),`,
      '  checked, renamed, the directory synced, tar started. Extraction is `tar -xvpf --numeric-owner`, its listing counted',
      '  for progress, against plain `tar -xpf`; on the disk it is most of the time and most of the noise for both sides.',
      "- Synthetic data: random bytes make xz's decompression nearly a copy, so extraction here costs less CPU than a real",
      "  base.txz's; the comparison is of the same file on both sides.",
      `- Load average ${load.toFixed(2)} at the start, ${loadavg()[0]!.toFixed(2)} at the end: the machine is shared (2 cores), and a`,
      "  neighbour's I/O shows in single rounds (see the round-by-round ratios); compare the medians, and rerun before trusting one.",
      '',
      `Machine: ${machine()}; measured ${new Date().toISOString().slice(0, 10)}.`,
    ].join('\n');
    writeSection('be install', body);
  } finally {
    await nginx?.close();
    removeTempDir(work);
    if (shm) rmSync(shm, { recursive: true, force: true });
  }
}

await main();
