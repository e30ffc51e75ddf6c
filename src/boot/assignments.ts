/**
 * `be bootpxe NAME --host H` assigns a host to a boot environment without editing the configuration
 * file (which may be read-only): the assignment lives in the state file and overrides hosts[].be in
 * the effective configuration every command and the appliance use.
 */
import type { Config } from '../config/schema.js';
import { BeError } from '../errors.js';

export function applyAssignments(config: Config, assignments: Readonly<Record<string, string>>): Config {
  if (Object.keys(assignments).length === 0) return config;
  return { ...config, hosts: config.hosts.map((host) => (assignments[host.name] ? { ...host, be: assignments[host.name] } : host)) };
}

/** The host named `name` in hosts[]; a BeError('E_HOST') listing the known names otherwise. */
export function requireHost(config: Config, name: string): Config['hosts'][number] {
  const host = config.hosts.find((h) => h.name === name);
  if (!host)
    throw new BeError(
      'E_HOST',
      `unknown host ${JSON.stringify(name)}: known hosts are ${config.hosts.map((h) => h.name).join(', ') || 'none (add it to hosts[])'}`,
    );
  return host;
}
