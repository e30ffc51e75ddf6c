/** What `be leases` shows: the journal replayed into rows (pure; cli/leases.ts reads the file). */
import { LeaseTable, parseRecord } from './leases.js';

export interface LeaseRow {
  ip: string;
  mac: string | null;
  host: string | null;
  client: string | null;
  /** bound, expired, released or declined (quarantined after a DHCPDECLINE). */
  state: 'bound' | 'expired' | 'released' | 'declined';
  /** ISO 8601: when the lease ends, or when a declined address returns to the pool. */
  expires: string;
}

/** Replays journal text into rows, sorted by address. Pure, for tests. */
export function leaseRows(text: string, now: number): LeaseRow[] {
  const table = new LeaseTable({ range: null, exclude: [] });
  for (const line of text.split('\n')) {
    const record = parseRecord(line);
    if (record) table.apply(record);
  }
  return tableRows(table, now);
}

/** A lease table's leases and quarantined addresses as rows, sorted by address (`be leases`, /api/leases). */
export function tableRows(table: LeaseTable, now: number): LeaseRow[] {
  const rows: LeaseRow[] = table.leases().map((l) => ({
    ip: l.ip,
    mac: l.mac ?? null,
    host: l.host ?? null,
    client: l.client,
    state: l.state === 'released' ? 'released' : l.expires > now ? 'bound' : 'expired',
    expires: new Date(l.expires).toISOString(),
  }));
  for (const d of table.declinedAddresses(now)) {
    rows.push({ ip: d.ip, mac: null, host: null, client: null, state: 'declined', expires: new Date(d.until).toISOString() });
  }
  const key = (ip: string) => ip.split('.').reduce((n, p) => n * 256 + Number(p), 0);
  return rows.sort((a, b) => key(a.ip) - key(b.ip));
}

export function formatLeaseRows(rows: readonly LeaseRow[]): string {
  const header = ['ADDRESS', 'MAC', 'HOST', 'STATE', 'EXPIRES', 'CLIENT'];
  const cells = rows.map((r) => [r.ip, r.mac ?? '-', r.host ?? '-', r.state, r.expires.replace(/\.\d+Z$/, 'Z'), r.client ?? '-']);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  return [header, ...cells].map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}
