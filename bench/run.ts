/**
 * `npm run bench [NAME...]`: runs each benchmark (bench/NAME.ts, compiled) as its own process, in
 * turn, so one's sockets and workers never disturb another's figures. Each writes its section of
 * bench/RESULTS.md.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const all = ['wol', 'tftp', 'dhcp', 'exports', 'pxe', 'install', 'hunt', 'http'];
const wanted = process.argv.slice(2).length ? process.argv.slice(2) : all;
let failed = 0;
for (const name of wanted) {
  const script = fileURLToPath(new URL(`./${name}.js`, import.meta.url));
  if (!existsSync(script)) {
    process.stderr.write(`bench: no benchmark named ${name} (known: ${all.join(', ')})\n`);
    failed++;
    continue;
  }
  process.stdout.write(`== bench ${name}\n`);
  const result = spawnSync('node', [script], { stdio: 'inherit' });
  if (result.status !== 0) failed++;
}
process.exitCode = failed ? 1 : 0;
