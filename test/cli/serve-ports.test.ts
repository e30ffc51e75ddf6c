/**
 * `be serve` on the embedded default binds DHCP (67, and 4011 in proxy mode) and TFTP (69), so these
 * run inside a namespace of their own: as root it starts every service; as an unprivileged user it
 * fails fast with one line naming the port and the fix, and never half-starts.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lan } from '../lan/netns.js';
import { needPeers } from '../lan/peers.js';
import { serveBe } from '../lan/serve.js';
import { beMain } from './be.js';

const peers = needPeers('be serve on privileged ports', ['ip', 'setpriv'], { root: true });
const nobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];

describe.skipIf(peers.skip)('be serve on the embedded default', () => {
  let lan: Lan;
  let state: string;
  let overrides: string[];
  beforeAll(() => {
    lan = Lan.create({ hosts: ['server'], subnet: '10.95.0' });
    state = mkdtempSync(join(tmpdir(), 'be-serve-ports-'));
    chmodSync(state, 0o777); // the unprivileged cases must get far enough to try binding
    overrides = ['--set', `server.stateDir=${state}`, '--set', `tftp.root=${state}`, '--set', `dhcp.leaseFile=${state}/dhcp.leases`];
  });
  afterAll(() => {
    lan?.close();
    rmSync(state, { recursive: true, force: true });
  });

  it('as root starts TFTP and proxyDHCP, and stops on SIGTERM with exit 0', async () => {
    const serve = await serveBe(lan, 'server', { args: overrides });
    const { out } = serve;
    const running = JSON.parse(await out.next(/appliance running/));
    expect(running.enabled).toEqual(['tftp', 'dhcp', 'control']);
    expect(out.lines.join('\n')).toMatch(/"config":"[^"]*config\/default\.yaml"/);
    const result = await serve.stop();
    expect(result.exitCode).toBe(0);
    expect(String(result.stderr)).toBe('');
    expect(out.lines.filter((line) => /service stopped/.test(line)).map((line) => JSON.parse(line).svc)).toEqual(['control', 'dhcp', 'tftp']);
  });

  it('as a user who may not bind port 69 fails with one line naming the port and the fix', async () => {
    const result = await lan.run('server', [...nobody, 'node', beMain, 'serve', ...overrides]);
    expect(result.exitCode).toBe(1);
    const lines = String(result.stderr).trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe(
      'be: tftp: cannot bind UDP 0.0.0.0:69: permission denied (port 69 is privileged): run as root or set tftp.port to 1024 or higher, e.g. --set tftp.port=6969',
    );
    expect(String(result.stdout)).not.toMatch(/appliance running/);
  });

  it('never half-starts: TFTP on a free port is closed again when DHCP cannot bind 67', async () => {
    const result = await lan.run('server', [...nobody, 'node', beMain, 'serve', ...overrides, '--set', 'tftp.port=6969']);
    expect(result.exitCode).toBe(1);
    const lines = String(result.stderr).trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^be: dhcp: cannot bind UDP 0\.0\.0\.0:67: permission denied \(.*\): run be as root/);
    const log = String(result.stdout);
    expect(log).toMatch(/"svc":"tftp".*"msg":"tftp listening"/);
    expect(log).toMatch(/"svc":"tftp".*"msg":"service stopped"/);
    expect(log).not.toMatch(/appliance running/);
  });
});
