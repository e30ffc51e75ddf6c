/**
 * `be wol` start-to-exit wall time, side by side with Debian's `wakeonlan` (Perl) and a bare
 * `node -e 0` (the floor any Node command pays), alternated in one run. It sends broadcasts, so it
 * runs inside a network namespace of its own (test/lan/netns.ts) and re-executes itself there.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Lan } from '../test/lan/netns.js';
import { machine, median, writeSection } from './results.js';

const beMain = fileURLToPath(new URL('../bin/be.mjs', import.meta.url));
const self = fileURLToPath(import.meta.url);
const mac = '02:01:02:03:04:05';
const rounds = Number(process.env.BENCH_ROUNDS ?? 30);

function time(argv: string[]): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(argv[0]!, argv.slice(1), { stdio: 'ignore' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`${argv.join(' ')} exited ${result.status}`);
  return ms;
}

/** Runs inside the namespace: alternates the three commands and prints medians as JSON. */
function inside(): void {
  const commands = {
    be: ['node', beMain, 'wol', mac],
    wakeonlan: ['wakeonlan', mac],
    node: ['node', '-e', '0'],
  };
  const samples: Record<keyof typeof commands, number[]> = { be: [], wakeonlan: [], node: [] };
  for (const argv of Object.values(commands)) time(argv); // warm the page cache
  for (let i = 0; i < rounds; i++) {
    for (const [name, argv] of Object.entries(commands)) samples[name as keyof typeof commands].push(time(argv));
  }
  process.stdout.write(JSON.stringify(Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]))));
}

export function runWolBench(): void {
  const lan = Lan.create({ hosts: ['bench'], subnet: '10.97.0' });
  try {
    const result = spawnSync('ip', ['netns', 'exec', lan.host('bench').ns, 'node', self, '--inside'], { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`wol bench failed: ${result.stderr}`);
    const m = JSON.parse(result.stdout) as { be: number; wakeonlan: number; node: number };
    const body = [
      `Start-to-exit wall time of one \`be wol ${mac}\`, median of ${rounds} runs alternated with the others, inside a network namespace.`,
      '',
      '| command | median |',
      '| --- | --- |',
      `| \`be wol\` | ${m.be.toFixed(1)} ms |`,
      `| \`wakeonlan\` (Debian, Perl) | ${m.wakeonlan.toFixed(1)} ms |`,
      `| \`node -e 0\` (Node's own start-up) | ${m.node.toFixed(1)} ms |`,
      '',
      `Target: \`be wol\` ≤ 150 ms median: **${m.be <= 150 ? 'met' : 'not met'}**. be / wakeonlan = ${(m.be / m.wakeonlan).toFixed(1)}x;`,
      `be's own share above Node's start-up: ${(m.be - m.node).toFixed(1)} ms.`,
      '',
      `Machine: ${machine()}; measured ${new Date().toISOString().slice(0, 10)}.`,
    ].join('\n');
    writeSection('Wake-on-LAN', body);
    process.stdout.write(`wol: be ${m.be.toFixed(1)} ms, wakeonlan ${m.wakeonlan.toFixed(1)} ms, node -e 0 ${m.node.toFixed(1)} ms (medians)\n`);
  } finally {
    lan.close();
  }
}

if (process.argv[1] === self) {
  if (process.argv.includes('--inside')) inside();
  else runWolBench();
}
