import { describe, expect, it } from 'vitest';
import { resolveGuestSettings } from '../../../src/bhyve/settings.js';
import { configSchema } from '../../../src/config/schema.js';
import { shellCommand } from '../../../src/shell.js';

const config = configSchema.parse({
  nfs: { network: '10.99.0.0/24' },
  bhyve: { memory: '2G', env: { 'kern.hz': '100', 'a.b': 'default' } },
  hosts: [
    { name: 'pc', mac: '02:00:00:00:00:01', ip: '10.99.0.10' },
    { name: 'head', mac: '02:01:02:03:04:05', ip: '10.99.0.50', be: 'head', boot: 'bhyve', bhyve: { cpus: 4, env: { 'a.b': 'host' } } },
    { name: 'r74', mac: '02:00:00:00:00:74', ip: '10.99.0.74', be: 'r74', boot: 'bhyve', bhyve: { vm: 'old', release: '7.4-RELEASE' } },
  ],
});

describe('guest settings', () => {
  it('layer the bhyve section, the host and the flags', () => {
    const head = resolveGuestSettings(config, 'head', config.hosts[1], { memory: '512M' });
    expect(head).toEqual({
      vm: 'head',
      be: 'head',
      mac: '02:01:02:03:04:05',
      ip: '10.99.0.50',
      netmask: '255.255.255.0',
      gateway: undefined,
      memory: '512M',
      cpus: 4,
      tap: 'tap0',
      bridge: null,
      console: 'stdio',
      nic: 'auto',
      release: null,
      nfsOptions: null,
      env: { 'kern.hz': '100', 'a.b': 'host' },
    });
  });

  it('number taps by the place among bhyve hosts, and take vm and release from the host', () => {
    expect(resolveGuestSettings(config, 'r74', config.hosts[2])).toMatchObject({ vm: 'old', tap: 'tap1', release: '7.4-RELEASE', memory: '2G' });
  });

  it('need a name, a MAC, an IP and a netmask', () => {
    const bare = configSchema.parse({});
    expect(() => resolveGuestSettings(bare, 'x', undefined)).toThrow('no VM name: pass --vm NAME');
    expect(() => resolveGuestSettings(bare, 'x', undefined, { vm: 'x' })).toThrow('no MAC address for x');
    expect(() => resolveGuestSettings(bare, 'x', undefined, { vm: 'x', mac: '02:00:00:00:00:01' })).toThrow('no IP address for x');
    expect(() => resolveGuestSettings(bare, 'x', undefined, { vm: 'x', mac: '02:00:00:00:00:01', ip: '10.0.0.2' })).toThrow(
      'no netmask for x: pass --netmask, or set bhyve.netmask or nfs.network',
    );
  });
});

describe('shell quoting for --dry-run', () => {
  it('leaves plain words alone and single-quotes the rest', () => {
    expect(shellCommand(['bhyveload', '-e', 'boot.nfsroot.options=nfsv3,tcp', '-h', '/ROOT/my head', "it's"])).toBe(
      "bhyveload -e boot.nfsroot.options=nfsv3,tcp -h '/ROOT/my head' 'it'\\''s'",
    );
  });
});
