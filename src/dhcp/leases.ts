/**
 * The lease table: who holds which address until when, what was offered, what was declined, and how a
 * free address is chosen (RFC 2131 §4.3.1). Pure and deterministic: time comes in as an argument and
 * nothing here touches the disk. services/dhcp/journal.ts makes the changes durable, as the records
 * below, one JSON object a line.
 *
 * Journal records (the `op` field):
 *   {"op":"bind","ip":"10.99.0.100","client":"id:01525400be0001","mac":"52:54:00:be:00:01","host":"m1","expires":1764230000}
 *   {"op":"release","ip":"10.99.0.100","client":"id:01525400be0001"}
 *   {"op":"decline","ip":"10.99.0.101","until":1764230000}
 * `expires` and `until` are Unix seconds. Later records win; replay is idempotent.
 */
import { intToIPv4, ipv4ToInt } from '../net.js';

export interface Lease {
  ip: string;
  /** The lease key (RequestInfo.clientKey): option 61, else the hardware address. */
  client: string;
  mac?: string | undefined;
  host?: string | undefined;
  /** Unix milliseconds. */
  expires: number;
  /** released: the client gave it back; the binding is remembered so it gets the same address again. */
  state: 'bound' | 'released';
}

export type LeaseRecord =
  | { op: 'bind'; ip: string; client: string; mac?: string | undefined; host?: string | undefined; expires: number }
  | { op: 'release'; ip: string; client: string }
  | { op: 'decline'; ip: string; until: number };

export interface PoolSpec {
  /** Dynamic range, inclusive; null: reservations only. */
  range: { start: string; end: string } | null;
  /** Addresses never handed out dynamically: the server's own, every reservation. */
  exclude: readonly string[];
}

/**
 * Dotted quad → integer without validation: every address reaching the table was validated where it
 * entered (decoded from 4 bytes, config schema, parseRecord). The regex-checked ipv4ToInt showed in profiles.
 */
export function toInt(ip: string): number {
  let n = 0;
  let part = 0;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c === 46) {
      n = n * 256 + part;
      part = 0;
    } else part = part * 10 + (c - 48);
  }
  return (n * 256 + part) >>> 0;
}

/** How long an offer holds an address for its client (RFC 2131 §4.3.1 leaves it to the server). */
export const OFFER_HOLD_MS = 30_000;

export class LeaseTable {
  private readonly byIp = new Map<number, Lease>();
  private readonly byClient = new Map<string, Lease>();
  /** The latest lease of each hardware address: how a PXE chain's voices find each other (src/dhcp/identity.ts). */
  private readonly byMac = new Map<string, Lease>();
  private readonly offers = new Map<string, { ip: number; expires: number }>();
  private readonly offeredIp = new Map<number, string>();
  private readonly declined = new Map<number, number>();
  private excluded: Set<number>;
  private readonly start: number;
  private readonly end: number;
  private cursor: number;

  constructor(pool: PoolSpec) {
    this.excluded = new Set(pool.exclude.map(ipv4ToInt));
    this.start = pool.range ? ipv4ToInt(pool.range.start) : 1;
    this.end = pool.range ? ipv4ToInt(pool.range.end) : 0;
    this.cursor = this.start;
  }

  /** Replace the addresses never handed out dynamically (reservations changed on a reload). */
  setExcluded(exclude: readonly string[]): void {
    this.excluded = new Set(exclude.map(ipv4ToInt));
  }

  get size(): number {
    return this.end >= this.start ? this.end - this.start + 1 : 0;
  }

  inRange(ip: string): boolean {
    const n = toInt(ip);
    return n >= this.start && n <= this.end;
  }

