import { describe, expect, it } from 'vitest';
import { LeaseTable, OFFER_HOLD_MS, parseRecord, formatRecord } from '../../../src/dhcp/leases.js';

const t0 = 1_800_000_000_000;
const pool = (start = '10.0.0.10', end = '10.0.0.12', exclude: string[] = []) => new LeaseTable({ range: { start, end }, exclude });
const bind = (table: LeaseTable, ip: string, client: string, expiresMs: number) =>
  table.apply({ op: 'bind', ip, client, expires: Math.floor(expiresMs / 1000) });

describe('LeaseTable', () => {
  it('counts the free addresses of its range: not excluded, bound, offered or declined', () => {
    const table = pool('10.0.0.10', '10.0.0.19', ['10.0.0.11', '10.0.0.1']);
    expect(table.freeAddresses(t0)).toBe(9); // 10.0.0.1 is outside the range
    bind(table, '10.0.0.12', 'a', t0 + 60_000);
    bind(table, '10.0.0.50', 'reserved', t0 + 60_000); // a reservation outside the range
    table.offer('b', '10.0.0.13', t0);
    table.apply({ op: 'decline', ip: '10.0.0.14', until: Math.floor((t0 + 30_000) / 1000) });
    expect(table.freeAddresses(t0)).toBe(6);
    // The lease and the quarantine run out, the offer times out: all free again but the excluded one.
    expect(table.freeAddresses(t0 + 120_000)).toBe(9);
    table.apply({ op: 'release', ip: '10.0.0.12', client: 'a' });
    expect(table.freeAddresses(t0)).toBe(7);
  });

  it('hands out fresh addresses round-robin and skips excluded ones', () => {
    const table = pool('10.0.0.10', '10.0.0.13', ['10.0.0.11']);
    const got = ['a', 'b', 'c'].map((c) => {
      const ip = table.allocate(c, undefined, t0)!;
      table.offer(c, ip, t0);
      return ip;
    });
    expect(got).toEqual(['10.0.0.10', '10.0.0.12', '10.0.0.13']);
    expect(table.allocate('d', undefined, t0)).toBeUndefined(); // all offered
  });

  it('keeps an offer for its client while it holds, then frees it', () => {
    const table = pool('10.0.0.10', '10.0.0.10');
    table.offer('a', table.allocate('a', undefined, t0)!, t0);
    expect(table.allocate('b', undefined, t0 + 1000)).toBeUndefined();
    expect(table.allocate('a', undefined, t0 + 1000)).toBe('10.0.0.10');
    expect(table.allocate('b', undefined, t0 + OFFER_HOLD_MS + 1)).toBe('10.0.0.10');
  });

  it('gives a client its previous address, then the one it asks for', () => {
    const table = pool('10.0.0.10', '10.0.0.20');
    bind(table, '10.0.0.15', 'a', t0 - 1000); // expired, still remembered
    expect(table.allocate('a', '10.0.0.18', t0)).toBe('10.0.0.15');
    expect(table.allocate('b', '10.0.0.18', t0)).toBe('10.0.0.18');
    expect(table.allocate('b', '10.0.0.15', t0)).toBe('10.0.0.15'); // expired lease of another: free
  });

  it('reclaims expired leases of other clients, oldest first, only when nothing fresh is left', () => {
    const table = pool('10.0.0.10', '10.0.0.12');
    bind(table, '10.0.0.10', 'a', t0 + 60_000);
    bind(table, '10.0.0.11', 'b', t0 - 5_000);
    bind(table, '10.0.0.12', 'c', t0 - 9_000);
    expect(table.allocate('d', undefined, t0)).toBe('10.0.0.12');
    expect(table.holderOf('10.0.0.10', t0)?.client).toBe('a');
    expect(table.holderOf('10.0.0.11', t0)).toBeUndefined();
  });

  it('moves a client to its new address and forgets the old binding', () => {
    const table = pool();
    bind(table, '10.0.0.10', 'a', t0 + 1000);
    bind(table, '10.0.0.11', 'a', t0 + 2000);
    expect(table.leases().map((l) => l.ip)).toEqual(['10.0.0.11']);
    expect(table.availableFor('10.0.0.10', 'b', t0)).toBe(true);
  });

  it('quarantines a declined address until its time is up', () => {
    const table = pool();
    bind(table, '10.0.0.10', 'a', t0 + 1000);
    table.apply({ op: 'decline', ip: '10.0.0.10', until: Math.floor((t0 + 3_600_000) / 1000) });
    expect(table.leaseOf('a')).toBeUndefined();
    expect(table.availableFor('10.0.0.10', 'b', t0)).toBe(false);
    expect(table.availableFor('10.0.0.10', 'b', t0 + 3_600_001)).toBe(true);
  });

  it('snapshots what rebuilds it, dropping what has expired', () => {
    const table = pool();
    bind(table, '10.0.0.10', 'a', t0 + 60_000);
    bind(table, '10.0.0.11', 'b', t0 - 1);
    bind(table, '10.0.0.12', 'c', t0 + 60_000);
    table.apply({ op: 'release', ip: '10.0.0.12', client: 'c' });
    const copy = pool();
    for (const r of table.snapshot(t0)) copy.apply(parseRecord(formatRecord(r))!);
    expect(copy.leases().map((l) => [l.ip, l.client, l.state])).toEqual([
      ['10.0.0.10', 'a', 'bound'],
      ['10.0.0.12', 'c', 'released'],
    ]);
  });

  it('parses only well-formed records', () => {
    expect(parseRecord('{"op":"bind","ip":"10.0.0.1","client":"x","expires":5}')).toEqual({
      op: 'bind',
      ip: '10.0.0.1',
      client: 'x',
      expires: 5,
      mac: undefined,
      host: undefined,
    });
    for (const bad of [
      '',
      '# comment',
      '{',
      '[]',
      '{"op":"bind","ip":"x","client":"x","expires":5}',
      '{"op":"bind","ip":"10.0.0.1","client":"x"}',
      '{"op":"nope"}',
    ]) {
      expect(parseRecord(bad)).toBeUndefined();
    }
  });
});
