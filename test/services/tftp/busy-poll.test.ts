import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { BusyPoll, busyPollMaxTransfers } from '../../../services/tftp/busy-poll.js';

/** The share of `ms` the event loop spent running rather than sleeping in the poll phase. */
async function utilisation(ms: number, during: () => void): Promise<number> {
  const before = performance.eventLoopUtilization();
  during();
  await sleep(ms);
  return performance.eventLoopUtilization(before).utilization;
}

describe('BusyPoll', () => {
  it('keeps the event loop awake for the window after a send, then lets it sleep', async () => {
    const poll = new BusyPoll();
    poll.count(true);
    const busy = await utilisation(20, () => poll.sent(30_000));
    await sleep(15); // the 30 ms window ends
    const idle = await utilisation(20, () => {});
    poll.count(false);
    expect(busy).toBeGreaterThan(0.8);
    expect(idle).toBeLessThan(0.5);
  });

  it('does not spin when it is off or when more transfers run than it polls for', async () => {
    const off = new BusyPoll();
    off.count(true);
    const crowded = new BusyPoll();
    for (let i = 0; i <= busyPollMaxTransfers; i++) crowded.count(true);
    const withOff = await utilisation(20, () => off.sent(0));
    const withCrowd = await utilisation(20, () => crowded.sent(30_000));
    expect(withOff).toBeLessThan(0.5);
    expect(withCrowd).toBeLessThan(0.5);
  });

  it('stops spinning as soon as the last transfer ends', async () => {
    const poll = new BusyPoll();
    poll.count(true);
    poll.sent(60_000);
    await sleep(5);
    poll.count(false);
    await sleep(2);
    expect(await utilisation(20, () => {})).toBeLessThan(0.5);
  });
});
