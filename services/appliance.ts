/**
 * The commands the appliance as a whole answers on the bus, beside those of its services: what `be
 * status` shows, the boot timelines, hosts, boot environments, and the two actions people take on a
 * host (wake it, assign it a boot environment). The control socket and the HTTP API both call these,
 * so `be wol HOST` and POST /api/hosts/HOST/wake run the same code (services/wol.ts), as do `be
 * bootpxe` and POST /api/hosts/HOST/assign (services/boot/pxe.ts).
 */
import type { Timeline } from '../src/boot/timeline.js';
import { requireHost } from '../src/boot/assignments.js';
import type { LeaseRow } from '../src/dhcp/report.js';
import { BeError } from '../src/errors.js';
import { BeOps } from './be/ops.js';
import { embeddedConfigPath } from './config.js';
import { bootPxe } from './boot/pxe.js';
import type { Supervisor } from './supervisor.js';
import { wakeTargets } from './wol.js';

export interface ApplianceStatus {
  pid: number;
  version: string;
  config: string;
  /** Whether that is the embedded default (config/default.yaml of the package), not a file of the operator's. */
  embedded: boolean;
  startedAt: string;
  services: string[];
  commands: string[];
}

export interface HostRow {
  name: string;
  mac: string;
  /** Its reservation (hosts[].ip), else the address of its lease, else null. */
  ip: string | null;
  be: string | null;
  boot: 'pxe' | 'bhyve';
  /** Its lease in the running DHCP server, or null. */
  lease: LeaseRow | null;
  /** The latest network boot seen since be serve started, or null. */
  lastBoot: Timeline | null;
}

export interface ApplianceInfo {
  /** The configuration file the appliance runs. */
  configFile: string;
  version: string;
  /** Re-read the configuration and state, as SIGHUP does. */
  reload: () => Promise<void>;
}

function hostParam(params: Record<string, unknown>): string {
  if (typeof params.host !== 'string' || params.host === '') throw new BeError('E_USAGE', 'host: a name from hosts[] is required');
  return params.host;
}

/** Registers the appliance's own commands; returns the function that removes them. */
export function registerApplianceCommands(supervisor: Supervisor, info: ApplianceInfo): () => void {
  const { commands } = supervisor;
  const startedAt = new Date().toISOString();
  const leases = async (): Promise<(LeaseRow & { pool?: string })[]> =>
    commands.has('dhcp.leases') ? ((await commands.call('dhcp.leases')) as LeaseRow[]) : [];
  const registrations = [
    commands.register(
      'status',
      (): ApplianceStatus => ({
        pid: process.pid,
        version: info.version,
        config: info.configFile,
        embedded: info.configFile === embeddedConfigPath,
        startedAt,
        services: supervisor.names,
        commands: commands.methods,
      }),
    ),
    commands.register('appliance.reload', async () => {
      await info.reload();
      return { services: supervisor.names, stale: supervisor.boot.stale };
    }),
    commands.register('timeline.get', (params) =>
      typeof params.host === 'string' ? (supervisor.timelines.get(params.host) ?? null) : supervisor.timelines.all(),
    ),
    // Steps seen by other processes: `be wol` and `be bootpxe --wake` report the wake-up here.
    commands.register('timeline.record', (params) => {
      if (params.step !== 'wol' || typeof params.mac !== 'string') throw new BeError('E_USAGE', 'timeline.record takes {step: "wol", mac}');
      supervisor.recordBoot({ step: 'wol', mac: params.mac, at: Date.now(), ...(typeof params.detail === 'string' ? { detail: params.detail } : {}) });
      return null;
    }),
    commands.register('hosts.list', async (): Promise<HostRow[]> => {
      const rows = await leases();
      return supervisor.config.hosts.map((h) => {
        const lease = rows.find((l) => l.mac === h.mac && l.state === 'bound') ?? rows.find((l) => l.mac === h.mac) ?? null;
        return {
          name: h.name,
          mac: h.mac,
          ip: h.ip ?? (lease?.state === 'bound' ? lease.ip : null),
          be: h.be ?? null,
          boot: h.boot,
          lease,
          lastBoot: supervisor.timelines.get(h.name) ?? null,
        };
      });
    }),
    commands.register('hosts.boots', (params) => {
      const host = requireHost(supervisor.config, hostParam(params));
      return supervisor.timelines.boots(host.name);
    }),
    commands.register('envs.list', async () => (await BeOps.open(supervisor.config)).list()),
    commands.register('host.wake', async (params) => {
      const host = requireHost(supervisor.config, hostParam(params));
      const result = await wakeTargets(supervisor.config, [host.name], (woken) => {
        for (const target of woken) supervisor.recordBoot({ step: 'wol', mac: target.mac, at: Date.now() });
      });
      return { host: host.name, mac: host.mac, address: result.address, port: result.port };
    }),
    commands.register('host.assign', async (params) => {
      const host = requireHost(supervisor.config, hostParam(params));
      if (typeof params.be !== 'string' || params.be === '') throw new BeError('E_USAGE', 'be: the boot environment to assign is required');
      const result = await bootPxe(supervisor.config, host.name, params.be, async () => {
        await info.reload();
        return true;
      });
      return {
        host: result.host,
        be: result.be,
        madePxeBootable: result.shared !== undefined,
        ...(result.shared?.exportsNotRunning ? { warning: result.shared.exportsNotRunning } : {}),
      };
    }),
  ];
  return () => {
    for (const unregister of registrations) unregister();
  };
}
