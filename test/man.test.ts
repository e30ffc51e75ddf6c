/**
 * The manual: man/be.8 and man/be.yaml.5 are what `npm run docs` makes now, cover every command of
 * `be --help` and every key of the schema, ship with the package, and are clean for mandoc -Tlint.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { generatedDocs } from '../scripts/docs.js';
import { parseConfig } from '../src/config/parse.js';
import { examples as yamlExamples } from '../src/man/be-yaml5-prose.js';
import { be } from './cli/be.js';
import { hasCommand, needPeers } from './lan/peers.js';
import { schemaKeys } from './src/config/schema-keys.js';

const root = new URL('..', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
const pages = { 'be.8': read('man/be.8'), 'be.yaml.5': read('man/be.yaml.5') };

/** The commands a `--help` lists, without `help` itself. */
function helpCommands(help: string): string[] {
  const section = help.split(/^Commands:\n/m)[1] ?? '';
  return [...section.matchAll(/^ {2}([a-z][\w-]*)/gm)].map((m) => m[1]!).filter((name) => name !== 'help');
}

describe('the generated files', () => {
  it('are what npm run docs makes now', () => {
    for (const [path, text] of Object.entries(generatedDocs())) expect(read(path), `${path} is stale: npm run docs`).toBe(text);
  });

  it('ship with the package: man and files in package.json', () => {
    const pkg = JSON.parse(read('package.json')) as { man: string[]; files: string[] };
    expect(pkg.man).toEqual(['./man/be.8', './man/be.yaml.5']);
    expect(pkg.files).toContain('man');
  });
});

describe('be(8)', () => {
  it('has every command and subcommand of be --help, in its synopsis and a subsection of its own', async () => {
    const top = await be(['--help']);
    expect(top.exitCode).toBe(0);
    const commands = helpCommands(String(top.stdout));
    expect(commands).toContain('serve');
    const nested = await Promise.all(
      commands.map(async (command) => helpCommands(String((await be([command, '--help'])).stdout)).map((sub) => `${command} ${sub}`)),
    );
    const paths = [...commands, ...nested.flat()];
    expect(paths).toContain('config show');
    for (const path of paths) {
      expect(pages['be.8'], `be.8 has no subsection for be ${path}`).toContain(`\n.Ss be ${path}\n`);
      const leaf = nested.flat().some((p) => p.startsWith(`${path} `));
      if (!leaf) expect(pages['be.8'], `be.8's synopsis lacks be ${path}`).toContain(`\n.Nm\n.Cm ${path}\n`);
    }
  });

  it('has the sections a manual page has', () => {
    for (const section of ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'ENVIRONMENT', 'FILES', 'EXIT STATUS', 'EXAMPLES', 'SEE ALSO', 'STANDARDS', 'HISTORY']) {
      expect(pages['be.8']).toContain(`\n.Sh ${section}\n`);
    }
    expect(pages['be.8']).toMatch(/^\.Dd [A-Z][a-z]+ \d{1,2}, \d{4}\n\.Dt BE 8\n\.Os\n/);
  });
});

describe('be.yaml(5)', () => {
  it('gives examples that are valid configurations', () => {
    for (const [what, text] of yamlExamples) expect(() => parseConfig({ text, file: what }), what).not.toThrow();
  });

  it('has every key of the schema', () => {
    for (const path of schemaKeys().filter((p) => p.includes('.'))) {
      expect(pages['be.yaml.5'], `be.yaml.5 does not document ${path}`).toMatch(new RegExp(`^\\.It Va ${path.replace(/[[\].]/g, '\\$&')} Pq `, 'm'));
    }
    for (const section of schemaKeys().filter((p) => !p.includes('.'))) expect(pages['be.yaml.5']).toContain(`\n.Ss ${section}\n`);
  });
});

// Debian's mandoc; makewhatis indexes a private manual path so be(8) and be.yaml(5) find each other.
const makewhatis = hasCommand('makewhatis') ? 'makewhatis' : '/usr/sbin/makewhatis';
const peers = needPeers('manual pages', ['mandoc', makewhatis]);

describe.skipIf(peers.skip)('mandoc', () => {
  const manpath = mkdtempSync(join(tmpdir(), 'be-man-'));
  afterAll(() => rmSync(manpath, { recursive: true, force: true }));

  async function lint(): Promise<string[]> {
    for (const [file, section] of [
      ['be.8', 'man8'],
      ['be.yaml.5', 'man5'],
    ] as const) {
      mkdirSync(join(manpath, section), { recursive: true });
      copyFileSync(new URL(`man/${file}`, root), join(manpath, section, file));
    }
    await execa(makewhatis, [manpath]);
    // -W style is every message but the base system's (whose mandoc.db Debian does not keep); -M looks pages up here only.
    const result = await execa('mandoc', ['-Tlint', '-W', 'style', '-M', manpath, 'man/be.8', 'man/be.yaml.5'], { cwd: root, reject: false, all: true });
    return String(result.all).split('\n').filter(Boolean);
  }

  it('-Tlint finds nothing but references to pages this machine lacks', async () => {
    const messages = await lint();
    const missing = messages.filter((line) => /STYLE: referenced manual not found: Xr /.test(line));
    expect(
      messages.filter((line) => !missing.includes(line)),
      'mandoc -Tlint',
    ).toEqual([]);
    // The FreeBSD pages (bhyve, jail, mountd ...) are not here; our own two are, and find each other.
    for (const line of missing) expect(line).not.toMatch(/Xr (be 8|be\.yaml 5)/);
  });

  it('-Tutf8 renders both pages', async () => {
    for (const page of ['man/be.8', 'man/be.yaml.5']) {
      const result = await execa('mandoc', ['-Tutf8', page], { cwd: root });
      expect(result.stderr).toBe('');
      expect(result.stdout).toMatch(/NAME/);
    }
    // -Tascii makes bold and underline by overstriking: a character, a backspace, the character again.
    const overstrike = new RegExp(`.${String.fromCharCode(8)}`, 'g');
    const text = (await execa('mandoc', ['-Tascii', 'man/be.8'], { cwd: root })).stdout.replace(overstrike, '');
    expect(text).toMatch(/^ {5}be \[-c file\] \[--set key=value\] command \[argument \.\.\.\]$/m);
    expect(text).toMatch(/^ {5}be config show \[--json\] \[--comments\]$/m);
    expect(text).toMatch(/^ {3}be install$/m);
  });
});
