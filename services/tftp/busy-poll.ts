/**
 * Busy polling for lock-step transfers. After a DATA block goes out, the event loop keeps polling its
 * sockets without sleeping for a short while, so the client's ACK is picked up by a running thread
 * instead of waking a sleeping one. On a virtual machine a wake-up (an inter-processor interrupt and a VM
 * exit) takes longer than the rest of a block's round trip: measured by hand on the benchmark machine, one
 * curl at blksize 1468 went from about 10 MB/s to 18-24 MB/s (bench/RESULTS.md has the ratios to tftpd-hpa).
 * Linux offers the same trade for NIC queues (SO_BUSY_POLL); loopback and Node's dgram have no such knob.
 *
 * The cost is CPU: the thread stays busy while a transfer is waiting for its client, for at most the
 * window after each send. It polls only while few transfers run on the thread: with many, the loop is
 * rarely idle anyway, and a spinning thread takes the CPU the other transfers (and, in the benchmark,
 * the clients) need.
 *
 * Where the client shares the server's cores, the busy core is one the client needs, and spinning makes
 * the transfer slower, not faster: iPXE in QEMU (TCG, 2 cores) took its 8 MB kernel in 1.9-2.4 s with a
 * spin after every block and in 0.52-0.62 s without. Neither default suits both, so each transfer
 * measures which is faster for its own client (SpinTrial) and spins only when that pays.
 */

/** Above this many transfers on one thread, the loop does not spin. */
export const busyPollMaxTransfers = 2;

export class BusyPoll {
  private until = 0;
  private spinning = false;
  private active = 0;

  /** A transfer started (true) or ended (false) on this thread. */
  count(started: boolean): void {
    this.active += started ? 1 : -1;
  }

  /** A block went out: keep the loop awake for `windowMicros` (0: not at all), while few transfers run. */
  sent(windowMicros: number): void {
    if (windowMicros <= 0 || this.active > busyPollMaxTransfers) return;
    this.until = performance.now() + windowMicros / 1000;
    if (this.spinning) return;
    this.spinning = true;
    // A pending immediate makes libuv poll for I/O with a zero timeout instead of sleeping.
    setImmediate(this.spin);
  }

  private readonly spin = (): void => {
    if (performance.now() < this.until && this.active > 0 && this.active <= busyPollMaxTransfers) setImmediate(this.spin);
    else this.spinning = false;
  };
}

/** This thread's poller: module state is per thread, and so is each worker thread's event loop. */
export const threadBusyPoll = new BusyPoll();

/** Round trips measured in each mode of a trial. */
export const spinTrialSamples = 32;
/** Round trips the winner of a trial is kept for before the next trial: a client's conditions change (load, other transfers). */
export const spinTrialKeep = 8192;
/**
 * Milliseconds of round trips at the start of each mode that are not counted: just after spinning, the
 * core is still awake and sleeping looks as fast as spinning (measured: ~20 µs round trips for the first
 * 32 blocks after a spin, 55-105 µs once settled), until the hypervisor lets the idle vCPU halt.
 */
export const spinTrialSettleMs = 5;
/** Spinning must cut the median round trip to at most this share of sleeping's: a busy core is a cost, a tie goes to sleeping. */
export const spinMustReach = 0.8;

/**
 * Decides, for one transfer, whether busy polling shortens its round trips (a block sent to the ACK that
 * moves the window): spinTrialSamples round trips sleeping, then as many spinning, each mode after
 * spinTrialSettleMs of settling, then the faster mode for the next spinTrialKeep, then a new trial.
 * Medians, so one slow disk read or a descheduled client does not decide it. While it keeps spinning it
 * goes on measuring, and stops as soon as spinTrialSamples round trips are slower than sleeping's were:
 * in the PXE lab a 3 ms trial could not see what spinning did to QEMU over seconds (90 µs round trips in
 * the trial, 466 µs over the whole kernel, against 80-140 µs asleep), once the scheduler had put the
 * spinning thread on the core the guest needed.
 * Pure: the caller measures the round trips.
 */
export class SpinTrial {
  private phase: 'sleep' | 'spin' | 'keep' = 'sleep';
  private samples: number[] = [];
  /** Round-trip time spent in the current mode before its samples count (spinTrialSettleMs). */
  private settled = 0;
  private sleepMedian = 0;
  private kept = 0;
  /** Whether the transfer should spin after its next send. */
  spinning = false;

  /** The outcome of the last trial or check, for the log: medians in ms, or undefined while the first trial runs. */
  lastTrial: { sleepMs: number; spinMs: number; spinning: boolean } | undefined;

  /** One measured round trip, in milliseconds, taken in the mode `spinning` said. */
  roundTrip(ms: number): void {
    if (this.phase === 'keep') {
      if (this.spinning) this.checkSpinning(ms);
      if (++this.kept < spinTrialKeep) return;
      this.startMode('sleep');
      return;
    }
    if (this.settled < spinTrialSettleMs) {
      this.settled += ms;
      return;
    }
    const median = this.collect(ms);
    if (median === undefined) return;
    if (this.phase === 'sleep') {
      this.sleepMedian = median;
      this.startMode('spin');
      return;
    }
    this.spinning = median <= this.sleepMedian * spinMustReach;
    this.lastTrial = { sleepMs: this.sleepMedian, spinMs: median, spinning: this.spinning };
    this.phase = 'keep';
    this.kept = 0;
  }

  /** While spinning is kept: back to sleeping when it has become slower than sleeping was. */
  private checkSpinning(ms: number): void {
    const median = this.collect(ms);
    if (median === undefined || median <= this.sleepMedian) return;
    this.spinning = false;
    this.lastTrial = { sleepMs: this.sleepMedian, spinMs: median, spinning: false };
  }

  private startMode(phase: 'sleep' | 'spin'): void {
    this.phase = phase;
    this.spinning = phase === 'spin';
    this.settled = 0;
    this.samples = [];
  }

  /** Adds a sample; the median once spinTrialSamples are in (and a fresh start), else undefined. */
  private collect(ms: number): number | undefined {
    this.samples.push(ms);
    if (this.samples.length < spinTrialSamples) return undefined;
    const median = this.samples.sort((a, b) => a - b)[this.samples.length >> 1]!;
    this.samples = [];
    return median;
  }
}