  /** Replays one journal record (seconds in the record, milliseconds here). */
  apply(record: LeaseRecord): void {
    const n = toInt(record.ip);
    switch (record.op) {
      case 'bind': {
        const previous = this.byClient.get(record.client);
        if (previous && previous.ip !== record.ip) this.dropIp(toInt(previous.ip), record.client);
        const holder = this.byIp.get(n);
        if (holder && holder.client !== record.client) this.byClient.delete(holder.client);
        const lease: Lease = { ip: record.ip, client: record.client, mac: record.mac, host: record.host, expires: record.expires * 1000, state: 'bound' };
        this.byIp.set(n, lease);
        this.byClient.set(record.client, lease);
        if (record.mac !== undefined) this.byMac.set(record.mac, lease);
        this.declined.delete(n);
        this.clearOffer(record.client);
        break;
      }
      case 'release': {
        const lease = this.byIp.get(n);
        if (lease && lease.client === record.client) lease.state = 'released';
        break;
      }
      case 'decline': {
        const lease = this.byIp.get(n);
        if (lease) {
          this.byIp.delete(n);
          if (this.byClient.get(lease.client) === lease) this.byClient.delete(lease.client);
          if (lease.mac !== undefined && this.byMac.get(lease.mac) === lease) this.byMac.delete(lease.mac);
        }
        this.declined.set(n, record.until * 1000);
        break;
      }
    }
  }

  private dropIp(n: number, client: string): void {
    const lease = this.byIp.get(n);
    if (lease && lease.client === client) this.byIp.delete(n);
  }

  /** The latest lease bound to this hardware address (any client key, any state). */
  leaseOfMac(mac: string): Lease | undefined {
    const lease = this.byMac.get(mac);
    return lease && this.byIp.get(toInt(lease.ip)) === lease ? lease : undefined;
  }

  /** Whoever holds or last held `ip` (bound, released or expired). */
  leaseAt(ip: string): Lease | undefined {
    return this.byIp.get(toInt(ip));
  }

  /** Whether the client has an offer that has not timed out. */
  hasOffer(client: string, now: number): boolean {
    return this.offerOf(client, now) !== undefined;
  }

  /** The lease a client holds or last held (bound or released, possibly expired). */
  leaseOf(client: string): Lease | undefined {
    return this.byClient.get(client);
  }

  holderOf(ip: string, now: number): Lease | undefined {
    const lease = this.byIp.get(toInt(ip));
    return lease && lease.state === 'bound' && lease.expires > now ? lease : undefined;
  }

  /**
   * Whether `ip` may be bound to `client` now: not excluded (unless `reservedFor` it), not declined,
   * not bound to or offered to someone else.
   */
  availableFor(ip: string, client: string, now: number, reserved = false): boolean {
    const n = toInt(ip);
    if (!reserved && (this.excluded.has(n) || n < this.start || n > this.end)) return false;
    const until = this.declined.get(n);
    if (until !== undefined && until > now) return false;
    const lease = this.byIp.get(n);
    if (lease && lease.client !== client && lease.state === 'bound' && lease.expires > now) return false;
    const offeredTo = this.offeredIp.get(n);
    if (offeredTo !== undefined && offeredTo !== client) {
      const offer = this.offers.get(offeredTo);
      if (offer && offer.ip === n && offer.expires > now) return false;
    }
    return true;
  }

  /**
   * RFC 2131 §4.3.1 order: the client's current or previous address, the one it asks for, then a
   * fresh one. Fresh addresses are taken round-robin from a cursor, so a just-released address is the
   * last to be reused (other clients may still remember it). Returns undefined when the pool is full.
   */
  allocate(client: string, requested: string | undefined, now: number): string | undefined {
    const offer = this.offers.get(client);
    if (offer && offer.expires > now && this.availableFor(intToIPv4(offer.ip), client, now)) return intToIPv4(offer.ip);
    const previous = this.byClient.get(client);
    if (previous && this.availableFor(previous.ip, client, now)) return previous.ip;
    if (requested !== undefined && this.availableFor(requested, client, now)) return requested;
    const size = this.size;
    for (let i = 0; i < size; i++) {
      const n = this.cursor;
      this.cursor = n >= this.end ? this.start : n + 1;
      const lease = this.byIp.get(n);
      // Prefer never-used or long-expired addresses: a recently expired one may come back to its owner.
      if (lease && lease.client !== client) continue;
      const ip = intToIPv4(n);
      if (this.availableFor(ip, client, now)) return ip;
    }
    // Second pass: reclaim expired or released leases of other clients, oldest expiry first.
    let best: Lease | undefined;
    for (const lease of this.byIp.values()) {
      if (lease.client === client || !this.inRange(lease.ip)) continue;
      if (lease.state === 'bound' && lease.expires > now) continue;
      if (!this.availableFor(lease.ip, client, now)) continue;
      if (!best || lease.expires < best.expires) best = lease;
    }
    return best?.ip;
  }

