/**
 * `npm run docs`: writes the files generated from the schema and the program, config/be.example.yaml,
 * man/be.8 and man/be.yaml.5; `--check` writes nothing and exits 1 naming the files that are stale.
 * They are committed, so `npm pack` ships them without running this (test/man.test.ts keeps them fresh).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildProgram } from '../cli/program.js';
import { exampleYaml } from '../src/config/annotate.js';
import { beManual } from '../src/man/be8.js';
import { beYamlManual } from '../src/man/be-yaml5.js';
import { packageRoot } from '../services/config.js';

/** Each generated file, by its path in the package, with what it should hold now. */
export function generatedDocs(): Record<string, string> {
  return {
    'config/be.example.yaml': exampleYaml(),
    'man/be.8': beManual(buildProgram()),
    'man/be.yaml.5': beYamlManual(),
  };
}

async function main(check: boolean): Promise<number> {
  const root = packageRoot();
  const stale: string[] = [];
  for (const [path, text] of Object.entries(generatedDocs())) {
    const file = join(root, path);
    const now = await readFile(file, 'utf8').catch(() => undefined);
    if (now === text) continue;
    stale.push(path);
    if (check) continue;
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, text);
  }
  if (check && stale.length > 0) {
    process.stderr.write(`stale: ${stale.join(', ')} (npm run docs rewrites them)\n`);
    return 1;
  }
  if (!check) process.stdout.write(stale.length > 0 ? `wrote ${stale.join(', ')}\n` : 'docs are up to date\n');
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exitCode = await main(process.argv.includes('--check'));
