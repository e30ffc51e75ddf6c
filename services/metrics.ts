/**
 * The appliance's Prometheus metrics (prom-client), one registry per `be serve`, served at /metrics by
 * the http service. Counters live here, not in the services, so a service restarted by a reload never
 * takes a counter back to zero. What is a state rather than an event (leases, free addresses, transfers
 * in flight, exports, guests) is read at scrape time from the running services' commands on the bus:
 * a service that is not running simply has no series.
 *
 * Names follow Prometheus' conventions: the `be_` prefix, `_total` for counters, seconds and bytes.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { bootSteps, type BootStep } from '../src/boot/timeline.js';
import type { LeaseRow } from '../src/dhcp/report.js';
import type { CommandBus } from './control/bus.js';

/** A pool as `dhcp.pools` reports it. */
export interface PoolReport {
  /** The network, a.b.c.d/n. */
  pool: string;
  range: { start: string; end: string } | null;
  /** Addresses in the range. */
  size: number;
  /** Addresses in the range nobody holds, is offered, or has declined. */
  free: number;
  leases: Record<LeaseRow['state'], number>;
}

/** A transfer under way, as `tftp.transfers` and `http.transfers` report it. */
export interface TransferRow {
  protocol: 'tftp' | 'http';
  file: string;
  client: string;
  /** File bytes the client has (TFTP: acknowledged; HTTP: handed to the socket). */
  bytes: number;
  /** What the whole transfer will be, when known. */
  size?: number;
  startedAt: string;
}

export type TransferOutcome = 'complete' | 'client-error' | 'timeout' | 'error' | 'aborted' | 'refused';

const stepBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300];

/** What a command on the bus answers, or undefined when no running service answers it. */
async function ask<T>(commands: CommandBus, method: string): Promise<T | undefined> {
  if (!commands.has(method)) return undefined;
  try {
    return (await commands.call(method)) as T;
  } catch {
    return undefined; // a service closing while it is scraped: no series this time
  }
}

export class ApplianceMetrics {
  readonly registry = new Registry();
  /** The process metrics (CPU, memory, event loop, GC) start with the first scrape: no observers for a be serve nobody scrapes. */
  private processMetrics = false;
  /** DHCP packets by `type outcome`: counted in a Map on the hot path, copied into the counter at scrape time. */
  private readonly dhcpCounts = new Map<string, number>();
  private readonly transfers: Counter<'protocol' | 'outcome'>;
  private readonly sentBytes: Counter<'protocol'>;
  private readonly stepDurations: Histogram<'step'>;

  constructor(
    commands: CommandBus,
    /** The version of be that runs (be_info, the event stream's hello). */
    readonly version: string,
  ) {
    const registers = [this.registry];
    new Gauge({ name: 'be_info', help: 'Always 1; the version of be that runs.', labelNames: ['version'], registers }).set({ version }, 1);
    const counts = this.dhcpCounts;
    new Counter({
      name: 'be_dhcp_packets_total',
      help: 'DHCP requests received, by message type (malformed, bootp: not DHCP) and outcome (offer, ack, nak: the reply sent; ignored: none was due; dropped).',
      labelNames: ['type', 'outcome'],
      registers,
      collect() {
        this.reset();
        for (const [key, count] of counts) {
          const [type, outcome] = key.split(' ');
          this.inc({ type: type!, outcome: outcome! }, count);
        }
      },
    });
    new Gauge({
      name: 'be_dhcp_leases',
      help: 'Leases in the lease table, by pool and state (bound, expired, released, declined).',
      labelNames: ['pool', 'state'],
      registers,
      async collect() {
        this.reset();
        for (const pool of (await ask<PoolReport[]>(commands, 'dhcp.pools')) ?? []) {
          for (const [state, count] of Object.entries(pool.leases)) this.set({ pool: pool.pool, state }, count);
        }
      },
    });
    new Gauge({
      name: 'be_dhcp_free_addresses',
      help: 'Addresses of each pool range that no client holds, is offered or declined.',
      labelNames: ['pool'],
      registers,
      async collect() {
        this.reset();
        for (const pool of (await ask<PoolReport[]>(commands, 'dhcp.pools')) ?? []) this.set({ pool: pool.pool }, pool.free);
      },
    });
    this.transfers = new Counter({
      name: 'be_transfers_total',
      help: 'Boot file transfers that ended, by protocol (tftp, http) and outcome (complete, client-error, timeout, error, aborted, refused).',
      labelNames: ['protocol', 'outcome'],
      registers,
    });
    this.sentBytes = new Counter({
      name: 'be_transfer_sent_bytes_total',
      help: 'File bytes of boot files sent, by protocol.',
      labelNames: ['protocol'],
      registers,
    });
    new Gauge({
      name: 'be_transfers_in_flight',
      help: 'Boot file transfers under way, by protocol.',
      labelNames: ['protocol'],
      registers,
      async collect() {
        this.reset();
        for (const protocol of ['tftp', 'http'] as const) {
          const rows = await ask<TransferRow[]>(commands, `${protocol}.transfers`);
          if (rows) this.set({ protocol }, rows.length);
        }
      },
    });
    this.stepDurations = new Histogram({
      name: 'be_boot_step_duration_seconds',
      help: 'Time from the previous step of a network boot to this one, by step (src/boot/timeline.ts).',
      labelNames: ['step'],
      buckets: stepBuckets,
      registers,
    });
    new Gauge({
      name: 'be_nfs_exports',
      help: 'Paths in the NFS exports file as the reconciler last wrote it.',
      registers,
      async collect() {
        this.reset();
        const exports = await ask<{ paths: string[] }>(commands, 'exports.list');
        if (exports) this.set(exports.paths.length);
      },
    });
    new Gauge({
      name: 'be_guests',
      help: 'bhyve guests run by be serve, by state.',
      labelNames: ['state'],
      registers,
      async collect() {
        this.reset();
        const guests = await ask<{ state: string }[]>(commands, 'vm.list');
        const byState = new Map<string, number>();
        for (const g of guests ?? []) byState.set(g.state, (byState.get(g.state) ?? 0) + 1);
        for (const [state, count] of byState) this.set({ state }, count);
      },
    });
  }

  /** One DHCP datagram handled: its message type and what became of it. */
  dhcpPacket(type: string, outcome: string): void {
    const key = `${type} ${outcome}`;
    this.dhcpCounts.set(key, (this.dhcpCounts.get(key) ?? 0) + 1);
  }

  /** A boot file transfer ended. */
  transferEnded(protocol: 'tftp' | 'http', outcome: TransferOutcome, bytes: number): void {
    this.transfers.inc({ protocol, outcome });
    if (bytes > 0) this.sentBytes.inc({ protocol }, bytes);
  }

  /** A step of a network boot, `seconds` after the step before it. */
  bootStep(step: BootStep, seconds: number): void {
    if (bootSteps.includes(step)) this.stepDurations.observe({ step }, seconds);
  }

  /** The text exposition format, and its content type. */
  async exposition(): Promise<{ text: string; contentType: string }> {
    if (!this.processMetrics) {
      collectDefaultMetrics({ register: this.registry });
      // Gauges named like counters, which `promtool check metrics` rejects; nodejs_active_handles,
      // _requests and _resources (by type) carry the same figures.
      for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
        this.registry.removeSingleMetric(name);
      }
      this.processMetrics = true;
    }
    return { text: await this.registry.metrics(), contentType: this.registry.contentType };
  }
}
