/**
 * `be hunt` over ten releases already in the install cache, with the chroot runner and `/bin/true` as
 * the test: the wall time per release of the whole loop (create the BE, install it from the cache, run
 * the test in a chroot, keep its log and result, write the reports), with `--jobs 1` and `--jobs 2`.
 * Target: `--jobs 2` at least 1.6x faster than `--jobs 1` on this 2-core machine.
 *
 * - The releases are test/lan/hunt-mirror.ts's (a static busybox userland, real tar + xz sets) in a
 *   local-directory mirror; the cache (install.cache) is filled once before the timed rounds, so no
 *   round downloads anything, and every round starts from a fresh be.root and server.stateDir (no BE
 *   exists: each is created and installed, as a first hunt on a machine with a warm cache does).
 * - Rounds alternate which of --jobs 1 and --jobs 2 goes first; `sync` (untimed) before each. The whole
 *   command is timed, Node's start-up included (once per hunt, not per release).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../services/os.js';
import { staticBusybox } from '../test/lan/debian.js';
import { buildHuntMirror } from '../test/lan/hunt-mirror.js';
import { removeTempDir, tempDir } from '../test/lan/nginx.js';
import { machine, median, writeSection } from './results.js';

const beMain = fileURLToPath(new URL('../bin/be.mjs', import.meta.url));
const rounds = Number(process.env.BENCH_ROUNDS ?? 7);
const versions = ['12.0', '12.1', '12.2', '12.3', '12.4', '13.0', '13.1', '13.2', '13.3', '13.4'];
const targetSpeedup = 1.6;

const now = () => Number(process.hrtime.bigint()) / 1e9;
const s = (value: number) => value.toFixed(2);
const spread = (values: readonly number[]) => `${s(Math.min(...values))}–${s(Math.max(...values))}`;

function flags(dir: string, cache: string): string[] {
  return [
    ...['--set', 'be.backend=dir', '--set', `be.root=${join(dir, 'envs')}`, '--set', `server.stateDir=${join(dir, 'state')}`],
    ...['--set', 'install.archive=null', '--set', `install.cache=${cache}`],
  ];
}

interface Sample {
  wall: number;
  /** User + system CPU seconds of be and every process it waited for (GNU time). */
  cpu: number;
}

