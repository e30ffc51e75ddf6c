/** `be wol TARGET...`: each target is a MAC address or the name of a host in hosts[]. */
import type { HostConfig } from '../config/schema.js';
import { BeError } from '../errors.js';
import { formatMac, macFormsHelp, parseMac } from '../mac.js';

export interface WakeTarget {
  mac: string;
  /** The host's name when the target was given by name. */
  host?: string;
}

export function resolveWakeTarget(target: string, hosts: readonly Pick<HostConfig, 'name' | 'mac'>[]): WakeTarget {
  const host = hosts.find((h) => h.name === target);
  if (host) return { mac: host.mac, host: host.name };
  const mac = parseMac(target);
  if (mac) return { mac: formatMac(mac) };
  // Only hex digits and MAC separators: the user meant a MAC address and mistyped it.
  if (/^[0-9a-f:.-]+$/i.test(target) && /[:.-]|^[0-9a-f]{10,}$/i.test(target)) {
    throw new BeError('E_MAC', `not a MAC address: ${JSON.stringify(target)} (use ${macFormsHelp})`);
  }
  const known = hosts.map((h) => h.name);
  throw new BeError(
    'E_HOST',
    `unknown host ${JSON.stringify(target)}: ${known.length ? `known hosts are ${known.join(', ')}` : 'hosts[] is empty'}; or give a MAC address`,
  );
}
