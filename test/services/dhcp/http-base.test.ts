import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/schema.js';
import { subnetOf, type ServedNetwork } from '../../../services/dhcp/network.js';
import { dhcpKind, serverOptions } from '../../../services/dhcp/service.js';
import { createLogger } from '../../../services/log.js';

const log = createLogger({ level: 'silent' });
const net: ServedNetwork = { address: '10.99.0.1', interface: 'eth0', subnet: subnetOf('10.99.0.0', 24), carrier: true };
const baseOf = (settings: Record<string, unknown>) => serverOptions(configSchema.parse(settings), log, net).policy.httpBaseUrl;

describe('dhcp.httpBaseUrl', () => {
  it('defaults to our HTTP service at the next-server address while http is enabled', () => {
    expect(baseOf({ http: { enabled: true } })).toBe('http://10.99.0.1:8080/');
    expect(baseOf({ http: { enabled: true, port: 80 } })).toBe('http://10.99.0.1:80/');
    expect(baseOf({ http: { enabled: true, address: '10.99.0.7' } })).toBe('http://10.99.0.7:8080/');
  });

  it('is null while http is off, and the configured URL whenever one is set', () => {
    expect(baseOf({})).toBeNull();
    expect(baseOf({ http: { enabled: true }, dhcp: { httpBaseUrl: 'http://boot.lan/be' } })).toBe('http://boot.lan/be');
  });

  it('a change of http.port restarts the DHCP server (its settings include it), a change of http.allow does not', () => {
    const a = configSchema.parse({ http: { enabled: true } });
    expect(dhcpKind.settings(configSchema.parse({ http: { enabled: true, port: 8081 } }))).not.toEqual(dhcpKind.settings(a));
    expect(dhcpKind.settings(configSchema.parse({ http: { enabled: true, allow: ['10.0.0.0/8'] } }))).toEqual(dhcpKind.settings(a));
  });
});
