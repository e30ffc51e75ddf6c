/**
 * The lifecycle every long-running part of the appliance shares (STYLE.md principle 5):
 * start() binds everything it needs or undoes what it opened and rejects; close() releases everything
 * and may be called any number of times. A service that fails after start reports through `fail`,
 * and the supervisor stops the whole appliance.
 */
import type { Config } from '../src/config/schema.js';
import type { BootEvent } from '../src/boot/timeline.js';
import type { BootKeeper } from './boot/catalogue.js';
import type { CommandBus } from './control/bus.js';
import type { Logger } from './log.js';
import type { ApplianceMetrics } from './metrics.js';
import type { ApplianceEventMap } from './supervisor.js';
import type { EventEmitter } from 'node:events';

export interface Service {
  readonly name: string;
  start(): Promise<void>;
  close(): Promise<void>;
  /**
   * A reload changed the configuration but not this service's settings: take what else it reads
   * (hosts, assignments) without closing anything. Optional.
   */
  update?(config: Config): Promise<void>;
  /**
   * Called before any service changes on a reload that would hand this running service `config`
   * through update(): throw to refuse the whole reload (a new host reservation on no network this
   * DHCP server serves), so every service stays on the running configuration. Optional.
   */
  check?(config: Config): void;
}

export interface ServiceContext {
  config: Config;
  log: Logger;
  /** Report a failure after start(): the supervisor stops every service. */
  fail(err: Error): void;
  /** Commands the running appliance answers (the control socket serves them to `be` commands). */
  commands: CommandBus;
  /** Report a step of a machine's network boot (`be status HOST`, `be bootpxe --follow`). */
  bootEvent(event: Omit<BootEvent, 'at'>): void;
  /** The hosts' assignments with the boot environments read for them, one snapshot for DHCP and TFTP alike. */
  boot: BootKeeper;
  /** Counters and gauges for /metrics (services/metrics.ts). */
  metrics: ApplianceMetrics;
  /** Boot steps and reloads as they happen (the status page's event stream). */
  events: EventEmitter<ApplianceEventMap>;
}

/** How the supervisor learns about a kind of service. */
export interface ServiceKind {
  readonly name: string;
  enabled(config: Config): boolean;
  /**
   * The part of the configuration this service depends on. On SIGHUP a running service whose
   * settings are deep-equal to before keeps its sockets; otherwise it is closed and started anew.
   */
  settings(config: Config): unknown;
  create(context: ServiceContext): Service;
}
