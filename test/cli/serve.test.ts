import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LineWatcher } from '../lan/lines.js';
import { be } from './be.js';

const dir = mkdtempSync(join(tmpdir(), 'be-cli-serve-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// No service may bind a privileged port here (this runs outside any namespace): the boot servers are
// off; the control socket and any state live in this test's own directory.
const quiet = ['--set', 'tftp.enabled=false', '--set', 'dhcp.enabled=false', '--set', `server.stateDir=${dir}`];

describe('be serve', () => {
  it('runs, reloads on SIGHUP, keeps running on a bad reload, and exits 0 on SIGTERM', async () => {
    const path = join(dir, 'be.yaml');
    writeFileSync(path, 'log:\n  level: info\n');
    const child = be(['-c', path, ...quiet, 'serve'], { timeout: 60_000 });
    const out = new LineWatcher(child.stdout);
    try {
      const running = JSON.parse(await out.next(/appliance running/));
      expect(running).toMatchObject({ level: 30, enabled: ['control'], msg: 'appliance running: control' });
      expect(running.pid).toBe(child.pid);

      const status = await be([...quiet, 'status', '--json']);
      expect(status.exitCode).toBe(0);
      expect(JSON.parse(String(status.stdout))).toMatchObject({ pid: child.pid, version: '0.1.0', config: path, services: ['control'] });
      expect(String((await be([...quiet, 'status'])).stdout)).toMatch(/^be 0\.1\.0, pid \d+, running since .*\nconfiguration: .*\nservices: control$/);

      writeFileSync(path, 'log:\n  level: debug\n');
      child.kill('SIGHUP');
      expect(JSON.parse(await out.next(/configuration reloaded/))).toMatchObject({ running: ['control'] });

      writeFileSync(path, 'log:\n  level: loud\n');
      child.kill('SIGHUP');
      const refused = JSON.parse(await out.next(/configuration refused/));
      expect(refused.err).toMatch(/log\.level = "loud"/);

      child.kill('SIGTERM');
      const result = await child;
      expect(result.exitCode).toBe(0);
      expect(String(result.stderr)).toBe('');
      expect(out.lines.some((line) => /"signal":"SIGTERM"/.test(line))).toBe(true);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('be status says in one line when no appliance runs', async () => {
    const result = await be([...quiet, '--set', `server.socket=${dir}/none.sock`, 'status']);
    expect(result.exitCode).toBe(1);
    expect(String(result.stderr)).toBe(`be: be serve is not running (nothing answers on ${dir}/none.sock)`);
  });

  it('runs with no services at all', async () => {
    const child = be([...quiet, '--set', 'server.control=false', 'serve']);
    const out = new LineWatcher(child.stdout);
    expect(JSON.parse(await out.next(/appliance running/))).toMatchObject({ enabled: [], msg: 'appliance running with no services enabled' });
    child.kill('SIGTERM');
    expect((await child).exitCode).toBe(0);
  });

  it('exits 0 on SIGINT', async () => {
    const child = be([...quiet, 'serve']);
    const out = new LineWatcher(child.stdout);
    await out.next(/appliance running/);
    child.kill('SIGINT');
    expect((await child).exitCode).toBe(0);
  });

  it('refuses an unknown --only service with one line', async () => {
    const result = await be([...quiet, 'serve', '--only', 'tftp,frob']);
    expect(result.exitCode).toBe(2);
    expect(String(result.stderr).trim()).toMatch(/^be: --only (tftp|frob): no such service \(known: /);
  });
});
