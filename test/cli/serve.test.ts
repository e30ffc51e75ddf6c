import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LineWatcher } from '../lan/lines.js';
import { be } from './be.js';

const dir = mkdtempSync(join(tmpdir(), 'be-cli-serve-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// No service may bind a privileged port here (this runs outside any namespace): every service is off.
const quiet = ['--set', 'tftp.enabled=false', '--set', 'dhcp.enabled=false'];

describe('be serve', () => {
  it('runs, reloads on SIGHUP, keeps running on a bad reload, and exits 0 on SIGTERM', async () => {
    const path = join(dir, 'be.yaml');
    writeFileSync(path, 'log:\n  level: info\n');
    const child = be(['-c', path, ...quiet, 'serve'], { timeout: 60_000 });
    const out = new LineWatcher(child.stdout);
    try {
      const running = JSON.parse(await out.next(/appliance running/));
      expect(running).toMatchObject({ level: 30, enabled: [], msg: 'appliance running with no services enabled' });
      expect(running.pid).toBe(child.pid);

      writeFileSync(path, 'log:\n  level: debug\n');
      child.kill('SIGHUP');
      expect(JSON.parse(await out.next(/configuration reloaded/))).toMatchObject({ running: [] });

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
