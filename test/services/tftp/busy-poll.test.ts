import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BusyPoll,
  busyPollMaxTransfers,
  SpinTrial,
  spinMustReach,
  spinTrialKeep,
  spinTrialSamples,
  spinTrialSettleMs,
} from '../../../services/tftp/busy-poll.js';
import { fetchFile } from './client.js';
import { startServer } from './harness.js';

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

describe('SpinTrial', () => {
  /** Round trips, each from `sleeping` or `spinning` ms according to the mode the trial asks for; returns how many spun. */
  function feed(trial: SpinTrial, count: number, sleeping: number, spinning: number): number {
    let spun = 0;
    for (let i = 0; i < count; i++) {
      if (trial.spinning) spun++;
      trial.roundTrip(trial.spinning ? spinning : sleeping);
    }
    return spun;
  }

  /** Feeds round trips until a trial ends; returns how many it took. */
  function untilDecided(trial: SpinTrial, sleeping: number, spinning: number): number {
    const before = trial.lastTrial;
    let count = 0;
    while (trial.lastTrial === before) {
      trial.roundTrip(trial.spinning ? spinning : sleeping);
      if (++count > 100_000) throw new Error('the trial never ended');
    }
    return count;
  }

  /** Round trips one mode of a trial takes: the settling ones, then the counted ones. */
  const modeLength = (ms: number) => Math.ceil(spinTrialSettleMs / ms) + spinTrialSamples;

  it('starts by sleeping, tries spinning after settling, and keeps spinning when it shortens the round trip', () => {
    const trial = new SpinTrial();
    expect(trial.spinning).toBe(false);
    feed(trial, modeLength(0.07), 0.07, 0.03);
    expect(trial.spinning).toBe(true);
    expect(untilDecided(trial, 0.07, 0.03)).toBe(modeLength(0.03));
    expect(trial.lastTrial).toEqual({ sleepMs: 0.07, spinMs: 0.03, spinning: true });
    expect(feed(trial, spinTrialKeep - 1, 0.07, 0.03)).toBe(spinTrialKeep - 1);
  });

  it('stops spinning when the client shares the core it would take (spinning slows the round trip)', () => {
    const trial = new SpinTrial();
    // iPXE under TCG in the PXE lab: ~0.1 ms a block sleeping, ~0.38 ms spinning.
    untilDecided(trial, 0.1, 0.38);
    expect(trial.lastTrial).toEqual({ sleepMs: 0.1, spinMs: 0.38, spinning: false });
    expect(feed(trial, spinTrialKeep, 0.1, 0.38)).toBe(0);
  });

  it('does not count the round trips right after a change of mode (a core that just spun is still awake)', () => {
    const trial = new SpinTrial();
    // Sleeping is as fast as spinning for its first 2 ms, then slower: only the settled round trips may count.
    let asleepFor = 0;
    while (!trial.spinning) {
      const ms = asleepFor < 2 ? 0.02 : 0.07;
      asleepFor += ms;
      trial.roundTrip(ms);
    }
    untilDecided(trial, 0.07, 0.03);
    expect(trial.lastTrial).toEqual({ sleepMs: 0.07, spinMs: 0.03, spinning: true });
  });

  it('gives a near tie to sleeping, since a busy core is a cost', () => {
    const trial = new SpinTrial();
    untilDecided(trial, 0.1, 0.1 * spinMustReach + 0.001);
    expect(trial.spinning).toBe(false);
  });

  it('decides on medians, so a few slow round trips do not', () => {
    const trial = new SpinTrial();
    feed(trial, modeLength(0.07) - spinTrialSamples, 0.07, 0.03);
    for (let i = 0; i < spinTrialSamples; i++) trial.roundTrip(i < 5 ? 50 : 0.07);
    feed(trial, modeLength(0.03) - spinTrialSamples, 0.07, 0.03);
    for (let i = 0; i < spinTrialSamples; i++) trial.roundTrip(i < 5 ? 50 : 0.03);
    expect(trial.lastTrial).toEqual({ sleepMs: 0.07, spinMs: 0.03, spinning: true });
  });

  it('stops spinning as soon as it has become slower than sleeping was (the scheduler moved the client onto its core)', () => {
    const trial = new SpinTrial();
    // The PXE lab: spinning looked faster in the trial, then the guest's round trips grew to ~0.47 ms.
    untilDecided(trial, 0.12, 0.09);
    expect(trial.lastTrial).toEqual({ sleepMs: 0.12, spinMs: 0.09, spinning: true });
    feed(trial, 100, 0.12, 0.09);
    expect(trial.spinning).toBe(true);
    const spun = feed(trial, spinTrialKeep - 200, 0.12, 0.47);
    expect(spun).toBeLessThanOrEqual(spinTrialSamples);
    expect(trial.lastTrial).toEqual({ sleepMs: 0.12, spinMs: 0.47, spinning: false });
  });

  it('tries again after keeping a choice, so a client whose conditions changed is re-measured', () => {
    const trial = new SpinTrial();
    untilDecided(trial, 0.1, 0.38);
    expect(trial.spinning).toBe(false);
    feed(trial, spinTrialKeep, 0.1, 0.38);
    // The machine got quieter: now spinning pays.
    untilDecided(trial, 0.07, 0.03);
    expect(trial.lastTrial).toEqual({ sleepMs: 0.07, spinMs: 0.03, spinning: true });
    expect(trial.spinning).toBe(true);
  });
});

describe('busy polling in a transfer', () => {
  /** Serves 1024 blocks of 512 bytes to our client; returns the trials the server logged. */
  async function trialsOf(busyPollMicros: number): Promise<Record<string, unknown>[]> {
    const harness = await startServer({ logLevel: 'debug', timing: { busyPollMicros } });
    try {
      const data = randomBytes(512 * 1024 + 100);
      writeFileSync(join(harness.root, 'file.bin'), data);
      const result = await fetchFile({ port: harness.port, file: 'file.bin', blksize: 512 });
      expect(result.data.equals(data)).toBe(true);
      return harness.logs.filter((line) => line.msg === 'busy-poll trial');
    } finally {
      await harness.close();
    }
  }

  it('measures its round trips in both modes and logs the choice', async () => {
    const trials = await trialsOf(1000);
    expect(trials.length).toBeGreaterThan(0);
    for (const trial of trials) {
      expect(trial.sleepMs).toBeGreaterThan(0);
      expect(trial.spinMs).toBeGreaterThan(0);
      expect(trial.spinning).toBe((trial.spinMs as number) <= (trial.sleepMs as number) * spinMustReach);
    }
  });

  it('runs no trial when tftp.busyPoll is 0', async () => {
    expect(await trialsOf(0)).toEqual([]);
  });
});
