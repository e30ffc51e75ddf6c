/**
 * `be bootpxe NAME --host H` assigns a host to a boot environment without editing the configuration
 * file (which may be read-only): the assignment lives in the state file and overrides hosts[].be in
 * the effective configuration every command and the appliance use.
 */
import type { Config } from '../config/schema.js';

export function applyAssignments(config: Config, assignments: Readonly<Record<string, string>>): Config {
  if (Object.keys(assignments).length === 0) return config;
  return { ...config, hosts: config.hosts.map((host) => (assignments[host.name] ? { ...host, be: assignments[host.name] } : host)) };
}
