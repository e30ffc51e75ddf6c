/**
 * The vmtab: `be serve` starts autostart guests and supervises them; `be vm list|start|stop` talk to it
 * over the control socket. bhyve is a stand-in (FreeBSD only) that runs until signalled.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { LineWatcher } from '../lan/lines.js';
import { waitFor } from '../lan/wait.js';
import { BhyveStandIns } from '../services/bhyve/stand-ins.js';
import { be } from './be.js';
import { guestFixture } from './guest-fixture.js';

const fixture = guestFixture('vmtab', { autostart: 'true', 'bhyve.console': '/dev/nmdm0A' });
const fakes = new BhyveStandIns();
afterAll(() => {
  fixture.remove();
  fakes.remove();
});

const serveFlags = [...fixture.settings, '--set', 'tftp.enabled=false', '--set', 'dhcp.enabled=false'];

async function vmList() {
  const result = await be([...serveFlags, 'vm', 'list', '--json']);
  expect(result.exitCode).toBe(0);
  return JSON.parse(String(result.stdout)) as { vm: string; state: string; boots: number }[];
}

describe('be serve runs the vmtab', () => {
  it('starts an autostart guest, stops and starts it on command, and stops it with the appliance', async () => {
    fakes.queue('bhyve', 'hang', 'hang');
    const serve = be([...serveFlags, 'serve'], { env: fakes.env, timeout: 60_000 });
    const out = new LineWatcher(serve.stdout);
    try {
      expect(JSON.parse(await out.next(/appliance running/)).enabled).toEqual(['exports', 'guests', 'control']);
      await out.next(/"msg":"guest head running"/);
      expect(await vmList()).toMatchObject([{ vm: 'head', state: 'running', boots: 1 }]);

      const stopped = await be([...serveFlags, 'vm', 'stop', 'head']);
      expect(stopped.exitCode).toBe(0);
      expect(String(stopped.stdout)).toMatch(/^head\tstopped\thead\tboots 1\t/);

      const again = await be([...serveFlags, 'vm', 'start', 'head'], { env: fakes.env });
      expect(again.exitCode).toBe(0);
      await waitFor(async () => (await vmList())[0]?.state === 'running', 'guest head running again', { intervalMs: 50 });
      expect(await vmList()).toMatchObject([{ vm: 'head', state: 'running', boots: 2 }]);

      const twice = await be([...serveFlags, 'vm', 'start', 'head']);
      expect(twice.exitCode).toBe(2);
      expect(String(twice.stderr)).toBe('be: guest head is already running');
      const unknown = await be([...serveFlags, 'vm', 'stop', 'tail']);
      expect(String(unknown.stderr)).toBe('be: no guest named "tail" (guests: head)');

      serve.kill('SIGTERM');
      expect((await serve).exitCode).toBe(0);
      const destroy = 'bhyvectl --vm=head --destroy';
      const calls = fakes.calls();
      expect(calls.filter((c) => c === destroy)).toHaveLength(4); // before and after each of the two runs
      expect(calls.filter((c) => c.startsWith('bhyve '))).toHaveLength(2);
      expect(calls.at(-1)).toBe(destroy);
      expect(out.lines.filter((l) => /"msg":"guest head /.test(l)).map((l) => JSON.parse(l).state)).toEqual([
        'preparing',
        'loading',
        'running',
        'stopping',
        'stopped',
        'preparing',
        'loading',
        'running',
        'stopping',
        'stopped',
      ]);
    } finally {
      serve.kill('SIGKILL');
    }
  });

  it('refuses to run a guest on the console of be serve', async () => {
    const result = await be([...serveFlags, '--set', 'hosts.0.bhyve.console=stdio', 'serve']);
    expect(result.exitCode).toBe(2);
    expect(String(result.stderr)).toBe('be: hosts head: a guest run by be serve needs a null-modem console (hosts[].bhyve.console: /dev/nmdm0A), not stdio');
  });
});
