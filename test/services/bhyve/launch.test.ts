import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { bhyveArgv, bhyveloadArgv, validateGuest, type GuestSpec } from '../../../src/bhyve/guest.js';
import { runGuest } from '../../../services/bhyve/launch.js';
import { createLogger } from '../../../services/log.js';
import { BhyveStandIns, isRunning } from './stand-ins.js';
import { waitFor } from '../../lan/wait.js';

const fakes = new BhyveStandIns();
afterAll(() => fakes.remove());
beforeEach(() => fakes.reset());

const spec = validateGuest({
  vm: 'head',
  hostPath: '/ROOT/head',
  server: '10.99.0.1',
  exportPath: '/ROOT/head',
  handle: Buffer.alloc(28, 7),
  nfsVersion: 3,
  mac: '02:01:02:03:04:05',
  ip: '10.99.0.50',
  netmask: '255.255.255.0',
  nic: 'virtio-net',
  tap: 'tap7',
  memory: '512M',
  cpus: 1,
  console: '/dev/nmdm7A',
  env: {},
} satisfies GuestSpec);

const log = createLogger({ level: 'silent' });
const load = bhyveloadArgv(spec).join(' ');
const run = bhyveArgv(spec).join(' ');
const destroy = 'bhyvectl --vm=head --destroy';

describe('the bhyve launch loop (against stand-ins for FreeBSD tools)', () => {
  it('loads again after each reboot, stops when powered off, and destroys the VM', async () => {
    fakes.queue('bhyve', 0, 0, 1);
    const states: string[] = [];
    const result = await runGuest(spec, { log, env: fakes.env, onState: (s) => states.push(s) });
    expect(result).toEqual({ outcome: 'powered-off', status: 1, boots: 3 });
    expect(fakes.calls()).toEqual([destroy, load, run, load, run, load, run, destroy]);
    expect(states).toEqual(['loading', 'running', 'rebooting', 'loading', 'running', 'rebooting', 'loading', 'running', 'powered-off']);
  });

  it.each([
    [2, 'halted'],
    [3, 'triple-fault'],
    [4, 'error'],
    [134, 'error'],
  ] as const)('bhyve status %i ends the loop as %s, and the VM is destroyed', async (status, outcome) => {
    fakes.queue('bhyve', status);
    expect(await runGuest(spec, { log, env: fakes.env })).toEqual({ outcome, status, boots: 1 });
    expect(fakes.calls()).toEqual([destroy, load, run, destroy]);
  });

  it('does not start bhyve when bhyveload fails', async () => {
    fakes.queue('bhyve', 0, 1);
    fakes.queue('bhyveload', 0, 1);
    expect(await runGuest(spec, { log, env: fakes.env })).toEqual({ outcome: 'loader-failed', status: 1, boots: 2 });
    expect(fakes.calls()).toEqual([destroy, load, run, load, destroy]);
  });

  it('stops a running guest when its signal aborts, and still destroys it', async () => {
    fakes.queue('bhyve', 'hang');
    const controller = new AbortController();
    const running = runGuest(spec, { log, env: fakes.env, signal: controller.signal });
    await waitFor(() => isRunning(fakes, 'bhyve'), 'the bhyve stand-in running', { intervalMs: 20 });
    controller.abort();
    expect(await running).toEqual({ outcome: 'stopped', status: undefined, boots: 1 });
    expect(fakes.calls()).toEqual([destroy, load, run, destroy]);
  });
});
