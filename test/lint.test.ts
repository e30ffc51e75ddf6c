/**
 * The linter catches what it is there for: a promise nobody awaits (services that close "later" and
 * lose the error), checked with the repository's own biome.json on a file made to break it.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../services/config.js';

const root = packageRoot();
const dir = mkdtempSync(join(tmpdir(), 'be-lint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run lint (Biome with biome.json)', () => {
  it('fails on a floating promise, across files, and passes once it is awaited or voided', { timeout: 30_000 }, async () => {
    const config = JSON.parse(readFileSync(join(root, 'biome.json'), 'utf8')) as Record<string, unknown>;
    // The same rules, without the repository's file selection and VCS settings.
    delete config.vcs;
    delete config.files;
    delete config.$schema;
    writeFileSync(join(dir, 'biome.json'), JSON.stringify(config));
    mkdirSync(join(dir, 'src'));
    writeFileSync(join(dir, 'src', 'server.ts'), 'export class Server {\n  async close(): Promise<void> {}\n}\n');
    const caller = (call: string) => `import { Server } from './server.js';\n\nexport function stop(server: Server): void {\n  ${call}\n}\n`;
    const biome = join(root, 'node_modules', '.bin', 'biome');
    writeFileSync(join(dir, 'src', 'stop.ts'), caller('server.close();'));
    const floating = await execa(biome, ['lint', '--colors=off', 'src'], { cwd: dir, reject: false });
    expect(floating.exitCode).not.toBe(0);
    expect(String(floating.stdout) + String(floating.stderr)).toContain('lint/nursery/noFloatingPromises');
    writeFileSync(join(dir, 'src', 'stop.ts'), caller('void server.close();'));
    const handled = await execa(biome, ['lint', '--colors=off', 'src'], { cwd: dir, reject: false });
    expect(handled.exitCode, String(handled.stdout) + String(handled.stderr)).toBe(0);
  });
});