  offer(client: string, ip: string, now: number): void {
    this.clearOffer(client);
    const n = toInt(ip);
    this.offers.set(client, { ip: n, expires: now + OFFER_HOLD_MS });
    this.offeredIp.set(n, client);
  }

  offerOf(client: string, now: number): string | undefined {
    const offer = this.offers.get(client);
    return offer && offer.expires > now ? intToIPv4(offer.ip) : undefined;
  }

  /** The client chose another server (REQUEST with someone else's option 54): forget our offer. */
  clearOffer(client: string): void {
    const offer = this.offers.get(client);
    if (!offer) return;
    this.offers.delete(client);
    if (this.offeredIp.get(offer.ip) === client) this.offeredIp.delete(offer.ip);
  }

  /** Drops offers that timed out; call now and then. */
  sweepOffers(now: number): void {
    for (const [client, offer] of this.offers) if (offer.expires <= now) this.clearOffer(client);
  }

  /** Every lease, for `be leases` and for compaction. */
  leases(): Lease[] {
    // By the numeric keys: parsing both addresses in every comparison made a snapshot of 30,000 leases take 20-30 ms.
    return [...this.byIp.entries()].sort((a, b) => a[0] - b[0]).map((entry) => entry[1]);
  }

  /** The records that rebuild this table: the compacted journal. Leases expired before `now` are dropped. */
  snapshot(now: number): LeaseRecord[] {
    const out: LeaseRecord[] = [];
    for (const lease of this.leases()) {
      if (lease.expires <= now && lease.state === 'bound') continue;
      out.push({ op: 'bind', ip: lease.ip, client: lease.client, mac: lease.mac, host: lease.host, expires: Math.ceil(lease.expires / 1000) });
      if (lease.state === 'released') out.push({ op: 'release', ip: lease.ip, client: lease.client });
    }
    for (const [n, until] of this.declined) if (until > now) out.push({ op: 'decline', ip: intToIPv4(n), until: Math.ceil(until / 1000) });
    return out;
  }

  /** Addresses quarantined after a DECLINE, with the time (Unix ms) they return to the pool. */
  declinedAddresses(now: number): { ip: string; until: number }[] {
    return [...this.declined].filter(([, until]) => until > now).map(([n, until]) => ({ ip: intToIPv4(n), until }));
  }

  /**
   * Addresses of the range free to hand out now: not excluded (reservations, the server's own), not
   * bound, offered or declined. Counts only what the table holds, not the whole range.
   */
  freeAddresses(now: number): number {
    const taken = new Set<number>(this.excluded);
    for (const [n, lease] of this.byIp) if (lease.state === 'bound' && lease.expires > now) taken.add(n);
    for (const [n, until] of this.declined) if (until > now) taken.add(n);
    for (const offer of this.offers.values()) if (offer.expires > now) taken.add(offer.ip);
    let inRange = 0;
    for (const n of taken) if (n >= this.start && n <= this.end) inRange++;
    return this.size - inRange;
  }

  /** Number of live records, for deciding when to compact. */
  get liveRecords(): number {
    return this.byIp.size + this.declined.size;
  }
}

/** Parses one journal line; undefined for a line that is not a record (a torn last write, a comment). */
export function parseRecord(line: string): LeaseRecord | undefined {
  if (line.trim() === '' || line.startsWith('#')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const r = value as Record<string, unknown>;
  const isIp = (v: unknown) => typeof v === 'string' && /^\d{1,3}(\.\d{1,3}){3}$/.test(v);
  const optionalString = (v: unknown) => v === undefined || typeof v === 'string';
  if (r.op === 'bind' && isIp(r.ip) && typeof r.client === 'string' && typeof r.expires === 'number' && optionalString(r.mac) && optionalString(r.host)) {
    return { op: 'bind', ip: r.ip as string, client: r.client, mac: r.mac as string | undefined, host: r.host as string | undefined, expires: r.expires };
  }
  if (r.op === 'release' && isIp(r.ip) && typeof r.client === 'string') return { op: 'release', ip: r.ip as string, client: r.client };
  if (r.op === 'decline' && isIp(r.ip) && typeof r.until === 'number') return { op: 'decline', ip: r.ip as string, until: r.until };
  return undefined;
}

export function formatRecord(record: LeaseRecord): string {
  return `${JSON.stringify(record)}\n`;
}