/** One hunt of the ten releases from nothing but the cache, under GNU time. */
async function hunt(work: string, mirror: string, cache: string, jobs: number): Promise<Sample> {
  const dir = mkdtempSync(join(work, `round-j${jobs}-`));
  try {
    await run('sync', []);
    const usage = join(dir, 'time.txt');
    const begin = now();
    const result = await run(
      '/usr/bin/time',
      [
        '-f',
        '%U %S',
        '-o',
        usage,
        process.execPath,
        beMain,
        ...flags(dir, cache),
        'hunt',
        '--releases',
        versions.join(','),
        '-p',
        mirror,
        '--sets',
        'base',
        '--runner',
        'chroot',
        '--jobs',
        String(jobs),
        '--json',
        '--',
        '/bin/true',
      ],
      { timeoutMs: 600_000 },
    );
    const wall = now() - begin;
    const results = JSON.parse(result.stdout) as { verdict: string }[];
    if (results.length !== versions.length || results.some((r) => r.verdict !== 'good')) throw new Error(`be hunt: unexpected results ${result.stdout}`);
    if (!result.stderr.includes('installing')) throw new Error('be hunt installed nothing: the round was not from a fresh be.root');
    const [user, system] = readFileSync(usage, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number);
    return { wall, cpu: user! + system! };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (!existsSync('/usr/bin/time')) throw new Error('/usr/bin/time is missing: apt-get install -y time (GNU time, for CPU seconds)');
  const work = tempDir('bench-hunt');
  const say = (line: string) => process.stdout.write(`hunt: ${line}\n`);
  const load = loadavg()[0]!;
  try {
    const mirror = buildHuntMirror(
      join(work, 'mirror'),
      join(work, 'src'),
      staticBusybox(),
      versions.map((version) => ({ version, regress: 'works' as const })),
    );
    const cache = join(work, 'cache');
    mkdirSync(cache);
    // Fills the cache (and checks the whole path works); untimed.
    await hunt(work, mirror, cache, 2);
    const oneSamples: Sample[] = [];
    const twoSamples: Sample[] = [];
    const one: number[] = [];
    const two: number[] = [];
    for (let i = 0; i < rounds; i++) {
      for (const jobs of i % 2 === 0 ? [1, 2] : [2, 1]) {
        const sample = await hunt(work, mirror, cache, jobs);
        (jobs === 1 ? oneSamples : twoSamples).push(sample);
        (jobs === 1 ? one : two).push(sample.wall);
      }
      say(`round ${i + 1}/${rounds}: --jobs 1 ${s(one.at(-1)!)} s, --jobs 2 ${s(two.at(-1)!)} s`);
    }
    const speedup = median(one) / median(two);
    const perRelease = (values: readonly number[]) => `${s(median(values) / versions.length)} s (${spread(values.map((v) => v / versions.length))})`;
    say(`--jobs 2 is ${speedup.toFixed(2)}x --jobs 1`);
    const body = [
      `\`be hunt --releases ${versions[0]},...,${versions.at(-1)} --sets base --runner chroot --jobs N -- /bin/true\`: ${versions.length} releases`,
      "(test/lan/hunt-mirror.ts: Debian's static busybox as the userland, real tar + xz sets, base.txz about 1 MiB) from a local",
      'directory mirror whose sets are all in the install cache already. Every round starts with a fresh be.root and',
      'server.stateDir, so each release is created, installed from the cache (verified, extracted), run in a chroot',
      `(devfs and proc mounted, then unmounted) and reported. The whole command is timed, Node's start-up included. ${rounds} rounds`,
      'of each after one untimed warm-up, alternating which goes first, `sync` before each. Medians, (min–max).',
      '',
      '| | --jobs 1 | --jobs 2 |',
      '| --- | --- | --- |',
      `| hunt of ${versions.length} releases | ${s(median(one))} s (${spread(one)}) | ${s(median(two))} s (${spread(two)}) |`,
      `| per release (create + install from cache + run + report) | ${perRelease(one)} | ${perRelease(two)} |`,
      `| round by round, jobs 1 / jobs 2 | ${one.map((v, i) => (v / two[i]!).toFixed(2)).join(', ')} | |`,
      `| CPU s (user + sys, children included) | ${s(median(oneSamples.map((x) => x.cpu)))} | ${s(median(twoSamples.map((x) => x.cpu)))} |`,
      `| cores busy on average (CPU s / wall s) | ${s(median(oneSamples.map((x) => x.cpu / x.wall)))} | ${s(median(twoSamples.map((x) => x.cpu / x.wall)))} |`,
      '',
      `- **--jobs 2 against --jobs 1: ${speedup.toFixed(2)}x, target ≥ ${targetSpeedup}x: ${speedup >= targetSpeedup ? 'met' : 'not met'}**.`,
      `- With \`true\` as the test a release is nearly all overhead: one node process spawning tar (and xz), mount, chroot and umount. At --jobs 1 it already keeps ${s(median(oneSamples.map((x) => x.cpu / x.wall)))} cores busy on average (xz decompresses while tar writes and be works), so on 2 cores --jobs 2 can gain at most about ${s(2 / median(oneSamples.map((x) => x.cpu / x.wall)))}x, less Node's start-up and the reports, which run once. A test that takes real time (a test suite, kyua) is where --jobs pays.`,
      `- Load average ${load.toFixed(2)} at the start, ${loadavg()[0]!.toFixed(2)} at the end (2 cores, shared machine).`,
      '',
      `Machine: ${machine()}; measured ${new Date().toISOString().slice(0, 10)}.`,
    ].join('\n');
    writeSection('be hunt', body);
  } finally {
    removeTempDir(work);
  }
}

await main();
