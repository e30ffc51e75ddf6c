import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LeaseTable, parseRecord, type LeaseRecord } from '../../../src/dhcp/leases.js';
import { Journal } from '../../../services/dhcp/journal.js';
import { LogCapture } from './helpers.js';

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'be-journal-'));
  file = join(dir, 'sub', 'dhcp.leases');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

// The journal never reads the clock; the table it replays into is asked at one fixed instant.
const now = Date.UTC(2026, 10, 27, 12, 0, 0);
const future = Math.floor(now / 1000) + 3600;

async function openWith(table: LeaseTable, logs = new LogCapture(), extra: { compactFloor?: number } = {}): Promise<Journal> {
  return Journal.open({ file, log: logs.log, snapshot: () => table.snapshot(now), liveRecords: () => table.liveRecords, ...extra }, (r) => table.apply(r));
}

const pool = { range: { start: '10.0.0.10', end: '10.0.0.250' }, exclude: [] };

describe('lease journal', () => {
  it('creates its directory, writes a header, and replays what it appended', async () => {
    const table = new LeaseTable(pool);
    const journal = await openWith(table);
    await journal.append({ op: 'bind', ip: '10.0.0.10', client: 'hw:1:aa', mac: 'aa', expires: future });
    await journal.append({ op: 'decline', ip: '10.0.0.11', until: future });
    await journal.close();
    expect(readFileSync(file, 'utf8').split('\n')[0]).toMatch(/^# be DHCP lease journal v1/);
    const again = new LeaseTable(pool);
    await (await openWith(again)).close();
    expect(again.holderOf('10.0.0.10', now)?.client).toBe('hw:1:aa');
    expect(again.availableFor('10.0.0.11', 'hw:1:bb', now)).toBe(false);
  });

  it('ignores a torn last line (a write cut by a crash) and says so', async () => {
    file = join(dir, 'dhcp.leases');
    writeFileSync(file, '{"op":"bind","ip":"10.0.0.12","client":"c1","expires":' + future + '}\n{"op":"bind","ip":"10.0.0.1');
    const logs = new LogCapture();
    const table = new LeaseTable(pool);
    await (await openWith(table, logs)).close();
    expect(table.leases().map((l) => l.ip)).toEqual(['10.0.0.12']);
    expect(logs.messages()).toContain('lease journal ends in a torn write (never acknowledged): ignored');
    expect(readFileSync(file, 'utf8')).not.toContain('10.0.0.1"'); // compacted on open
  });

  it('group-commits concurrent appends: fewer fsyncs than records, all durable', async () => {
    const table = new LeaseTable(pool);
    const journal = await openWith(table);
    const records: LeaseRecord[] = Array.from({ length: 200 }, (_, i) => ({ op: 'bind', ip: `10.0.0.${10 + (i % 200)}`, client: `c${i}`, expires: future }));
    await Promise.all(records.map((r) => journal.append(r)));
    expect(journal.syncs).toBeLessThan(records.length);
    expect(journal.syncs).toBeGreaterThanOrEqual(1);
    await journal.close();
    const lines = readFileSync(file, 'utf8').split('\n').map(parseRecord).filter(Boolean);
    expect(lines).toHaveLength(200);
  });

  it('compacts by atomic rename once it outgrows the live records', async () => {
    const table = new LeaseTable(pool);
    const journal = await openWith(table, new LogCapture(), { compactFloor: 50 });
    for (let i = 0; i < 120; i++) {
      const record: LeaseRecord = { op: 'bind', ip: '10.0.0.20', client: 'same', expires: future + i };
      table.apply(record);
      await journal.append(record);
    }
    await journal.close();
    const text = readFileSync(file, 'utf8');
    expect(text.split('\n').filter((l) => l.startsWith('{')).length).toBeLessThan(60);
    expect(existsSync(`${file}.tmp`)).toBe(false);
    const again = new LeaseTable(pool);
    await (await openWith(again)).close();
    expect(again.leaseOf('same')?.expires).toBe((future + 119) * 1000);
  });

  it('compacts thousands of leases a slice at a time: the event loop keeps turning, appends meanwhile land in the new journal', async () => {
    const big = { range: { start: '10.1.0.1', end: '10.1.39.255' }, exclude: [] };
    const table = new LeaseTable(big);
    let snapshots = 0;
    const snapshot = () => {
      snapshots++;
      return table.snapshot(now);
    };
    const journal = await Journal.open(
      { file, log: new LogCapture().log, snapshot, liveRecords: () => table.liveRecords, compactFactor: 1, compactFloor: 5000 },
      (r) => table.apply(r),
    );
    const bind = (i: number): LeaseRecord & { op: 'bind' } => ({
      op: 'bind',
      ip: `10.1.${Math.floor(i / 250)}.${(i % 250) + 1}`,
      client: `c${i}`,
      expires: future,
    });
    for (let i = 0; i < 6000; i++) table.apply(bind(i));
    await Promise.all(Array.from({ length: 6000 }, (_, i) => journal.append(bind(i))));
    // A renewal: one line more than live leases, so compaction of 6,000 leases starts behind its write.
    const renewal: LeaseRecord = { ...bind(0), expires: future + 60 };
    table.apply(renewal);
    const written = journal.append(renewal);
    // Turns of the event loop after the snapshot was taken and before its file is written.
    let turns = 0;
    let writing = false;
    let ticking = true;
    const tick = () => {
      writing ||= readdirSync(dirname(file)).some((name) => name.endsWith('.tmp'));
      if (snapshots === 2 && !writing) turns++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    await written;
    const during = bind(6000);
    table.apply(during);
    await journal.append(during);
    ticking = false;
    await journal.close();
    expect(turns).toBeGreaterThanOrEqual(5); // a turn after each of the first five slices of 1,000
    const lines = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('{'));
    expect(lines).toHaveLength(6001); // the snapshot's 6,000, then the append made during compaction
    const again = new LeaseTable(big);
    await (await openWith(again)).close();
    expect(again.leases()).toHaveLength(6001);
    expect(again.leaseOf('c0')?.expires).toBe((future + 60) * 1000);
    expect(again.leaseOf('c6000')?.ip).toBe(during.ip);
  });

  it('skips unreadable lines in the middle with one warning', async () => {
    file = join(dir, 'dhcp.leases');
    writeFileSync(file, 'garbage\n{"op":"bind","ip":"10.0.0.13","client":"c","expires":' + future + '}\n');
    appendFileSync(file, '{"op":"what"}\n');
    const logs = new LogCapture();
    const table = new LeaseTable(pool);
    await (await openWith(table, logs)).close();
    expect(table.leases()).toHaveLength(1);
    expect(logs.lines.find((l) => l.msg === 'lease journal has unreadable lines: ignored')?.lines).toBe(2);
  });
});
