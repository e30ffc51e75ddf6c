/**
 * The vmtab: bhyve guests from hosts[] (`boot: bhyve`) that `be serve` runs and supervises. Guests with
 * `autostart: true` start with the appliance; any of them can be started and stopped through the
 * control socket (`be vm list|start|stop`). A guest's reboot is handled inside its launch loop; when
 * it powers off, halts or fails it stays down until started again. One log line per state change.
 */
import { resolveGuestSettings, bhyveHosts } from '../../src/bhyve/settings.js';
import type { Config, HostConfig } from '../../src/config/schema.js';
import { BeError } from '../../src/errors.js';
import type { Logger } from '../log.js';
import type { Service, ServiceContext, ServiceKind } from '../service.js';
import { runGuest, type GuestResult } from './launch.js';
import { prepareGuest, setUpNetwork } from './prepare.js';

export type GuestState = 'stopped' | 'preparing' | 'loading' | 'running' | 'rebooting' | 'stopping' | GuestResult['outcome'] | 'failed';

interface Guest {
  host: HostConfig;
  vm: string;
  state: GuestState;
  since: string;
  boots: number;
  error?: string;
  controller?: AbortController;
  done?: Promise<void>;
}

export interface GuestRow {
  vm: string;
  host: string;
  be: string | null;
  state: GuestState;
  since: string;
  boots: number;
  autostart: boolean;
  error?: string;
}

class GuestTable implements Service {
  readonly name = 'guests';
  private readonly guests = new Map<string, Guest>();
  private readonly unregister: (() => void)[] = [];
  private readonly log: Logger;

  constructor(
    private readonly config: Config,
    private readonly context: ServiceContext,
  ) {
    this.log = context.log;
    for (const host of bhyveHosts(config)) {
      const vm = host.bhyve?.vm ?? host.name;
      this.guests.set(vm, { host, vm, state: 'stopped', since: new Date().toISOString(), boots: 0 });
    }
  }

  async start(): Promise<void> {
    for (const guest of this.guests.values()) {
      const console = guest.host.bhyve?.console ?? this.config.bhyve.console;
      if (console === 'stdio') {
        throw new BeError(
          'E_CONFIG',
          `hosts ${guest.host.name}: a guest run by be serve needs a null-modem console (hosts[].bhyve.console: /dev/nmdm0A), not stdio`,
        );
      }
      if (!guest.host.be) throw new BeError('E_CONFIG', `hosts ${guest.host.name}: boot: bhyve needs the boot environment it boots (be)`);
    }
    const commands = this.context.commands;
    this.unregister.push(
      commands.register('vm.list', () => this.list()),
      commands.register('vm.start', (params) => this.startGuest(this.guestNamed(params.name))),
      commands.register('vm.stop', (params) => this.stopGuest(this.guestNamed(params.name))),
    );
    for (const guest of this.guests.values()) if (guest.host.autostart) void this.startGuest(guest).catch(() => {});
  }

  private guestNamed(name: unknown): Guest {
    const guest = typeof name === 'string' ? this.guests.get(name) : undefined;
    if (!guest) {
      throw new BeError('E_HOST', `no guest named ${JSON.stringify(name)} (guests: ${[...this.guests.keys()].join(', ') || 'none: no host has boot: bhyve'})`);
    }
    return guest;
  }

  private setState(guest: Guest, state: GuestState, error?: string): void {
    guest.state = state;
    guest.since = new Date().toISOString();
    if (error === undefined) delete guest.error;
    else guest.error = error;
    const line = { vm: guest.vm, host: guest.host.name, state, ...(error ? { err: error } : {}) };
    if (state === 'failed' || state === 'error' || state === 'triple-fault' || state === 'loader-failed') this.log.warn(line, `guest ${guest.vm} ${state}`);
    else this.log.info(line, `guest ${guest.vm} ${state}`);
  }

  private row(guest: Guest): GuestRow {
    return {
      vm: guest.vm,
      host: guest.host.name,
      be: guest.host.be ?? null,
      state: guest.state,
      since: guest.since,
      boots: guest.boots,
      autostart: guest.host.autostart,
      ...(guest.error ? { error: guest.error } : {}),
    };
  }

  list(): GuestRow[] {
    return [...this.guests.values()].map((g) => this.row(g));
  }

  async startGuest(guest: Guest): Promise<GuestRow> {
    if (guest.done !== undefined) throw new BeError('E_USAGE', `guest ${guest.vm} is already ${guest.state}`);
    const controller = new AbortController();
    guest.controller = controller;
    this.setState(guest, 'preparing');
    let ready: () => void = () => {};
    const prepared = new Promise<void>((resolve) => (ready = resolve));
    guest.done = (async () => {
      try {
        const settings = resolveGuestSettings(this.config, guest.host.be!, guest.host);
        const plan = await prepareGuest(this.config, settings, { signal: controller.signal });
        await setUpNetwork(plan, controller.signal);
        ready();
        const result = await runGuest(plan.spec, {
          log: this.log,
          signal: controller.signal,
          onState: (state) => {
            if (state === 'loading') guest.boots++;
            // The outcome is set once the loop ends; only the transient states are shown meanwhile.
            if (state === 'loading' || state === 'running' || state === 'rebooting') this.setState(guest, state);
          },
        });
        this.setState(guest, result.outcome);
      } catch (err) {
        this.setState(guest, 'failed', (err as Error).message);
        ready();
        throw err;
      } finally {
        delete guest.done;
        delete guest.controller;
      }
    })();
    guest.done.catch(() => {});
    await prepared;
    if (guest.state === 'failed') throw new BeError('E_EXEC', `guest ${guest.vm} could not start: ${guest.error}`);
    return this.row(guest);
  }

  async stopGuest(guest: Guest): Promise<GuestRow> {
    if (guest.done === undefined) throw new BeError('E_USAGE', `guest ${guest.vm} is not running (${guest.state})`);
    this.setState(guest, 'stopping');
    guest.controller?.abort();
    await guest.done.catch(() => {});
    return this.row(guest);
  }

  async close(): Promise<void> {
    for (const unregister of this.unregister.splice(0)) unregister();
    await Promise.all([...this.guests.values()].filter((g) => g.done !== undefined).map((g) => this.stopGuest(g)));
  }
}

export const guestsKind: ServiceKind = {
  name: 'guests',
  enabled: (config) => bhyveHosts(config).length > 0,
  // Guests restart only when their own settings (or the defaults they take) change.
  settings: (config) => ({ hosts: bhyveHosts(config), bhyve: config.bhyve, nfs: config.nfs, be: config.be, address: config.server.address }),
  create: (context) => new GuestTable(context.config, context),
};
