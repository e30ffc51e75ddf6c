import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { be } from './be.js';

const dir = mkdtempSync(join(tmpdir(), 'be-cli-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function oneLine(stderr: unknown): string {
  const lines = String(stderr).trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

describe('be config', () => {
  it('check accepts the embedded default', async () => {
    const result = await be(['config', 'check']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/config\/default\.yaml: configuration is valid/);
  });

  it('show --json prints the effective configuration with overrides', async () => {
    const path = file('ok.yaml', 'tftp:\n  port: 6969\n');
    const result = await be(['-c', path, '--set', 'wol.port=7', '--set', 'log.level=debug', 'config', 'show', '--json']);
    expect(result.exitCode).toBe(0);
    const shown = JSON.parse(String(result.stdout));
    expect(shown.tftp.port).toBe(6969);
    expect(shown.wol.port).toBe(7);
    expect(shown.log.level).toBe('debug');
    expect(shown.dhcp.mode).toBe('proxy');
  });

  it('show prints YAML naming its source', async () => {
    const result = await be(['config', 'show']);
    expect(result.stdout).toMatch(/^# effective configuration, read from .*default\.yaml\nserver:\n/);
  });

  it('show --comments puts each key under its description, and says the default where the value differs', async () => {
    const result = await be(['--set', 'tftp.port=6969', 'config', 'show', '--comments']);
    expect(result.exitCode).toBe(0);
    const text = String(result.stdout);
    expect(text).toMatch(/^# effective configuration, read from .*default\.yaml\n/);
    expect(text).toContain('  # UDP port to listen on. Port 69 needs root.\n  # Default: 69.\n  port: 6969\n');
    const plain = await be(['--set', 'tftp.port=6969', 'config', 'show', '--json']);
    expect(parse(text)).toEqual(JSON.parse(String(plain.stdout)));
  });

  it('show --comments --json is refused: JSON has no comments', async () => {
    const result = await be(['config', 'show', '--json', '--comments']);
    expect(result.exitCode).toBe(2);
    expect(oneLine(result.stderr)).toBe('be: --comments is for YAML: JSON has no comments');
  });

  it('an invalid file is one line naming the file, line, key and value, exit 2', async () => {
    const path = file('bad.yaml', 'server:\n  address: 10.99.0.1\ntftp:\n  port: 70000\n');
    for (const command of [['config', 'check'], ['serve']]) {
      const result = await be(['-c', path, ...command]);
      expect(result.exitCode).toBe(2);
      expect(oneLine(result.stderr)).toMatch(new RegExp(`^be: ${path}:4: tftp\\.port = 70000: `));
    }
  });

  it('a missing file is one line, exit 2', async () => {
    const result = await be(['-c', join(dir, 'nope.yaml'), 'config', 'check']);
    expect(result.exitCode).toBe(2);
    expect(oneLine(result.stderr)).toBe(`be: ${join(dir, 'nope.yaml')}: cannot read the configuration: no such file`);
  });

  it('a bad --set is one line, exit 2', async () => {
    const result = await be(['--set', 'dhcp.mode=relay', 'config', 'check']);
    expect(result.exitCode).toBe(2);
    expect(oneLine(result.stderr)).toMatch(/^be: --set dhcp\.mode=relay: dhcp\.mode = "relay": /);
  });

  it('an unknown option or command is one line, exit 2', async () => {
    for (const args of [['--bogus'], ['frobnicate'], ['config', 'show', '--yaml']]) {
      const result = await be(args);
      expect(result.exitCode).toBe(2);
      expect(oneLine(result.stderr)).toMatch(/^error: /);
    }
  });
});
