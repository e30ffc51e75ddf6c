/**
 * A guest's settings come from three layers: the `bhyve` section (defaults), the host's entry in
 * hosts[] (`boot: bhyve`, with its own `bhyve` overrides), and the flags of `be bootnfs`. Pure: what
 * needs the machine (the handle, the release read from the BE) is added by services/bhyve/prepare.ts.
 */
import type { Config, HostConfig } from '../config/schema.js';
import { prefixToMask, parseCidr } from '../net.js';
import { GuestError } from './guest.js';

export interface GuestFlags {
  vm?: string;
  mac?: string;
  ip?: string;
  netmask?: string;
  gateway?: string;
  memory?: string;
  cpus?: number;
  tap?: string;
  bridge?: string;
  console?: string;
}

export interface GuestSettings {
  vm: string;
  be: string;
  mac: string;
  ip: string;
  netmask: string;
  gateway: string | undefined;
  memory: string;
  cpus: number;
  tap: string;
  bridge: string | null;
  console: string;
  nic: 'auto' | 'virtio-net' | 'e1000';
  release: string | null;
  nfsOptions: string | null;
  env: Record<string, string>;
}

/** The hosts that are bhyve guests, in hosts[] order: their place gives the default tap (tap0, tap1...). */
export function bhyveHosts(config: Config): HostConfig[] {
  return config.hosts.filter((h) => h.boot === 'bhyve');
}

export function resolveGuestSettings(config: Config, be: string, host: HostConfig | undefined, flags: GuestFlags = {}): GuestSettings {
  const own = host?.bhyve ?? {};
  const defaults = config.bhyve;
  const vm = flags.vm ?? own.vm ?? host?.name;
  if (!vm) throw new GuestError('no VM name: pass --vm NAME or name a host from hosts[]');
  const mac = flags.mac ?? host?.mac;
  if (!mac) throw new GuestError(`no MAC address for ${vm}: pass --mac or give the host a mac in hosts[]`);
  const ip = flags.ip ?? host?.ip;
  if (!ip) throw new GuestError(`no IP address for ${vm}: pass --ip or give the host an ip in hosts[]`);
  let netmask = flags.netmask ?? own.netmask ?? defaults.netmask ?? undefined;
  if (!netmask && config.nfs.network) netmask = prefixToMask(parseCidr(config.nfs.network).prefix);
  if (!netmask) throw new GuestError(`no netmask for ${vm}: pass --netmask, or set bhyve.netmask or nfs.network`);
  const place = host ? bhyveHosts(config).findIndex((h) => h.name === host.name) : -1;
  return {
    vm,
    be,
    mac,
    ip,
    netmask,
    gateway: flags.gateway ?? own.gateway ?? defaults.gateway ?? undefined,
    memory: flags.memory ?? own.memory ?? defaults.memory,
    cpus: flags.cpus ?? own.cpus ?? defaults.cpus,
    tap: flags.tap ?? own.tap ?? `tap${Math.max(place, 0)}`,
    bridge: flags.bridge ?? own.bridge ?? defaults.bridge,
    console: flags.console ?? own.console ?? defaults.console,
    nic: own.nic ?? defaults.nic,
    release: own.release ?? null,
    nfsOptions: own.nfsOptions ?? defaults.nfsOptions,
    env: { ...defaults.env, ...own.env },
  };
}
