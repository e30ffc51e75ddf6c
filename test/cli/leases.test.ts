import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { register } from '../../cli/leases.js';
import { formatLeaseRows, leaseRows } from '../../src/dhcp/report.js';
import { collect } from '../../cli/common.js';

const now = Date.UTC(2026, 10, 27, 12, 0, 0);
const s = (ms: number) => Math.floor(ms / 1000);
const journal = [
  '# be DHCP lease journal v1',
  JSON.stringify({ op: 'bind', ip: '10.99.0.101', client: 'id:01aa', mac: 'aa:bb:cc:dd:ee:01', host: 'm1', expires: s(now) + 600 }),
  JSON.stringify({ op: 'bind', ip: '10.99.0.100', client: 'hw:1:aabbccddee02', mac: 'aa:bb:cc:dd:ee:02', expires: s(now) - 5 }),
  JSON.stringify({ op: 'bind', ip: '10.99.0.102', client: 'c3', mac: 'aa:bb:cc:dd:ee:03', expires: s(now) + 600 }),
  JSON.stringify({ op: 'release', ip: '10.99.0.102', client: 'c3' }),
  JSON.stringify({ op: 'decline', ip: '10.99.0.103', until: s(now) + 3600 }),
  '{"op":"bind","ip":"10.99.0.1', // torn
].join('\n');

describe('be leases', () => {
  it('replays the journal into rows: bound, expired, released, declined, sorted by address', () => {
    expect(leaseRows(journal, now)).toEqual([
      { ip: '10.99.0.100', mac: 'aa:bb:cc:dd:ee:02', host: null, client: 'hw:1:aabbccddee02', state: 'expired', expires: '2026-11-27T11:59:55.000Z' },
      { ip: '10.99.0.101', mac: 'aa:bb:cc:dd:ee:01', host: 'm1', client: 'id:01aa', state: 'bound', expires: '2026-11-27T12:10:00.000Z' },
      { ip: '10.99.0.102', mac: 'aa:bb:cc:dd:ee:03', host: null, client: 'c3', state: 'released', expires: '2026-11-27T12:10:00.000Z' },
      { ip: '10.99.0.103', mac: null, host: null, client: null, state: 'declined', expires: '2026-11-27T13:00:00.000Z' },
    ]);
  });

  it('prints an aligned table', () => {
    const text = formatLeaseRows(leaseRows(journal, now));
    expect(text.split('\n')[0]).toBe('ADDRESS      MAC                HOST  STATE     EXPIRES               CLIENT');
    expect(text.split('\n')[2]).toBe('10.99.0.101  aa:bb:cc:dd:ee:01  m1    bound     2026-11-27T12:10:00Z  id:01aa');
  });

  describe('the command', () => {
    let dir: string | undefined;
    afterEach(() => {
      vi.restoreAllMocks();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });
    async function run(args: string[]): Promise<string> {
      const program = new Command('be').option('-c, --config <file>').option('--set <kv>', '', collect, []).exitOverride();
      register(program, { now: () => now });
      let out = '';
      vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
        out += String(chunk);
        return true;
      });
      await program.parseAsync(['node', 'be', ...args]);
      return out;
    }
    it('reads dhcp.leaseFile and prints JSON with --json', async () => {
      dir = mkdtempSync(join(tmpdir(), 'be-leases-'));
      const file = join(dir, 'dhcp.leases');
      writeFileSync(file, journal);
      const rows = JSON.parse(await run(['--set', `dhcp.leaseFile=${file}`, 'leases', '--json'])) as { ip: string; state: string }[];
      expect(rows.map((r) => [r.ip, r.state])).toEqual([
        ['10.99.0.100', 'expired'],
        ['10.99.0.101', 'bound'],
        ['10.99.0.102', 'released'],
        ['10.99.0.103', 'declined'],
      ]);
    });
    it('says so when there are no leases', async () => {
      dir = mkdtempSync(join(tmpdir(), 'be-leases-'));
      expect(await run(['leases', '--file', join(dir, 'none')])).toBe(`no leases in ${join(dir, 'none')}\n`);
    });
  });
});
